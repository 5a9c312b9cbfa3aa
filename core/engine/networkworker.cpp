#include "engine/networkworker.h"

#include "admin/adminapi.h"
#include "engine/requestrouter.h"
#include "http/httpconnectionset.h"
#include "proxy/proxyhandler.h"
#include "proxy/upstreamclient.h"
#include "store/backgroundstore.h"

namespace route {

NetworkWorker::NetworkWorker(const EngineOptions &options, const SharedServices &shared)
    : m_options(options), m_shared(shared)
{ }

NetworkWorker::~NetworkWorker()
{
    delete m_connections; // connections first: they hold responders the proxy watches
    m_connections = nullptr;
}

bool NetworkWorker::setup(QString *error)
{
    auto conn = DbConnection::open(m_options.database, QStringLiteral("admin"));
    if (!conn) {
        *error = conn.error();
        return false;
    }
    m_upstreams = new UpstreamClient(this);
    ProxyContext context;
    context.snapshots = m_shared.snapshots;
    context.upstreams = m_upstreams;
    context.balancer = m_shared.balancer;
    context.affinity = m_shared.affinity;
    context.health = m_shared.health;
    context.metrics = m_shared.metrics;
    context.records = m_shared.records;
    context.writeHighWater = m_options.limits.writeHighWater;
    context.catalogPending = m_shared.catalogPending;
    context.limits = m_shared.limits;
    context.sharedLimits = m_shared.sharedLimits;
    m_proxy = new ProxyHandler(context, this);
    m_admin = new AdminApi(conn.take(), m_shared.snapshots, m_shared.health, m_upstreams, this);
    m_admin->setLimits(m_shared.limits);
    m_admin->setStore(m_shared.records);
    m_router = new RequestRouter(m_proxy, m_admin, m_shared.snapshots, m_options.noAuth, this);
    m_router->setPauseFlag(m_shared.paused);
    m_router->setLoopbackFlag(m_shared.loopback);
    BackgroundStore *store = m_shared.records;
    m_router->setMetrics(
        m_shared.metrics, m_shared.health,
        [store] {
            return store ? StoreStatus{store->droppedRecords(), store->databaseUp()} : StoreStatus();
        },
        m_shared.totalInFlight);
    RequestRouter *router = m_router;
    m_connections = new HttpConnectionSet(
        [router](HttpRequest &&request, HttpResponder *responder) { router->route(std::move(request), responder); },
        m_options.limits, this);
    // idle() crosses threads: only worth it while the service waits to stop.
    connect(m_connections, &HttpConnectionSet::connectionClosed, this, [this] {
        if (--m_open == 0 && m_stopping)
            Q_EMIT idle();
    });
    connect(m_proxy, &ProxyHandler::inFlightChanged, this, [this](int n) {
        m_inFlight = n;
        if (n == 0 && m_stopping)
            Q_EMIT idle();
    });
    return true;
}

void NetworkWorker::adopt(qintptr descriptor)
{
    ++m_open;
    const int before = m_connections->openConnections();
    m_connections->adopt(descriptor);
    if (m_connections->openConnections() == before)
        --m_open; // refused (stopping, or a dead descriptor)
}

void NetworkWorker::beginStop()
{
    m_stopping = true;
    m_connections->stopAccepting();
    Q_EMIT idle();
}

} // namespace route
