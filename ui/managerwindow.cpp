#include "managerwindow.h"

#include "appspage.h"
#include "domain/snapshot.h"
#include "engine/engine.h"
#include "models/requestlogmodel.h"
#include "preferences.h"
#include "requestspage.h"
#include "service/configservice.h"
#include "settingspage.h"
#include "upstreamspage.h"
#include "usagepage.h"

#include <QCloseEvent>
#include <QLabel>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

namespace route {

ManagerWindow::ManagerWindow(Engine *engine, std::shared_ptr<DbConnection> db, RequestLogModel *log, QWidget *parent)
    : QMainWindow(parent)
    , m_engine(engine)
    , m_log(log)
    , m_service(new ConfigService(db, engine->snapshots(), engine->health(), nullptr, this))
    , m_tabs(new QTabWidget)
    , m_upstreams(new UpstreamsPage(engine, db, m_service))
    , m_requests(new RequestsPage(engine, log))
    , m_settings(new SettingsPage(engine, m_service))
    , m_apps(new AppsPage(engine, db, m_service))
    , m_usage(new UsagePage(engine, db))
    , m_status(new QLabel)
    , m_exposure(new QLabel)
{
    setWindowTitle(tr("openai-api-route"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/openai-api-route.svg")));
    m_tabs->addTab(m_upstreams, tr("&Upstreams"));
    m_tabs->addTab(m_requests, tr("&Requests"));
    m_tabs->addTab(m_apps, tr("&Apps"));
    m_tabs->addTab(m_usage, tr("Usa&ge"));
    m_tabs->addTab(m_settings, tr("&Settings"));
    setCentralWidget(m_tabs);
    statusBar()->addWidget(m_status, 1);
    // Listening beyond loopback (SPEC §13): said where the user looks, in
    // the colour of a warning when authentication is off.
    m_exposure->setWordWrap(true);
    statusBar()->addPermanentWidget(m_exposure);

    const QByteArray geometry = Preferences::value(Preferences::Key::WindowGeometry).toByteArray();
    if (geometry.isEmpty() || !restoreGeometry(geometry))
        resize(1000, 560);

    connect(engine, &Engine::healthChanged, this, &ManagerWindow::updateStatus);
    connect(engine, &Engine::pausedChanged, this, &ManagerWindow::updateStatus);
    connect(engine, &Engine::listeningOn, this, &ManagerWindow::updateStatus);
    connect(engine->snapshots(), &SnapshotHolder::changed, this, &ManagerWindow::updateStatus, Qt::QueuedConnection);
    auto *timer = new QTimer(this);
    connect(timer, &QTimer::timeout, this, &ManagerWindow::updateStatus);
    timer->start(5000);
    updateStatus();
}

void ManagerWindow::updateStatus()
{
    const Engine::Availability available = m_engine->availability();
    const QString state = !m_engine->isRunning() ? tr("stopped") : m_engine->isPaused() ? tr("paused") : tr("serving");
    m_status->setText(tr("%1 on %2 · %3 of %4 upstreams healthy · %5 requests in the last minute")
                          .arg(state, m_engine->baseUrl())
                          .arg(available.healthy)
                          .arg(available.enabled)
                          .arg(m_log->requestsLastMinute()));
    const QString exposure = m_engine->exposureWarning();
    m_exposure->setVisible(!exposure.isEmpty());
    m_exposure->setText(exposure);
    m_exposure->setStyleSheet(
        m_engine->options().noAuth ? QStringLiteral("color: #b00020; font-weight: bold;") : QString());
}

void ManagerWindow::closeEvent(QCloseEvent *event)
{
    Preferences::setValue(Preferences::Key::WindowGeometry, saveGeometry());
    if (m_quitOnClose)
        Q_EMIT quitRequested();
    event->accept();
}

} // namespace route
