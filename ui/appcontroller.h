#pragma once

#include "store/database.h"

#include <QObject>
#include <QPointer>

#include <memory>

namespace route {

class Engine;
class ManagerWindow;
class RequestLogModel;
class TrayController;

// The desktop front end: tray icon, manager window and request log, on top
// of a running Engine. Falls back to the window when there is no tray.
class AppController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AppController)
public:
    AppController(Engine *engine, const DatabaseConfig &database, QObject *parent = nullptr);
    ~AppController() override;

    // Shows the tray icon (or, without a tray, the window). False when the
    // GUI's own database connection cannot be opened.
    bool start(QString *error);
    bool hasTray() const { return m_hasTray; }
    ManagerWindow *window();
    TrayController *tray() const { return m_tray; }
    RequestLogModel *log() const { return m_log; }

public Q_SLOTS:
    void showWindow();

Q_SIGNALS:
    void quitRequested();

private:
    Engine *m_engine;
    DatabaseConfig m_database;
    std::shared_ptr<DbConnection> m_db;
    RequestLogModel *m_log;
    TrayController *m_tray = nullptr;
    QPointer<ManagerWindow> m_window;
    bool m_hasTray = false;
};

} // namespace route
