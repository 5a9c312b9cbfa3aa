#pragma once

#include <QMainWindow>

#include <memory>

class QLabel;
class QTabWidget;

namespace route {

class ConfigService;
class DbConnection;
class Engine;
class RequestLogModel;
class RequestsPage;
class SettingsPage;
class AppsPage;
class UsagePage;
class UpstreamsPage;

// The manager: upstreams, live requests, settings, and a status bar.
class ManagerWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ManagerWindow)
public:
    ManagerWindow(Engine *engine, std::shared_ptr<DbConnection> db, RequestLogModel *log, QWidget *parent = nullptr);

    // The GUI thread's way to change upstreams, tokens and settings.
    ConfigService *service() const { return m_service; }
    UpstreamsPage *upstreams() const { return m_upstreams; }
    RequestsPage *requests() const { return m_requests; }
    SettingsPage *settings() const { return m_settings; }
    AppsPage *apps() const { return m_apps; }
    UsagePage *usage() const { return m_usage; }
    QLabel *exposureLabel() const { return m_exposure; }
    QTabWidget *tabs() const { return m_tabs; }
    // Closing hides the window when a tray icon keeps the app; otherwise it quits.
    void setQuitOnClose(bool quit) { m_quitOnClose = quit; }
    void updateStatus();

Q_SIGNALS:
    void quitRequested();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    Engine *m_engine;
    RequestLogModel *m_log;
    ConfigService *m_service;
    QTabWidget *m_tabs;
    UpstreamsPage *m_upstreams;
    RequestsPage *m_requests;
    SettingsPage *m_settings;
    AppsPage *m_apps;
    UsagePage *m_usage;
    QLabel *m_status;
    QLabel *m_exposure; // listening beyond loopback: what that means
    bool m_quitOnClose = false;
};

} // namespace route
