#pragma once

#include <QObject>

class Engine;
class QMenu;
class QSystemTrayIcon;

// The tray icon and its menu: copy the base URL or the token, quit. The
// manager window and live state come with the desktop issue.
class TrayController : public QObject
{
    Q_OBJECT
public:
    explicit TrayController(Engine *engine, QObject *parent = nullptr);
    ~TrayController() override;

    // False when the desktop has no system tray.
    bool show();

Q_SIGNALS:
    void quitRequested();

private:
    void copyBaseUrl();
    void copyToken();

    Engine *m_engine;
    QMenu *m_menu;
    QSystemTrayIcon *m_tray;
};
