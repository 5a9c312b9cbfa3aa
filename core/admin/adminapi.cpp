#include "admin/adminapi.h"

#include "admin/adminjson.h"
#include "auth/authenticator.h"
#include "balancer/health.h"
#include "domain/snapshot.h"
#include "http/errorbody.h"
#include "http/httpresponder.h"
#include "limits/applimits.h"
#include "service/configservice.h"
#include "store/backgroundstore.h"
#include "store/database.h"
#include "store/recordrepository.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"
#include "util/logging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QUrlQuery>

namespace route {

namespace {

std::optional<QJsonObject> parseObject(const QByteArray &body)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

ApiError::Kind kindOf(ChangeError::Kind kind)
{
    switch (kind) {
    case ChangeError::Kind::Invalid: return ApiError::Kind::BadRequest;
    case ChangeError::Kind::NotFound: return ApiError::Kind::NotFound;
    case ChangeError::Kind::Conflict: return ApiError::Kind::Conflict;
    case ChangeError::Kind::Internal: return ApiError::Kind::Internal;
    }
    return ApiError::Kind::Internal;
}

// "/admin/upstreams/:id/test" against a path: the segments must be equal,
// and ":id" takes a positive integer.
bool matches(QByteArrayView pattern, QByteArrayView path, qint64 *id)
{
    if (path.size() > 1 && path.endsWith('/'))
        path.chop(1);
    while (!pattern.isEmpty() || !path.isEmpty()) {
        if (pattern.isEmpty() || path.isEmpty() || pattern.front() != '/' || path.front() != '/')
            return false;
        pattern = pattern.sliced(1);
        path = path.sliced(1);
        const qsizetype pEnd = pattern.indexOf('/');
        const qsizetype sEnd = path.indexOf('/');
        const QByteArrayView want = pEnd < 0 ? pattern : pattern.first(pEnd);
        const QByteArrayView have = sEnd < 0 ? path : path.first(sEnd);
        if (want == ":id") {
            bool ok = false;
            *id = have.toByteArray().toLongLong(&ok);
            if (!ok || *id <= 0)
                return false;
        } else if (want != have) {
            return false;
        }
        pattern = pEnd < 0 ? QByteArrayView() : pattern.sliced(pEnd);
        path = sEnd < 0 ? QByteArrayView() : path.sliced(sEnd);
    }
    return true;
}

} // namespace

// A JSON object body, read into a patch by CONVERT (which checks the field
// types), then handed to APPLY: every create and edit reads its body so.
template <typename Convert, typename Apply>
AdminApi::Reply AdminApi::patched(const QByteArray &body, Convert convert, Apply apply)
{
    const auto object = parseObject(body);
    if (!object)
        return error(ApiError::Kind::BadRequest, QStringLiteral("the body must be a JSON object"));
    auto patch = convert(*object);
    if (auto *e = std::get_if<ApiError>(&patch))
        return error(e->kind, e->message);
    return apply(std::get<0>(patch));
}

AdminApi::AdminApi(std::shared_ptr<DbConnection> connection, SnapshotHolder *snapshots, HealthTracker *health,
    UpstreamClient *upstreams, QObject *parent)
    : QObject(parent)
    , m_conn(connection)
    , m_snapshots(snapshots)
    , m_health(health)
    , m_service(new ConfigService(std::move(connection), snapshots, health, upstreams, this))
{ }

AdminApi::~AdminApi() = default;

void AdminApi::handle(const HttpRequest &request, HttpResponder *responder)
{
    // The admin API checks the token always, -noauth or not (as the Go tool).
    const auto verdict = Authenticator::check(
        Authenticator::credential(request.headers.value("authorization"), request.headers.value("x-api-key")),
        m_snapshots->current()->settings.tokens);
    Reply reply;
    if (verdict != Authenticator::Verdict::Accepted)
        reply = error(ApiError::Kind::Unauthorized, Authenticator::message(verdict));
    else if (!m_conn->ensureOpen())
        reply = error(ApiError::Kind::Unavailable, tr("the database is not reachable: %1").arg(m_conn->lastError()));
    else
        reply = route(request, responder);
    if (!reply.deferred)
        responder->sendJson(reply.status, reply.json);
}

AdminApi::Reply AdminApi::route(const HttpRequest &request, HttpResponder *responder)
{
    struct Route
    {
        QByteArrayView method;
        QByteArrayView pattern;
        Handler handler;
    };
    // Every call of the admin API; a path that matches with another method is a 405.
    static const Route routes[] = {
        {"GET", "/admin/upstreams", &AdminApi::listUpstreams},
        {"POST", "/admin/upstreams", &AdminApi::createUpstream},
        {"GET", "/admin/upstreams/:id", &AdminApi::getUpstream},
        {"PUT", "/admin/upstreams/:id", &AdminApi::updateUpstream},
        {"PATCH", "/admin/upstreams/:id", &AdminApi::updateUpstream},
        {"DELETE", "/admin/upstreams/:id", &AdminApi::deleteUpstream},
        {"POST", "/admin/upstreams/:id/test", &AdminApi::testUpstream},
        {"POST", "/admin/upstreams/:id/models/refresh", &AdminApi::refreshModels},
        {"POST", "/admin/login", &AdminApi::login},
        {"GET", "/admin/login", &AdminApi::login},
        {"GET", "/admin/request_records", &AdminApi::requestRecords},
        {"GET", "/admin/stats", &AdminApi::stats},
        {"GET", "/admin/config", &AdminApi::getConfig},
        {"PUT", "/admin/config", &AdminApi::putConfig},
        {"PATCH", "/admin/config", &AdminApi::putConfig},
        {"GET", "/admin/tokens", &AdminApi::listTokens},
        {"POST", "/admin/tokens", &AdminApi::createToken},
        {"GET", "/admin/tokens/:id", &AdminApi::getToken},
        {"PUT", "/admin/tokens/:id", &AdminApi::updateToken},
        {"DELETE", "/admin/tokens/:id", &AdminApi::deleteToken},
        {"GET", "/admin/prices", &AdminApi::getPrices},
        {"PUT", "/admin/prices", &AdminApi::putPrices},
        {"POST", "/admin/prices/recompute", &AdminApi::recomputePrices},
        {"GET", "/admin/usage", &AdminApi::usage},
    };
    QByteArrayList allowed;
    QByteArrayView pattern;
    for (const Route &r : routes) {
        qint64 id = 0;
        if (!matches(r.pattern, request.path, &id))
            continue;
        if (r.method == request.method)
            return (this->*r.handler)(Call{request, responder, id});
        allowed << r.method.toByteArray();
        pattern = r.pattern;
    }
    if (allowed.isEmpty())
        return error(ApiError::Kind::NotFound,
            QStringLiteral("no such admin resource: %1").arg(QString::fromUtf8(request.path)));
    Reply r = error(ApiError::Kind::MethodNotAllowed,
        QStringLiteral("use %1 on %2").arg(QString::fromLatin1(allowed.join(", ")), QString::fromLatin1(pattern)));
    return r;
}

AdminApi::Reply AdminApi::listUpstreams(const Call &)
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
    return json(array);
}

AdminApi::Reply AdminApi::getUpstream(const Call &call)
{
    const auto u = UpstreamRepository(m_conn->db()).get(call.id);
    if (!u)
        return error(ApiError::Kind::NotFound, QStringLiteral("no upstream with ID %1").arg(call.id));
    return json(AdminJson::fromUpstream(*u, m_health->health(call.id), m_health->nowMs()));
}

AdminApi::Reply AdminApi::createUpstream(const Call &call)
{
    return patched(call.request.body, AdminJson::toPatch, [&](const UpstreamPatch &patch) {
        const ChangeResult r = m_service->createUpstream(patch);
        return changed(r, {{QStringLiteral("ID"), r.id}});
    });
}

AdminApi::Reply AdminApi::updateUpstream(const Call &call)
{
    return patched(call.request.body, AdminJson::toPatch,
        [&](const UpstreamPatch &patch) { return changed(m_service->updateUpstream(call.id, patch)); });
}

AdminApi::Reply AdminApi::deleteUpstream(const Call &call)
{
    return changed(m_service->deleteUpstream(call.id));
}

AdminApi::Reply AdminApi::testUpstream(const Call &call)
{
    QPointer<HttpResponder> target(call.responder);
    const bool started = m_service->testUpstream(call.id, [target](const ProbeResult &r) {
        if (!target)
            return;
        const QJsonObject o{{QStringLiteral("OK"), r.ok}, {QStringLiteral("Status"), r.status},
            {QStringLiteral("LatencyMs"), r.latencyMs}, {QStringLiteral("ModelCount"), r.modelCount},
            {QStringLiteral("Error"), r.error}};
        target->sendJson(200, QJsonDocument(o).toJson(QJsonDocument::Compact));
    });
    if (!started)
        return error(ApiError::Kind::NotFound, QStringLiteral("no upstream with ID %1").arg(call.id));
    Reply later;
    later.deferred = true;
    return later;
}

// Fetches the upstream's model list now and answers with the upstream as
// stored afterwards: Models, ModelsFetchedAt, and ModelsError when it failed.
AdminApi::Reply AdminApi::refreshModels(const Call &call)
{
    QPointer<HttpResponder> target(call.responder);
    const qint64 id = call.id;
    const bool started = m_service->refreshModels(id, [this, target, id](const ProbeResult &r) {
        if (!target)
            return;
        const std::optional<Upstream> u = UpstreamRepository(m_conn->db()).get(id);
        if (!u) {
            const Reply gone = error(ApiError::Kind::NotFound, QStringLiteral("no upstream with ID %1").arg(id));
            target->sendJson(gone.status, gone.json);
            return;
        }
        QJsonObject o = AdminJson::fromUpstream(*u, m_health->health(id), m_health->nowMs());
        o.insert(QStringLiteral("OK"), r.ok);
        target->sendJson(200, QJsonDocument(o).toJson(QJsonDocument::Compact));
    });
    if (!started)
        return error(ApiError::Kind::NotFound, QStringLiteral("no upstream with ID %1").arg(call.id));
    Reply later;
    later.deferred = true;
    return later;
}

AdminApi::Reply AdminApi::login(const Call &)
{
    return success(); // the token was checked before routing
}

AdminApi::Reply AdminApi::requestRecords(const Call &call)
{
    const QUrlQuery q(QString::fromUtf8(call.request.query));
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
        return error(ApiError::Kind::Internal, QStringLiteral("cannot read the records"));
    QJsonArray array;
    for (const RequestRecord &r : *records)
        array.append(AdminJson::fromRecord(r));
    return json(array);
}

AdminApi::Reply AdminApi::stats(const Call &call)
{
    const QUrlQuery q(QString::fromUtf8(call.request.query));
    bool ok = false;
    int hours = q.queryItemValue(QStringLiteral("hours")).toInt(&ok);
    if (!ok || hours <= 0)
        hours = 24;
    const auto stats = RecordRepository(m_conn->db()).stats(QDateTime::currentDateTimeUtc().addSecs(-3600LL * hours));
    if (!stats)
        return error(ApiError::Kind::Internal, QStringLiteral("cannot read the records"));
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
    return json(QJsonObject{{QStringLiteral("Hours"), hours}, {QStringLiteral("Upstreams"), array}});
}

AdminApi::Reply AdminApi::getConfig(const Call &)
{
    return json(AdminJson::fromSettings(m_snapshots->current()->settings));
}

AdminApi::Reply AdminApi::putConfig(const Call &call)
{
    const auto object = parseObject(call.request.body);
    if (!object)
        return error(ApiError::Kind::BadRequest, QStringLiteral("the body must be a JSON object"));
    auto settings = AdminJson::applySettings(*object, m_snapshots->current()->settings);
    if (auto *e = std::get_if<ApiError>(&settings))
        return error(e->kind, e->message);
    return changed(m_service->saveSettings(std::get<Settings>(settings)));
}

QJsonObject AdminApi::tokenJson(const AppToken &t) const
{
    const TokenSpend spend = m_limits ? m_limits->spendOf(t.id, QDateTime::currentDateTimeUtc()) : TokenSpend();
    return AdminJson::fromAppToken(t, spend);
}

AdminApi::Reply AdminApi::listTokens(const Call &)
{
    QString err;
    const auto tokens = TokenRepository(m_conn->db()).list(&err);
    if (!tokens)
        return error(ApiError::Kind::Internal, err);
    QJsonArray array;
    for (const AppToken &t : *tokens)
        array.append(tokenJson(t));
    return json(array);
}

AdminApi::Reply AdminApi::getToken(const Call &call)
{
    const auto t = TokenRepository(m_conn->db()).get(call.id);
    if (!t)
        return error(ApiError::Kind::NotFound, QStringLiteral("no app token with ID %1").arg(call.id));
    return json(tokenJson(*t));
}

AdminApi::Reply AdminApi::createToken(const Call &call)
{
    return patched(call.request.body, AdminJson::toTokenPatch, [&](const AppTokenPatch &fields) {
        QString token;
        const ChangeResult r = m_service->createAppToken(fields.name.value_or(QString()), fields, &token);
        return changed(r, {{QStringLiteral("ID"), r.id}, {QStringLiteral("Token"), token}});
    });
}

AdminApi::Reply AdminApi::updateToken(const Call &call)
{
    return patched(call.request.body, AdminJson::toTokenPatch,
        [&](const AppTokenPatch &patch) { return changed(m_service->updateAppToken(call.id, patch)); });
}

AdminApi::Reply AdminApi::deleteToken(const Call &call)
{
    return changed(m_service->deleteAppToken(call.id));
}

AdminApi::Reply AdminApi::getPrices(const Call &)
{
    return json(m_snapshots->current()->settings.prices.toJson());
}

AdminApi::Reply AdminApi::putPrices(const Call &call)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(call.request.body, &err);
    if (err.error != QJsonParseError::NoError || !doc.isArray())
        return error(ApiError::Kind::BadRequest, QStringLiteral("the body must be a JSON array of prices"));
    QString why;
    const auto table = PriceTable::fromJson(doc.array(), &why);
    if (!table)
        return error(ApiError::Kind::BadRequest, why);
    return changed(m_service->savePrices(*table));
}

// On the store thread, which owns the records' writes: a million rows take
// seconds there without holding up this worker's other connections.
AdminApi::Reply AdminApi::recomputePrices(const Call &call)
{
    if (!m_store)
        return error(ApiError::Kind::Internal, QStringLiteral("no record store is running"));
    QPointer<HttpResponder> target(call.responder);
    QPointer<AdminApi> self(this);
    const PriceTable prices = m_snapshots->current()->settings.prices;
    BackgroundStore *store = m_store;
    QMetaObject::invokeMethod(store, [store, prices, self, target] {
        QString why;
        const qint64 n = store->recomputeCosts(prices, &why);
        QMetaObject::invokeMethod(self, [self, target, n, why] {
            if (!self || !target)
                return;
            const Reply r
                = n < 0 ? error(ApiError::Kind::Internal, why) : success({{QStringLiteral("Records"), double(n)}});
            target->sendJson(r.status, r.json);
        });
    });
    Reply later;
    later.deferred = true;
    return later;
}

AdminApi::Reply AdminApi::usage(const Call &call)
{
    const QUrlQuery q(QString::fromUtf8(call.request.query));
    const QDate today = QDateTime::currentDateTimeUtc().date();
    const QString fromText = q.queryItemValue(QStringLiteral("from"));
    const QString toText = q.queryItemValue(QStringLiteral("to"));
    const QDate from = fromText.isEmpty() ? today.addDays(-29) : QDate::fromString(fromText, Qt::ISODate);
    const QDate to = toText.isEmpty() ? today : QDate::fromString(toText, Qt::ISODate);
    if (!from.isValid() || !to.isValid() || from > to)
        return error(ApiError::Kind::BadRequest, QStringLiteral("from and to must be days, YYYY-MM-DD, from <= to"));
    static const QHash<QString, UsageBy> kinds{{QStringLiteral("day"), UsageBy::Day},
        {QStringLiteral("token"), UsageBy::Token}, {QStringLiteral("app"), UsageBy::App},
        {QStringLiteral("upstream"), UsageBy::Upstream}, {QStringLiteral("model"), UsageBy::Model}};
    const QString byText = q.queryItemValue(QStringLiteral("by"));
    const auto by = kinds.constFind(byText.isEmpty() ? QStringLiteral("day") : byText);
    if (by == kinds.cend())
        return error(ApiError::Kind::BadRequest, QStringLiteral("by must be one of: day, token, app, upstream, model"));
    QString why;
    const auto rows = RecordRepository(m_conn->db()).usage(from, to, *by, &why);
    if (!rows)
        return error(ApiError::Kind::Internal, why);
    QJsonArray array;
    for (const UsageRow &row : *rows)
        array.append(AdminJson::fromUsage(row));
    return json(array);
}

AdminApi::Reply AdminApi::changed(const ChangeResult &result, const QJsonObject &extra)
{
    if (!result.ok())
        return error(kindOf(result.error->kind), result.error->english());
    return success(extra);
}

AdminApi::Reply AdminApi::json(const QJsonValue &value, int status)
{
    const QByteArray bytes = value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                                             : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
    return Reply{status, bytes, false};
}

AdminApi::Reply AdminApi::success(const QJsonObject &extra)
{
    QJsonObject o = extra;
    o.insert(QStringLiteral("message"), QStringLiteral("success"));
    return json(o);
}

AdminApi::Reply AdminApi::error(ApiError::Kind kind, const QString &message)
{
    const ApiError e{kind, message};
    return Reply{e.httpStatus(), openAiErrorBody(message, e.typeName()), false};
}

} // namespace route
