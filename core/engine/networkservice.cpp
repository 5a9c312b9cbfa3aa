#include "engine/networkservice.h"

#include "admin/adminapi.h"
#include "balancer/balancer.h"
#include "balancer/health.h"
#include "engine/requestrouter.h"
#include "http/httpserver.h"
#include "metrics/metrics.h"
#include "proxy/proxyhandler.h"
#include "proxy/upstreamclient.h"
#include "store/backgroundstore.h"

NetworkService::NetworkService(const EngineOptions &options, SnapshotHolder *snapshots, BackgroundStore *records)
    : m_options(options), m_snapshots(snapshots), m_records(records)
{ }

NetworkService::~NetworkService()
{
    delete m_server; // connections first: they reference responders the proxy watches
    m_server = nullptr;
}

bool NetworkService::start(QString *error, const std::atomic<bool> *paused)
{
    auto conn = DbConnection::open(m_options.database, QStringLiteral("admin"));
    if (!conn) {
        *error = conn.error();
        return false;
    }
    m_upstreams = new UpstreamClient(this);
    ProxyContext context;
    context.snapshots = m_snapshots;
    context.upstreams = m_upstreams;
    m_health = new HealthTracker(m_options.health, this);
    m_balancer = std::make_unique<Balancer>(m_health);
    context.balancer = m_balancer.get();
    context.health = m_health;
    m_metrics = std::make_unique<Metrics>();
    context.metrics = m_metrics.get();
    context.records = m_records;
    context.writeHighWater = m_options.limits.writeHighWater;
    m_proxy = new ProxyHandler(context, this);
    m_admin = new AdminApi(conn.take(), m_snapshots, m_health, m_upstreams, this);
    m_router = new RequestRouter(m_proxy, m_admin, m_snapshots, m_options.noAuth, this);
    m_router->setPauseFlag(paused);
    BackgroundStore *store = m_records;
    m_router->setMetrics(m_metrics.get(), m_health, [store] { return store ? store->droppedRecords() : 0; });
    RequestRouter *router = m_router;
    m_server = new HttpServer(
        [router](HttpRequest &request, HttpResponder *responder) { router->route(request, responder); },
        m_options.limits, this);
    if (!m_server->listen(m_options.address, m_options.port)) {
        *error = m_server->errorString();
        return false;
    }
    connect(m_server, &HttpServer::becameIdle, this, &NetworkService::checkDrained);
    connect(m_proxy, &ProxyHandler::idle, this, &NetworkService::checkDrained);
    return true;
}

bool NetworkService::relisten(const QHostAddress &address, quint16 port, QString *error)
{
    RequestRouter *router = m_router;
    auto *next = new HttpServer(
        [router](HttpRequest &request, HttpResponder *responder) { router->route(request, responder); },
        m_options.limits, this);
    if (!next->listen(address, port)) {
        *error = next->errorString();
        delete next;
        return false;
    }
    // The old listener finishes what it has, then goes.
    HttpServer *old = m_server;
    m_server = next;
    connect(m_server, &HttpServer::becameIdle, this, &NetworkService::checkDrained);
    old->disconnect(this);
    connect(old, &HttpServer::becameIdle, old, &QObject::deleteLater);
    old->stopAccepting();
    m_options.address = address;
    m_options.port = port;
    return true;
}

quint16 NetworkService::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

void NetworkService::beginStop()
{
    m_stopping = true;
    if (m_server)
        m_server->stopAccepting();
    checkDrained();
}

void NetworkService::checkDrained()
{
    if (!m_stopping)
        return;
    const bool serverIdle = !m_server || m_server->openConnections() == 0;
    const bool proxyIdle = !m_proxy || m_proxy->inFlight() == 0;
    if (serverIdle && proxyIdle)
        Q_EMIT drained();
}
