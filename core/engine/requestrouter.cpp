#include "engine/requestrouter.h"

#include "admin/adminapi.h"
#include "auth/authenticator.h"
#include "balancer/health.h"
#include "domain/snapshot.h"
#include "http/errorbody.h"
#include "http/httpresponder.h"
#include "metrics/metrics.h"
#include "proxy/proxyhandler.h"

#include <QHostAddress>
#include <QUrl>

namespace route {

RequestRouter::RequestRouter(
    ProxyHandler *proxy, AdminApi *admin, SnapshotHolder *snapshots, bool noAuth, QObject *parent)
    : QObject(parent), m_proxy(proxy), m_admin(admin), m_snapshots(snapshots), m_noAuth(noAuth)
{ }

bool RequestRouter::isLoopbackOrigin(const QByteArray &origin)
{
    const QUrl url(QString::fromUtf8(origin));
    const QString host = url.host();
    if (host == QLatin1String("localhost"))
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

bool RequestRouter::isLocalHost(QByteArrayView host, const QStringList &allowed)
{
    host = host.trimmed();
    if (host.isEmpty())
        return true; // HTTP/1.0 without Host: no browser sends that
    // The name without its port: "[::1]:8888", "localhost:8888", "127.0.0.1".
    QByteArrayView name = host;
    if (name.startsWith('[')) {
        const qsizetype close = name.indexOf(']');
        name = close < 0 ? name : name.first(close + 1);
    } else if (const qsizetype colon = name.lastIndexOf(':'); colon >= 0) {
        name = name.first(colon);
    }
    const QString lower = QString::fromLatin1(name).toLower();
    if (lower == QLatin1String("localhost") || lower == QLatin1String("[::1]")
        || lower.endsWith(QLatin1String(".localhost")))
        return true;
    const QHostAddress address(lower);
    if (!address.isNull() && address.isLoopback())
        return true;
    return allowed.contains(lower);
}

void RequestRouter::setMetrics(
    Metrics *metrics, HealthTracker *health, std::function<StoreStatus()> store, std::function<int()> inFlight)
{
    m_inFlight = std::move(inFlight);
    m_metrics = metrics;
    m_health = health;
    m_store = std::move(store);
}

bool RequestRouter::authorized(HttpRequest &request, HttpResponder *responder)
{
    if (m_noAuth)
        return true;
    const QByteArray credential
        = Authenticator::credential(request.headers.value("authorization"), request.headers.value("x-api-key"));
    const std::shared_ptr<const Snapshot> snapshot = m_snapshots->current();
    const auto verdict = Authenticator::check(credential, snapshot->settings.tokens, &request.clientTokenId);
    if (verdict == Authenticator::Verdict::Accepted)
        return true;
    if (verdict == Authenticator::Verdict::WrongToken && !snapshot->appTokens.isEmpty())
        return authorizedAppToken(*snapshot, credential, request, responder);
    sendError(request.path, responder, 403, Authenticator::message(verdict), QStringLiteral("authentication_error"));
    return false;
}

// An app token (SPEC §11): /v1/* only, while enabled and not expired. Only
// the hash of the token is known, so the token is hashed to be found.
bool RequestRouter::authorizedAppToken(
    const Snapshot &snapshot, const QByteArray &credential, HttpRequest &request, HttpResponder *responder)
{
    const QByteArrayView token = QByteArrayView(credential).sliced(qMin<qsizetype>(7, credential.size())).trimmed();
    // The hash of each credential seen, per thread: SHA-256 per request cost
    // more than the rest of the check. Bounded, since anyone may send any.
    thread_local QHash<QByteArray, QByteArray> hashes;
    auto cached = hashes.constFind(QByteArray::fromRawData(token.data(), token.size()));
    if (cached == hashes.cend()) {
        if (hashes.size() >= 256)
            hashes.clear();
        cached = hashes.insert(token.toByteArray(), AppToken::hashOf(token));
    }
    const AppToken *app = snapshot.appTokenByHash(*cached);
    QString refusal;
    if (!app || !(request.path == "/v1" || request.path.startsWith("/v1/")))
        refusal = Authenticator::message(Authenticator::Verdict::WrongToken);
    else if (!app->enabled)
        refusal = tr("this app token (%1) is disabled").arg(app->name);
    else if (app->expiresAt.isValid() && app->isExpired(QDateTime::currentDateTimeUtc()))
        refusal = tr("this app token (%1) expired at %2").arg(app->name, app->expiresAt.toUTC().toString(Qt::ISODate));
    if (refusal.isEmpty()) {
        request.appTokenId = app->id;
        return true;
    }
    sendError(request.path, responder, 403, refusal, QStringLiteral("authentication_error"));
    return false;
}

// /metrics (SPEC §13): the client token itself, as the admin API wants it,
// even with -noauth; an app token is for /v1 requests, not for reading how
// every app and key is doing.
bool RequestRouter::metricsAuthorized(const HttpRequest &request, const Settings &settings, HttpResponder *responder)
{
    const QByteArray credential
        = Authenticator::credential(request.headers.value("authorization"), request.headers.value("x-api-key"));
    const auto verdict = Authenticator::check(credential, settings.tokens);
    if (verdict == Authenticator::Verdict::Accepted)
        return true;
    sendError(request.path, responder, 403,
        tr("/metrics needs the client token (app tokens do not count); set MetricsPublic to serve it to anyone"),
        QStringLiteral("authentication_error"));
    return false;
}

void RequestRouter::sendMetrics(HttpResponder *responder)
{
    HttpHeaders h;
    h.append("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    const QByteArray body
        = m_metrics->render(*m_snapshots->current(), m_health ? m_health->all() : QHash<qint64, UpstreamHealth>(),
            m_inFlight ? m_inFlight() : m_proxy->inFlight(), m_store ? m_store() : StoreStatus());
    responder->send(200, h, body);
}

void RequestRouter::route(HttpRequest &&request, HttpResponder *responder)
{
    const QByteArray &path = request.path;
    const bool isProxy = path == "/v1" || path.startsWith("/v1/");
    const bool isAdmin = path.startsWith("/admin/");
    const QByteArray origin = request.headers.value("origin");

    const auto snapshot = m_snapshots->current(); // held: the settings live in it
    const Settings &settings = snapshot->settings;
    if (m_loopback && m_loopback->load() && !isLocalHost(request.headers.value("host"), settings.allowedHosts)) {
        sendError(path, responder, 403,
            tr("the Host %1 is not a name of this machine; add it to AllowedHosts to serve it")
                .arg(QString::fromUtf8(request.headers.value("host").left(200))),
            QStringLiteral("permission_error"));
        return;
    }
    const bool isMetrics = (path == "/metrics" || path == "/v1/metrics") && m_metrics;
    if (isMetrics && (request.method == "GET" || request.method == "HEAD")) {
        if (settings.metricsPublic || metricsAuthorized(request, settings, responder))
            sendMetrics(responder);
        return;
    }
    if (!isProxy && !isAdmin) {
        if (path == "/" && (request.method == "GET" || request.method == "HEAD")) {
            responder->sendJson(200, R"({"name":"openai-api-route","version":")" ROUTE_VERSION R"(","base":"/v1"})");
            return;
        }
        sendError(path, responder, 404, tr("not found: %1; the API is under /v1/").arg(QString::fromUtf8(path)),
            QStringLiteral("invalid_request_error"));
        return;
    }

    // With -noauth the proxy spends the user's keys for anyone who can reach
    // it; a web page on another origin must not be one of them.
    const bool originAllowed = origin.isEmpty() || !(m_noAuth && isProxy) || isLoopbackOrigin(origin);
    if (!originAllowed) {
        sendError(path, responder, 403, tr("cross-origin requests are refused while authentication is off (-noauth)"),
            QStringLiteral("authentication_error"));
        return;
    }
    // The admin API holds every key: only loopback pages and the origins the
    // user named may use it from a browser.
    const bool adminOriginAllowed = !isAdmin || origin.isEmpty() || isLoopbackOrigin(origin)
        || settings.allowedOrigins.contains(QString::fromUtf8(origin));
    if (!adminOriginAllowed) {
        sendError(path, responder, 403,
            tr("the admin API refuses requests from the web page at %1; add it to AllowedOrigins to allow it")
                .arg(QString::fromUtf8(origin.left(200))),
            QStringLiteral("permission_error"));
        return;
    }
    if (!origin.isEmpty()) {
        HttpHeaders cors;
        cors.append("Access-Control-Allow-Origin", (m_noAuth && isProxy) || isAdmin ? origin : QByteArray("*"));
        cors.append("Vary", "Origin");
        responder->setDefaultHeaders(cors);
    }
    if (request.method == "OPTIONS") {
        answerPreflight(request, responder);
        return;
    }
    if (isAdmin) {
        m_admin->handle(request, responder);
        return;
    }
    if (!authorized(request, responder))
        return;
    if (m_paused && m_paused->load()) {
        sendError(path, responder, 503, tr("the proxy is paused; resume it from the tray menu"),
            QStringLiteral("service_unavailable"));
        return;
    }
    m_proxy->handle(std::move(request), responder);
}

void RequestRouter::answerPreflight(const HttpRequest &request, HttpResponder *responder)
{
    HttpHeaders h;
    h.append("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    const QByteArray requested = request.headers.value("access-control-request-headers");
    h.append(
        "Access-Control-Allow-Headers", requested.isEmpty() ? QByteArray("Authorization, Content-Type") : requested);
    h.append("Access-Control-Max-Age", "86400");
    responder->send(204, h, QByteArray());
}

void RequestRouter::sendError(
    QByteArrayView path, HttpResponder *responder, int status, const QString &message, const QString &type)
{
    responder->sendJson(status, errorBodyFor(path, message, type));
}

} // namespace route
