#include "engine/engine.h"
#include "store/snapshotloader.h"

#include "balancer/affinity.h"
#include "domain/snapshot.h"
#include "engine/networkservice.h"
#include "net/epolldispatcher.h"
#include "store/backgroundstore.h"
#include "store/configrepository.h"
#include "store/migrations.h"
#include "util/logging.h"
#include "util/secrets.h"

#include <QTimer>

namespace route {

Engine::Engine(const EngineOptions &options, QObject *parent)
    : QObject(parent), m_options(options), m_snapshots(new SnapshotHolder(this))
{
    qRegisterMetaType<RequestRecord>();
    qRegisterMetaType<QList<RequestRecord>>();
    qRegisterMetaType<HealthState>();
    m_networkThread.setObjectName(QStringLiteral("route-network"));
    m_storeThread.setObjectName(QStringLiteral("route-store"));
}

Engine::~Engine()
{
    shutdownThreads();
}

Status Engine::prepareDatabase()
{
    auto opened = DbConnection::open(m_options.database, QStringLiteral("engine"));
    if (!opened)
        return Status::failure(opened.error());
    std::shared_ptr<DbConnection> conn = opened.take();
    if (Status migrated = Migrations::run(*conn); !migrated)
        return migrated;
    ConfigRepository config(conn->db());
    const QString tokens = config.value(ConfigKey::authorization).value_or(QString()).trimmed();
    if (tokens.isEmpty()) {
        // Never a fixed default password: a fresh random token per database.
        m_generatedToken = Secrets::generateToken();
        if (!config.setValue(ConfigKey::authorization, m_generatedToken))
            return Status::failure(tr("cannot store the client token in %1").arg(m_options.database.describe()));
    }
    QString error;
    if (!reloadSnapshot(*m_snapshots, *conn, &error))
        return Status::failure(tr("cannot read the upstreams from %1: %2").arg(m_options.database.describe(), error));
    return {};
}

Status Engine::start()
{
    if (m_running)
        return {};
    if (Status prepared = prepareDatabase(); !prepared)
        return prepared;

    m_store = new BackgroundStore(m_options.database, m_snapshots);
    m_store->moveToThread(&m_storeThread);
    connect(&m_storeThread, &QThread::finished, m_store, &QObject::deleteLater);
    connect(m_store, &BackgroundStore::recorded, this, &Engine::recordsWritten);
    m_storeThread.start();
    bool storeOpen = false;
    QMetaObject::invokeMethod(
        m_store, [this, &storeOpen] { storeOpen = m_store->open(); }, Qt::BlockingQueuedConnection);
    if (!storeOpen) {
        shutdownThreads();
        return Status::failure(tr("cannot open database %1 for records").arg(m_options.database.describe()));
    }

    m_network = new NetworkService(m_options, m_snapshots, m_store);
    if (m_store->isShared()) {
        BackgroundStore *store = m_store;
        m_network->setSessionListener([store](const QByteArray &key, qint64 upstreamId) {
            QMetaObject::invokeMethod(
                store, [store, key, upstreamId] { store->publishSession(key, upstreamId); }, Qt::QueuedConnection);
        });
    }
    m_network->moveToThread(&m_networkThread);
    connect(&m_networkThread, &QThread::finished, m_network, &QObject::deleteLater);
    connect(m_network, &NetworkService::drained, this, &Engine::finishStop);
    useNetworkEventDispatcher(&m_networkThread);
    m_networkThread.start();
    bool listening = false;
    QString error;
    QMetaObject::invokeMethod(
        m_network,
        [this, &listening, &error] {
            listening = m_network->start(&error, &m_paused);
            m_port = m_network->port();
            m_health = m_network->health();
        },
        Qt::BlockingQueuedConnection);
    if (!listening) {
        shutdownThreads();
        return Status::failure(tr("cannot listen on %1: %2").arg(listenAddress(), error));
    }
    m_running = true;
    // Queued: the tracker lives on the network thread.
    connect(m_health, &HealthTracker::stateChanged, this, &Engine::healthChanged, Qt::QueuedConnection);
    if (m_store->isShared()) {
        shareHealth();
        shareSessions();
    }
    announceListening();
    return {};
}

// Team mode (SPEC §12): what this instance finds about an upstream goes to
// the others through the store's connection, and theirs comes back, so no
// instance spends its own requests finding a dead key again. Rests travel
// as time left, not as a clock time: the hosts' clocks need not agree.
void Engine::shareHealth()
{
    HealthTracker *health = m_health;
    BackgroundStore *store = m_store;
    // Runs on the store thread (the context), where the connection lives.
    connect(health, &HealthTracker::stateChanged, store,
        [health, store](qint64 id, HealthState state, const QString &reason, bool foundHere) {
            if (!foundHere || state == HealthState::HalfOpen)
                return;
            const UpstreamHealth now = health->health(id);
            if (now.state != state)
                return; // already moved on; its own change follows
            const qint64 restMs = state == HealthState::Healthy ? 0 : qMax<qint64>(0, now.untilMs - health->nowMs());
            store->publishHealth(id, UpstreamHealth::stateName(state), restMs, reason);
        });
    connect(store, &BackgroundStore::healthFound, health,
        [health](qint64 id, const QString &stateName, qint64 restMs, const QString &reason) {
            if (const auto state = UpstreamHealth::stateFromName(stateName))
                health->adopt(id, *state, restMs, reason, health->nowMs());
        });
}

// Team mode: a conversation keeps its key whichever instance the load
// balancer picks for its next turn, seconds later; a binding reaches the
// others in milliseconds (sent by the listener set in start()). Only new
// or moved bindings travel.
void Engine::shareSessions()
{
    AffinityTable *affinity = m_network->affinity();
    BackgroundStore *store = m_store;
    connect(store, &BackgroundStore::sessionBound, store,
        [affinity](const QByteArray &key, qint64 upstreamId) { affinity->adopt(key, upstreamId); });
}

void Engine::stop(int graceMs)
{
    if (!m_running || m_stopping)
        return;
    m_stopping = true;
    QMetaObject::invokeMethod(m_network, &NetworkService::beginStop, Qt::QueuedConnection);
    QTimer::singleShot(graceMs, this, [this] {
        if (m_running)
            qCWarning(lcEngine) << "requests still in flight after the grace period; closing them";
        finishStop();
    });
}

void Engine::finishStop()
{
    if (!m_running || !m_stopping)
        return;
    shutdownThreads();
    m_running = false;
    m_stopping = false;
    Q_EMIT stopped();
}

void Engine::shutdownThreads()
{
    if (m_networkThread.isRunning()) {
        m_networkThread.quit();
        m_networkThread.wait();
    }
    m_network = nullptr;
    m_health = nullptr;
    if (m_storeThread.isRunning()) {
        // The last records reach the database before the thread ends.
        QMetaObject::invokeMethod(m_store, &BackgroundStore::close, Qt::BlockingQueuedConnection);
        m_storeThread.quit();
        m_storeThread.wait();
    }
    m_store = nullptr;
}

QString Engine::listenAddress() const
{
    const QHostAddress &a = m_options.address;
    const quint16 port = m_port ? m_port : m_options.port;
    if (a == QHostAddress::Any || a == QHostAddress::AnyIPv4 || a == QHostAddress::AnyIPv6)
        return QStringLiteral(":%1").arg(port);
    if (a.protocol() == QAbstractSocket::IPv6Protocol)
        return QStringLiteral("[%1]:%2").arg(a.toString()).arg(port);
    return QStringLiteral("%1:%2").arg(a.toString()).arg(port);
}

void Engine::announceListening()
{
    qCDebug(lcEngine) << "listening on" << listenAddress();
    if (const QString warning = exposureWarning(); !warning.isEmpty())
        qCWarning(lcEngine).noquote() << warning;
    Q_EMIT listeningOn(baseUrl());
}

QString Engine::exposureWarning() const
{
    const QHostAddress &a = m_options.address;
    if (a.isLoopback())
        return QString();
    if (m_options.noAuth)
        return tr("Listening on %1 with authentication off (-noauth): anyone who can reach this machine "
                  "can spend your API keys through it. Use -addr 127.0.0.1:PORT, or drop -noauth.")
            .arg(listenAddress());
    return tr("Listening on %1: reachable from the network, not only from this machine; clients need the token.")
        .arg(listenAddress());
}

QString Engine::baseUrl() const
{
    const QHostAddress &a = m_options.address;
    QString host = a.toString();
    if (a == QHostAddress::Any || a == QHostAddress::AnyIPv4)
        host = QStringLiteral("127.0.0.1");
    else if (a == QHostAddress::AnyIPv6)
        host = QStringLiteral("[::1]");
    else if (a.protocol() == QAbstractSocket::IPv6Protocol)
        host = QStringLiteral("[%1]").arg(host);
    return QStringLiteral("http://%1:%2/v1").arg(host).arg(m_port);
}

Engine::Availability Engine::availability() const
{
    Availability a;
    for (const Upstream &u : m_snapshots->current()->upstreams) {
        if (!u.enabled)
            continue;
        ++a.enabled;
        if (!m_health || m_health->health(u.id).state == HealthState::Healthy)
            ++a.healthy;
    }
    return a;
}

void Engine::setPaused(bool paused)
{
    if (m_paused.exchange(paused) != paused)
        Q_EMIT pausedChanged(paused);
}

Status Engine::relisten(const QHostAddress &address, quint16 port)
{
    if (!m_running)
        return Status::failure(tr("the proxy is not running"));
    bool ok = false;
    QString error;
    quint16 bound = 0;
    QMetaObject::invokeMethod(
        m_network,
        [&] {
            ok = m_network->relisten(address, port, &error);
            bound = m_network->port();
        },
        Qt::BlockingQueuedConnection);
    if (!ok) {
        EngineOptions wanted = m_options;
        wanted.address = address;
        wanted.port = port;
        const QString where = address.protocol() == QAbstractSocket::IPv6Protocol
            ? QStringLiteral("[%1]:%2").arg(address.toString()).arg(port)
            : QStringLiteral("%1:%2").arg(address.toString()).arg(port);
        return Status::failure(tr("cannot listen on %1: %2").arg(where, error));
    }
    m_options.address = address;
    m_options.port = port;
    m_port = bound;
    announceListening();
    return {};
}

qint64 Engine::droppedRecords() const
{
    return m_store ? m_store->droppedRecords() : 0;
}

} // namespace route
