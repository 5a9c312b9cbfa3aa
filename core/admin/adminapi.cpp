#include "admin/adminapi.h"
#include "store/snapshotloader.h"

#include "admin/adminjson.h"
#include "auth/authenticator.h"
#include "balancer/health.h"
#include "domain/snapshot.h"
#include "http/errorbody.h"
#include "http/httpresponder.h"
#include "proxy/upstreamprobe.h"
#include "store/configrepository.h"
#include "store/recordrepository.h"
#include "store/upstreamrepository.h"
#include "util/logging.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QUrlQuery>

namespace {

std::optional<QJsonObject> parseObject(const QByteArray &body)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

ApiError::Kind kindOf(StoreError e)
{
    switch (e) {
    case StoreError::NotFound: return ApiError::Kind::NotFound;
    case StoreError::Duplicate: return ApiError::Kind::Conflict;
    default: return ApiError::Kind::Internal;
    }
}

} // namespace

AdminApi::AdminApi(std::shared_ptr<DbConnection> connection, SnapshotHolder *snapshots, HealthTracker *health,
    UpstreamClient *upstreams, QObject *parent)
    : QObject(parent), m_conn(std::move(connection)), m_snapshots(snapshots), m_health(health), m_upstreams(upstreams)
{ }

void AdminApi::handle(const HttpRequest &request, HttpResponder *responder)
{
    // The admin API checks the token always, -noauth or not (as the Go tool).
    const auto verdict
        = Authenticator::check(request.headers.value("authorization"), m_snapshots->current()->settings.tokens);
    if (verdict == Authenticator::Verdict::Accepted) {
        const QList<QByteArray> parts = request.path.split('/'); // "", "admin", "upstreams", id, "test"
        if (parts.size() == 5 && parts[2] == "upstreams" && parts[4] == "test" && request.method == "POST") {
            testUpstream(parts[3].toLongLong(), responder);
            return;
        }
    }
    Reply reply = verdict == Authenticator::Verdict::Accepted
        ? route(request)
        : error(ApiError::Kind::Unauthorized, Authenticator::message(verdict));
    responder->sendJson(reply.first, reply.second.toJson(QJsonDocument::Compact));
}

AdminApi::Reply AdminApi::route(const HttpRequest &request)
{
    const QList<QByteArray> parts = request.path.mid(7).split('/'); // after "/admin/"
    const QByteArray &method = request.method;
    const QByteArray resource = parts.value(0);
    const bool hasId = parts.size() >= 2 && !parts[1].isEmpty();

    if (resource == "upstreams" && parts.size() <= 2) {
        if (!hasId) {
            if (method == "GET")
                return listUpstreams();
            if (method == "POST")
                return createUpstream(request.body);
            return error(ApiError::Kind::MethodNotAllowed, tr("use GET or POST on /admin/upstreams"));
        }
        bool ok = false;
        const qint64 id = parts[1].toLongLong(&ok);
        if (!ok || id <= 0)
            return error(ApiError::Kind::NotFound, tr("no upstream with ID %1").arg(QString::fromUtf8(parts[1])));
        if (method == "GET")
            return getUpstream(id);
        if (method == "PUT" || method == "PATCH")
            return updateUpstream(id, request.body);
        if (method == "DELETE")
            return deleteUpstream(id);
        return error(ApiError::Kind::MethodNotAllowed, tr("use GET, PUT or DELETE on /admin/upstreams/:id"));
    }
    if (resource == "login" && parts.size() == 1) {
        if (method != "POST" && method != "GET")
            return error(ApiError::Kind::MethodNotAllowed, tr("use POST on /admin/login"));
        return success(); // the token was checked before routing
    }
    if (resource == "request_records" && parts.size() == 1) {
        if (method != "GET")
            return error(ApiError::Kind::MethodNotAllowed, tr("use GET on /admin/request_records"));
        return requestRecords(request.query);
    }
    if (resource == "stats" && parts.size() == 1) {
        if (method != "GET")
            return error(ApiError::Kind::MethodNotAllowed, tr("use GET on /admin/stats"));
        return stats(request.query);
    }
    if (resource == "config" && parts.size() == 1) {
        if (method == "GET")
            return getConfig();
        if (method == "PUT" || method == "PATCH")
            return putConfig(request.body);
        return error(ApiError::Kind::MethodNotAllowed, tr("use GET or PUT on /admin/config"));
    }
    return error(ApiError::Kind::NotFound, tr("no such admin resource: %1").arg(QString::fromUtf8(request.path)));
}

AdminApi::Reply AdminApi::listUpstreams()
{
    QString err;
    const auto upstreams = UpstreamRepository(m_conn->db()).list(&err);
    if (!upstreams)
        return error(ApiError::Kind::Internal, err);
    QJsonArray array;
    const auto health = m_health->all();
    const qint64 now = m_health->nowMs();
    for (const Upstream &u : *upstreams)
        array.append(AdminJson::fromUpstream(u, health.value(u.id), now));
    return {200, QJsonDocument(array)};
}

AdminApi::Reply AdminApi::getUpstream(qint64 id)
{
    const auto u = UpstreamRepository(m_conn->db()).get(id);
    if (!u)
        return error(ApiError::Kind::NotFound, tr("no upstream with ID %1").arg(id));
    return {200, QJsonDocument(AdminJson::fromUpstream(*u, m_health->health(id), m_health->nowMs()))};
}

AdminApi::Reply AdminApi::createUpstream(const QByteArray &body)
{
    const auto object = parseObject(body);
    if (!object)
        return error(ApiError::Kind::BadRequest, tr("the body must be a JSON object"));
    auto patch = AdminJson::toPatch(*object, true);
    if (auto *e = std::get_if<ApiError>(&patch))
        return error(e->kind, e->message);
    Upstream u;
    std::get<UpstreamPatch>(patch).applyTo(u);
    const StoreOutcome out = UpstreamRepository(m_conn->db()).create(u);
    if (!out.ok())
        return error(kindOf(out.error), out.message);
    reload();
    qCInfo(lcAdmin) << "added upstream" << out.id << u.endpoint;
    return success({{QStringLiteral("ID"), out.id}});
}

AdminApi::Reply AdminApi::updateUpstream(qint64 id, const QByteArray &body)
{
    const auto object = parseObject(body);
    if (!object)
        return error(ApiError::Kind::BadRequest, tr("the body must be a JSON object"));
    auto patch = AdminJson::toPatch(*object, false);
    if (auto *e = std::get_if<ApiError>(&patch))
        return error(e->kind, e->message);
    const StoreOutcome out = UpstreamRepository(m_conn->db()).update(id, std::get<UpstreamPatch>(patch));
    if (!out.ok())
        return error(kindOf(out.error), out.message);
    reload();
    return success();
}

AdminApi::Reply AdminApi::deleteUpstream(qint64 id)
{
    const StoreOutcome out = UpstreamRepository(m_conn->db()).remove(id);
    if (!out.ok())
        return error(kindOf(out.error), out.message);
    reload();
    qCInfo(lcAdmin) << "deleted upstream" << id;
    return success();
}

AdminApi::Reply AdminApi::requestRecords(const QByteArray &query)
{
    const QUrlQuery q(QString::fromUtf8(query));
    bool ok = false;
    int limit = q.queryItemValue(QStringLiteral("limit")).toInt(&ok);
    if (!ok || limit <= 0)
        limit = 100;
    RecordFilter filter;
    filter.limit = qMin(limit, 1000);
    filter.beforeId = q.queryItemValue(QStringLiteral("before")).toLongLong();
    filter.upstreamId = q.queryItemValue(QStringLiteral("upstream")).toLongLong();
    filter.status = q.queryItemValue(QStringLiteral("status")).toInt();
    filter.model = q.queryItemValue(QStringLiteral("model"), QUrl::FullyDecoded);
    const auto records = RecordRepository(m_conn->db()).recent(filter);
    if (!records)
        return error(ApiError::Kind::Internal, tr("cannot read the records"));
    QJsonArray array;
    for (const RequestRecord &r : *records)
        array.append(AdminJson::fromRecord(r));
    return {200, QJsonDocument(array)};
}

AdminApi::Reply AdminApi::stats(const QByteArray &query)
{
    const QUrlQuery q(QString::fromUtf8(query));
    bool ok = false;
    int hours = q.queryItemValue(QStringLiteral("hours")).toInt(&ok);
    if (!ok || hours <= 0)
        hours = 24;
    const auto stats = RecordRepository(m_conn->db()).stats(QDateTime::currentDateTimeUtc().addSecs(-3600LL * hours));
    if (!stats)
        return error(ApiError::Kind::Internal, tr("cannot read the records"));
    const auto snapshot = m_snapshots->current();
    QJsonArray array;
    for (const UpstreamStats &s : *stats) {
        QJsonObject outcomes;
        for (auto it = s.outcomes.cbegin(); it != s.outcomes.cend(); ++it)
            outcomes.insert(it.key(), it.value());
        QString name;
        for (const Upstream &u : snapshot->upstreams)
            if (u.id == s.upstreamId)
                name = u.name.isEmpty() ? u.endpoint : u.name;
        array.append(QJsonObject{{QStringLiteral("UpstreamID"), s.upstreamId}, {QStringLiteral("Name"), name},
            {QStringLiteral("Requests"), s.requests}, {QStringLiteral("Errors"), s.errors},
            {QStringLiteral("Outcomes"), outcomes}, {QStringLiteral("PromptTokens"), s.promptTokens},
            {QStringLiteral("CompletionTokens"), s.completionTokens},
            {QStringLiteral("TotalTokens"), s.promptTokens + s.completionTokens},
            {QStringLiteral("TTFBP50Ms"), s.ttfbP50Ms}, {QStringLiteral("TTFBP95Ms"), s.ttfbP95Ms}});
    }
    return {200, QJsonDocument(QJsonObject{{QStringLiteral("Hours"), hours}, {QStringLiteral("Upstreams"), array}})};
}

AdminApi::Reply AdminApi::getConfig()
{
    return {200, QJsonDocument(AdminJson::fromSettings(m_snapshots->current()->settings))};
}

AdminApi::Reply AdminApi::putConfig(const QByteArray &body)
{
    const auto object = parseObject(body);
    if (!object)
        return error(ApiError::Kind::BadRequest, tr("the body must be a JSON object"));
    auto settings = AdminJson::applySettings(*object, m_snapshots->current()->settings);
    if (auto *e = std::get_if<ApiError>(&settings))
        return error(e->kind, e->message);
    if (!ConfigRepository(m_conn->db()).save(std::get<Settings>(settings)))
        return error(ApiError::Kind::Internal, tr("cannot store the settings"));
    reload();
    return success();
}

void AdminApi::testUpstream(qint64 id, HttpResponder *responder)
{
    const auto u = UpstreamRepository(m_conn->db()).get(id);
    if (!u) {
        const Reply r = error(ApiError::Kind::NotFound, tr("no upstream with ID %1").arg(id));
        responder->sendJson(r.first, r.second.toJson(QJsonDocument::Compact));
        return;
    }
    auto *probe = new UpstreamProbe(m_upstreams, *u, 10000, this);
    QPointer<HttpResponder> target(responder);
    connect(probe, &UpstreamProbe::done, this, [this, probe, target, id](const ProbeResult &r) {
        probe->deleteLater();
        // A passing test clears the key's bad record; a rejected key is marked.
        if (r.ok)
            m_health->reset(id);
        else if (r.status == 401 || r.status == 403)
            m_health->failed(id, FailureClass::AuthRejected, r.error, m_health->nowMs());
        if (!target)
            return;
        QJsonObject o{{QStringLiteral("OK"), r.ok}, {QStringLiteral("Status"), r.status},
            {QStringLiteral("LatencyMs"), r.latencyMs}, {QStringLiteral("ModelCount"), r.modelCount},
            {QStringLiteral("Error"), r.error}};
        target->sendJson(200, QJsonDocument(o).toJson(QJsonDocument::Compact));
    });
    probe->start();
}

AdminApi::Reply AdminApi::success(const QJsonObject &extra)
{
    QJsonObject o = extra;
    o.insert(QStringLiteral("message"), QStringLiteral("success"));
    return {200, QJsonDocument(o)};
}

AdminApi::Reply AdminApi::error(ApiError::Kind kind, const QString &message)
{
    const ApiError e{kind, message};
    return {e.httpStatus(), QJsonDocument::fromJson(openAiErrorBody(message, e.typeName()))};
}

void AdminApi::reload()
{
    QString err;
    if (!reloadSnapshot(*m_snapshots, *m_conn, &err))
        qCWarning(lcAdmin) << "cannot reload upstreams:" << err;
}
