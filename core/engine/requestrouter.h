#pragma once

#include "http/httprequest.h"
#include "metrics/metrics.h"

#include <QObject>

#include <atomic>
#include <functional>

namespace route {

class AdminApi;
class HealthTracker;
class Metrics;
class HttpResponder;
class ProxyHandler;
class SnapshotHolder;
struct Settings;
struct Snapshot;

// Decides who answers a request: CORS preflight, client authentication,
// then the proxy (/v1/*) or the admin API (/admin/*).
class RequestRouter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestRouter)
public:
    RequestRouter(
        ProxyHandler *proxy, AdminApi *admin, SnapshotHolder *snapshots, bool noAuth, QObject *parent = nullptr);

    // Prometheus at /metrics and /v1/metrics; STORE reads the store's counter and state.
    void setMetrics(
        Metrics *metrics, HealthTracker *health, std::function<StoreStatus()> store, std::function<int()> inFlight);
    // Takes the request over: the proxy moves it into its exchange.
    void route(HttpRequest &&request, HttpResponder *responder);
    // While *paused is true, /v1 requests get a 503 that says so.
    void setPauseFlag(const std::atomic<bool> *paused) { m_paused = paused; }
    // While *loopback is true (the listener is on a loopback address), a
    // request's Host must be one of the machine's own names (SPEC §13): a web
    // page that rebinds its DNS name to 127.0.0.1 still sends its own.
    void setLoopbackFlag(const std::atomic<bool> *loopback) { m_loopback = loopback; }
    static bool isLocalHost(QByteArrayView host, const QStringList &allowed);

    static bool isLoopbackOrigin(const QByteArray &origin);

private:
    void answerPreflight(const HttpRequest &request, HttpResponder *responder);
    // In the envelope the client of PATH parses (Anthropic's under /v1/messages).
    void sendError(
        QByteArrayView path, HttpResponder *responder, int status, const QString &message, const QString &type);
    bool authorized(HttpRequest &request, HttpResponder *responder);
    bool authorizedAppToken(
        const Snapshot &snapshot, const QByteArray &credential, HttpRequest &request, HttpResponder *responder);
    bool metricsAuthorized(const HttpRequest &request, const Settings &settings, HttpResponder *responder);
    void sendMetrics(HttpResponder *responder);

    ProxyHandler *m_proxy;
    AdminApi *m_admin;
    SnapshotHolder *m_snapshots;
    bool m_noAuth;
    Metrics *m_metrics = nullptr;
    const std::atomic<bool> *m_paused = nullptr;
    const std::atomic<bool> *m_loopback = nullptr;
    HealthTracker *m_health = nullptr;
    std::function<StoreStatus()> m_store;
    std::function<int()> m_inFlight;
};

} // namespace route
