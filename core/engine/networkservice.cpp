#include "engine/networkservice.h"

#include "alerts/webhooknotifier.h"
#include "balancer/affinity.h"
#include "balancer/balancer.h"
#include "balancer/health.h"
#include "catalog/catalogrefresher.h"
#include "engine/networkworker.h"
#include "http/httplistener.h"
#include "limits/applimits.h"
#include "limits/sharedlimits.h"
#include "metrics/metrics.h"
#include "net/epolldispatcher.h"
#include "store/tokenrepository.h"
#include "util/logging.h"

#include <QThread>

namespace route {

NetworkService::NetworkService(const EngineOptions &options, SnapshotHolder *snapshots, BackgroundStore *records)
    : m_options(options), m_snapshots(snapshots), m_records(records)
{ }

NetworkService::~NetworkService()
{
    delete m_listener;
    m_listener = nullptr;
    stopWorkers();
}

void NetworkService::stopWorkers()
{
    for (QThread *t : std::as_const(m_threads)) {
        t->quit();
        t->wait();
        delete t;
    }
    m_threads.clear();
    m_workers.clear(); // deleted on their threads when those finished
}

bool NetworkService::start(QString *error, const std::atomic<bool> *paused)
{
    m_health = new HealthTracker(m_options.health, m_options.clock, this);
    m_affinity = std::make_unique<AffinityTable>(m_options.clock);
    m_affinity->setBindListener(m_sessionListener);
    m_balancer = std::make_unique<Balancer>(m_health, m_affinity.get());
    m_metrics = std::make_unique<Metrics>();
    m_limits = std::make_unique<AppLimits>(m_options.clock);
    seedLimits();
    m_metrics->setAffinity(m_affinity.get());
    auto *alerts = new WebhookNotifier(m_snapshots, m_health, this);
    // Health changes come from the workers' threads; alerts are sent from here.
    connect(m_health, &HealthTracker::stateChanged, alerts, &WebhookNotifier::onHealthChanged, Qt::QueuedConnection);
    SharedServices shared;
    shared.snapshots = m_snapshots;
    shared.records = m_records;
    shared.health = m_health;
    shared.balancer = m_balancer.get();
    shared.affinity = m_affinity.get();
    shared.metrics = m_metrics.get();
    shared.limits = m_limits.get();
    if (m_options.database.kind == DatabaseConfig::Kind::Postgres) {
        m_sharedLimits = std::make_unique<SharedLimits>(m_options.database, m_limits.get());
        if (!m_sharedLimits->start(error))
            return false;
        shared.sharedLimits = m_sharedLimits.get();
    }
    shared.paused = paused;
    m_loopback = m_options.address.isLoopback();
    shared.loopback = &m_loopback;
    shared.totalInFlight = [this] { return inFlight(); };
    if (m_options.fetchModels) {
        m_catalog = new CatalogRefresher(m_options.database, m_snapshots, this);
        m_catalog->setFirstRetryMs(m_options.modelsFirstRetryMs);
        shared.catalogPending = m_catalog->pending();
    }

    // Two per core: when one is descheduled (the machine runs other work),
    // its connections do not all wait for it. Measured on 2 cores: +10 %
    // requests/s and a third less time to first byte in a burst of streams
    // than one per core; idle workers cost only a sleeping thread.
    int count = m_options.workers > 0 ? m_options.workers : qBound(2, 2 * QThread::idealThreadCount(), 16);
    // ROUTE_WORKERS overrides it: a container limited to fewer cores than it
    // can see, or measuring.
    if (const int fromEnv = qEnvironmentVariableIntValue("ROUTE_WORKERS"); fromEnv > 0)
        count = qMin(fromEnv, 64);
    for (int i = 0; i < count; ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("route-worker-%1").arg(i));
        useNetworkEventDispatcher(thread);
        auto *worker = new NetworkWorker(m_options, shared);
        worker->moveToThread(thread);
        connect(thread, &QThread::finished, worker, &QObject::deleteLater);
        connect(worker, &NetworkWorker::idle, this, &NetworkService::checkDrained, Qt::QueuedConnection);
        thread->start();
        m_threads << thread;
        m_workers << worker;
        bool ok = false;
        QMetaObject::invokeMethod(
            worker, [&] { ok = worker->setup(error); }, Qt::BlockingQueuedConnection);
        if (!ok)
            return false;
    }
    m_listener = makeListener();
    if (!m_listener->listen(m_options.address, m_options.port)) {
        *error = m_listener->errorString();
        return false;
    }
    if (m_catalog && !m_catalog->start(error))
        return false;
    qCDebug(lcEngine) << "serving with" << count << "network workers";
    return true;
}

// What app tokens spent so far today and this month, from the records: a
// restart does not reset a limit.
void NetworkService::seedLimits()
{
    auto conn = DbConnection::open(m_options.database, QStringLiteral("limits"));
    if (!conn) {
        qCWarning(lcEngine) << "cannot read what the app tokens spent:" << conn.error();
        return;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    m_limits->seed(TokenRepository(conn.value()->db()).spend(now), now);
}

HttpListener *NetworkService::makeListener()
{
    return new HttpListener([this](qintptr descriptor) { dispatch(descriptor); }, this);
}

void NetworkService::dispatch(qintptr descriptor)
{
    // The worker with the fewest open connections; ties go round.
    NetworkWorker *best = nullptr;
    for (int i = 0; i < m_workers.size(); ++i) {
        NetworkWorker *w = m_workers[(m_next + i) % m_workers.size()];
        if (!best || w->openConnections() < best->openConnections())
            best = w;
    }
    m_next = (m_next + 1) % int(m_workers.size());
    QMetaObject::invokeMethod(
        best, [best, descriptor] { best->adopt(descriptor); }, Qt::QueuedConnection);
}

bool NetworkService::relisten(const QHostAddress &address, quint16 port, QString *error)
{
    HttpListener *next = makeListener();
    if (!next->listen(address, port)) {
        *error = next->errorString();
        delete next;
        return false;
    }
    delete m_listener; // connections live in the workers and go on
    m_listener = next;
    m_loopback = address.isLoopback();
    m_options.address = address;
    m_options.port = port;
    return true;
}

quint16 NetworkService::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

int NetworkService::inFlight() const
{
    int n = 0;
    for (const NetworkWorker *w : m_workers)
        n += w->inFlight();
    return n;
}

void NetworkService::beginStop()
{
    m_stopping = true;
    if (m_listener)
        m_listener->close();
    for (NetworkWorker *w : std::as_const(m_workers))
        QMetaObject::invokeMethod(w, &NetworkWorker::beginStop, Qt::QueuedConnection);
    checkDrained();
}

void NetworkService::checkDrained()
{
    if (!m_stopping)
        return;
    for (const NetworkWorker *w : std::as_const(m_workers))
        if (w->openConnections() > 0 || w->inFlight() > 0)
            return;
    Q_EMIT drained();
}

} // namespace route
