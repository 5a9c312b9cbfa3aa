#include "admin/adminjson.h"

#include "domain/upstream.h"
#include "net/outboundproxy.h"
#include "store/database.h"

#include <QJsonArray>
#include <QUrl>

#include <cmath>

namespace route {

namespace AdminJson {

namespace {

QJsonValue timeValue(const QDateTime &t)
{
    return t.isValid() ? QJsonValue(t.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue(QJsonValue::Null);
}

ApiError badRequest(const QString &message)
{
    return ApiError{ApiError::Kind::BadRequest, message};
}

std::optional<int> intField(const QJsonObject &o, const char *name, int minimum, QString *error)
{
    const QJsonValue v = o.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    const double d = v.toDouble(-1);
    // The range first: converting a double beyond qint64 is undefined (found by fuzz_adminjson).
    if (!v.isDouble() || d < minimum || d > 1e9 || d != std::floor(d)) {
        *error = QObject::tr("%1 must be an integer ≥ %2").arg(QLatin1String(name)).arg(minimum);
        return std::nullopt;
    }
    return int(d);
}

std::optional<QStringList> listField(const QJsonObject &o, const char *name, QString *error)
{
    const QJsonValue v = o.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    QStringList out;
    if (v.isString()) { // "a,b" is accepted too, as in the database
        for (const QString &s : v.toString().split(QLatin1Char(','), Qt::SkipEmptyParts))
            out << s.trimmed();
        return out;
    }
    if (!v.isArray()) {
        *error = QObject::tr("%1 must be an array of strings").arg(QLatin1String(name));
        return std::nullopt;
    }
    for (const QJsonValue &item : v.toArray()) {
        if (!item.isString() || item.toString().contains(QLatin1Char(','))) {
            *error = QObject::tr("%1 must be an array of strings without commas").arg(QLatin1String(name));
            return std::nullopt;
        }
        if (!item.toString().trimmed().isEmpty())
            out << item.toString().trimmed();
    }
    return out;
}

} // namespace

QJsonObject fromUpstream(const Upstream &u, const UpstreamHealth &health, qint64 nowMs)
{
    const bool resting = health.state != HealthState::Healthy && health.untilMs > nowMs;
    const QJsonObject h{
        {QStringLiteral("State"), UpstreamHealth::stateName(health.state)},
        {QStringLiteral("Reason"), health.reason},
        {QStringLiteral("RetryInSeconds"), resting ? double((health.untilMs - nowMs + 999) / 1000) : 0.0},
        {QStringLiteral("InFlight"), health.inFlight},
        {QStringLiteral("LatencyMs"),
            health.ttfbEwmaMs < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(qRound(health.ttfbEwmaMs))},
    };
    return QJsonObject{
        {QStringLiteral("Health"), h},
        {QStringLiteral("ID"), u.id},
        {QStringLiteral("SK"), u.sk},
        {QStringLiteral("Endpoint"), u.endpoint},
        {QStringLiteral("Name"), u.name},
        {QStringLiteral("Enabled"), u.enabled},
        {QStringLiteral("Weight"), u.weight},
        {QStringLiteral("Allow"), QJsonArray::fromStringList(u.allow)},
        {QStringLiteral("Deny"), QJsonArray::fromStringList(u.deny)},
        {QStringLiteral("Timeout"), u.timeoutSec},
        {QStringLiteral("StreamTimeout"), u.streamTimeoutSec},
        {QStringLiteral("SortOrder"), u.sortOrder},
        {QStringLiteral("Format"), QString(Vocabulary::name(u.format))},
        {QStringLiteral("Responses"), u.responses},
        {QStringLiteral("ModelMap"), u.modelMap.toObject()},
        {QStringLiteral("Proxy"), OutboundProxy::masked(u.proxy)},
        {QStringLiteral("Models"), QJsonArray::fromStringList(u.models)},
        {QStringLiteral("ModelsFetchedAt"), timeValue(u.modelsFetchedAt)},
        {QStringLiteral("ModelsError"), u.modelsError},
        {QStringLiteral("SuccessCount"), u.successCount},
        {QStringLiteral("FailedCount"), u.failedCount},
        {QStringLiteral("LastCallSuccessTime"), timeValue(u.lastCallSuccessTime)},
        {QStringLiteral("CreatedAt"), timeValue(u.createdAt)},
        {QStringLiteral("UpdatedAt"), timeValue(u.updatedAt)},
    };
}

QJsonObject fromRecord(const RequestRecord &r)
{
    QJsonObject o{
        {QStringLiteral("ID"), r.id},
        {QStringLiteral("CreatedAt"), timeValue(r.createdAt)},
        {QStringLiteral("IP"), r.clientIp},
        {QStringLiteral("ClientToken"), r.clientTokenId},
        {QStringLiteral("ClientTokenID"), r.appTokenId},
        {QStringLiteral("ClientApp"), r.clientApp},
        {QStringLiteral("CostUSD"), r.costUsd},
        {QStringLiteral("Method"), r.method},
        {QStringLiteral("Path"), r.path},
        {QStringLiteral("Model"), r.model},
        {QStringLiteral("UpstreamModel"), r.upstreamModel.isEmpty() ? r.model : r.upstreamModel},
        {QStringLiteral("Stream"), r.stream},
        {QStringLiteral("UpstreamID"), r.upstreamId},
        {QStringLiteral("Status"), r.status},
        {QStringLiteral("TTFBMs"), r.ttfbMs},
        {QStringLiteral("DurationMs"), r.durationMs},
        {QStringLiteral("Attempts"), r.attempts},
        {QStringLiteral("AttemptLog"), r.attemptLog},
        {QStringLiteral("RequestBytes"), r.requestBytes},
        {QStringLiteral("ResponseBytes"), r.responseBytes},
        {QStringLiteral("PromptTokens"), r.promptTokens},
        {QStringLiteral("CompletionTokens"), r.completionTokens},
        {QStringLiteral("TotalTokens"), r.totalTokens},
        {QStringLiteral("CachedTokens"), r.cachedTokens},
        {QStringLiteral("CacheWriteTokens"), r.cacheWriteTokens},
        {QStringLiteral("ReasoningTokens"), r.reasoningTokens},
        {QStringLiteral("Session"), r.session},
        {QStringLiteral("Converted"), r.converted},
        {QStringLiteral("Outcome"), QString(Vocabulary::name(r.outcome))},
        {QStringLiteral("Error"), r.error},
        {QStringLiteral("UserAgent"), r.userAgent},
    };
    if (!r.body.isEmpty())
        o.insert(QStringLiteral("Body"), r.body);
    if (!r.response.isEmpty())
        o.insert(QStringLiteral("Response"), r.response);
    return o;
}

QJsonObject fromSettings(const Settings &s)
{
    return QJsonObject{
        {QStringLiteral("Policy"), QString(Vocabulary::name(s.policy))},
        {QStringLiteral("Timeout"), s.timeoutSec},
        {QStringLiteral("StreamTimeout"), s.streamTimeoutSec},
        {QStringLiteral("IdleTimeout"), s.idleTimeoutSec},
        {QStringLiteral("RecordBodies"), s.recordBodies},
        {QStringLiteral("RecordRetentionDays"), s.recordRetentionDays},
        {QStringLiteral("RecordMaxRows"), s.recordMaxRows},
        {QStringLiteral("AffinityTTL"), s.affinityTtlSec},
        {QStringLiteral("ModelsRefreshMinutes"), s.modelsRefreshMinutes},
        {QStringLiteral("AllowedHosts"), QJsonArray::fromStringList(s.allowedHosts)},
        {QStringLiteral("AllowedOrigins"), QJsonArray::fromStringList(s.allowedOrigins)},
        {QStringLiteral("MetricsPublic"), s.metricsPublic},
        {QStringLiteral("WebhookURL"), s.webhookUrl},
        {QStringLiteral("WebhookFormat"), s.webhookFormat},
    };
}

QJsonObject fromAppToken(const AppToken &t, const TokenSpend &spend)
{
    return QJsonObject{
        {QStringLiteral("ID"), t.id},
        {QStringLiteral("Name"), t.name},
        {QStringLiteral("Prefix"), t.prefix},
        {QStringLiteral("Enabled"), t.enabled},
        {QStringLiteral("ExpiresAt"), timeValue(t.expiresAt)},
        {QStringLiteral("Allow"), QJsonArray::fromStringList(t.allow)},
        {QStringLiteral("RPM"), t.rpm},
        {QStringLiteral("DailyTokenLimit"), double(t.dailyTokenLimit)},
        {QStringLiteral("MonthlyBudgetUSD"), t.monthlyBudgetUsd},
        {QStringLiteral("CreatedAt"), timeValue(t.createdAt)},
        {QStringLiteral("LastUsedAt"), timeValue(t.lastUsedAt)},
        {QStringLiteral("TokensToday"), double(spend.tokensToday)},
        {QStringLiteral("CostThisMonthUSD"), spend.costThisMonthUsd},
    };
}

QJsonObject fromUsage(const UsageRow &row)
{
    return QJsonObject{
        {QStringLiteral("Key"), row.key},
        {QStringLiteral("Requests"), double(row.requests)},
        {QStringLiteral("Errors"), double(row.errors)},
        {QStringLiteral("PromptTokens"), double(row.promptTokens)},
        {QStringLiteral("CachedTokens"), double(row.cachedTokens)},
        {QStringLiteral("CompletionTokens"), double(row.completionTokens)},
        {QStringLiteral("CostUSD"), row.costUsd},
    };
}

std::variant<AppTokenPatch, ApiError> toTokenPatch(const QJsonObject &o)
{
    AppTokenPatch p;
    QString error;
    const QJsonValue name = o.value(QLatin1String("Name"));
    if (name.isString())
        p.name = name.toString().trimmed();
    else if (!name.isUndefined() && !name.isNull())
        error = QObject::tr("%1 must be a string").arg(QStringLiteral("Name"));
    const QJsonValue enabled = o.value(QLatin1String("Enabled"));
    if (enabled.isBool())
        p.enabled = enabled.toBool();
    else if (error.isEmpty() && !enabled.isUndefined() && !enabled.isNull())
        error = QObject::tr("Enabled must be true or false");
    const QJsonValue expires = o.value(QLatin1String("ExpiresAt"));
    if (error.isEmpty() && expires.isNull())
        p.expiresAt = QDateTime(); // null clears it
    else if (error.isEmpty() && !expires.isUndefined()) {
        const QDateTime t = QDateTime::fromString(expires.toString(), Qt::ISODateWithMs);
        if (!expires.isString() || !t.isValid())
            error = QStringLiteral("ExpiresAt must be an ISO 8601 time, such as 2026-12-31T23:59:59Z, or null");
        else
            p.expiresAt = t.toUTC();
    }
    if (error.isEmpty())
        p.allow = listField(o, "Allow", &error);
    if (error.isEmpty())
        p.rpm = intField(o, "RPM", 0, &error);
    if (error.isEmpty()) {
        const QJsonValue daily = o.value(QLatin1String("DailyTokenLimit"));
        if (!daily.isUndefined() && !daily.isNull()) {
            const double d = daily.toDouble(-1);
            if (!daily.isDouble() || d < 0 || d > 1e15 || d != std::floor(d))
                error = QObject::tr("%1 must be an integer ≥ %2").arg(QStringLiteral("DailyTokenLimit")).arg(0);
            else
                p.dailyTokenLimit = qint64(d);
        }
    }
    if (error.isEmpty()) {
        const QJsonValue budget = o.value(QLatin1String("MonthlyBudgetUSD"));
        if (!budget.isUndefined() && !budget.isNull()) {
            if (!budget.isDouble() || budget.toDouble() < 0)
                error = QStringLiteral("MonthlyBudgetUSD must be a number of dollars, 0 or more");
            else
                p.monthlyBudgetUsd = budget.toDouble();
        }
    }
    if (!error.isEmpty())
        return badRequest(error);
    return p;
}

std::variant<UpstreamPatch, ApiError> toPatch(const QJsonObject &o)
{
    UpstreamPatch p;
    QString error;
    auto stringField = [&](const char *name) -> std::optional<QString> {
        const QJsonValue v = o.value(QLatin1String(name));
        if (v.isUndefined() || v.isNull())
            return std::nullopt;
        if (!v.isString()) {
            error = QObject::tr("%1 must be a string").arg(QLatin1String(name));
            return std::nullopt;
        }
        return v.toString().trimmed();
    };
    p.sk = stringField("SK");
    p.endpoint = stringField("Endpoint");
    p.name = stringField("Name");
    const QJsonValue enabled = o.value(QLatin1String("Enabled"));
    if (enabled.isBool())
        p.enabled = enabled.toBool();
    else if (!enabled.isUndefined() && !enabled.isNull())
        error = QObject::tr("Enabled must be true or false");
    if (error.isEmpty())
        p.weight = intField(o, "Weight", 0, &error);
    if (error.isEmpty())
        p.timeoutSec = intField(o, "Timeout", 0, &error);
    if (error.isEmpty())
        p.streamTimeoutSec = intField(o, "StreamTimeout", 0, &error);
    if (error.isEmpty())
        p.sortOrder = intField(o, "SortOrder", -1000000, &error);
    const QJsonValue format = o.value(QLatin1String("Format"));
    if (error.isEmpty() && !format.isUndefined() && !format.isNull()) {
        p.format = Vocabulary::parseFormat(format.toString());
        if (!format.isString() || !p.format)
            error = QObject::tr("Format must be openai or anthropic");
    }
    const QJsonValue responses = o.value(QLatin1String("Responses"));
    if (responses.isBool())
        p.responses = responses.toBool();
    else if (error.isEmpty() && !responses.isUndefined() && !responses.isNull())
        error = QObject::tr("Responses must be true or false");
    const QJsonValue modelMap = o.value(QLatin1String("ModelMap"));
    if (error.isEmpty() && !modelMap.isUndefined() && !modelMap.isNull()) {
        if (!modelMap.isObject())
            error = QObject::tr("ModelMap must be an object of model names");
        else
            p.modelMap = ModelMap::fromObject(modelMap.toObject(), &error);
    }
    if (error.isEmpty())
        p.proxy = stringField("Proxy");
    if (error.isEmpty() && p.proxy && p.proxy->contains(QLatin1String(":***@")))
        p.proxy.reset(); // the masked form read back unchanged: keep the stored one
    if (error.isEmpty())
        p.allow = listField(o, "Allow", &error);
    if (error.isEmpty())
        p.deny = listField(o, "Deny", &error);
    if (!error.isEmpty())
        return badRequest(error);
    // The values themselves (an empty SK, a bad endpoint) are the
    // ConfigService's to judge, for every caller alike.
    return p;
}

std::variant<Settings, ApiError> applySettings(const QJsonObject &o, Settings s)
{
    QString error;
    const QJsonValue policy = o.value(QLatin1String("Policy"));
    if (!policy.isUndefined()) {
        const auto parsed = Vocabulary::parsePolicy(policy.toString());
        if (!policy.isString() || !parsed)
            return badRequest(
                QObject::tr("Policy must be one of: %1").arg(Vocabulary::policyNames().join(QStringLiteral(", "))));
        s.policy = *parsed;
    }
    if (auto v = intField(o, "Timeout", 1, &error))
        s.timeoutSec = *v;
    if (auto v = intField(o, "StreamTimeout", 1, &error))
        s.streamTimeoutSec = *v;
    if (auto v = intField(o, "IdleTimeout", 1, &error))
        s.idleTimeoutSec = *v;
    if (auto v = intField(o, "RecordRetentionDays", 0, &error))
        s.recordRetentionDays = *v;
    if (auto v = intField(o, "RecordMaxRows", 0, &error))
        s.recordMaxRows = *v;
    if (auto v = intField(o, "AffinityTTL", 0, &error))
        s.affinityTtlSec = *v;
    if (auto v = intField(o, "ModelsRefreshMinutes", 0, &error))
        s.modelsRefreshMinutes = *v;
    if (auto v = listField(o, "AllowedHosts", &error)) {
        s.allowedHosts = *v;
        for (QString &h : s.allowedHosts)
            h = h.trimmed().toLower();
    }
    if (auto v = listField(o, "AllowedOrigins", &error))
        s.allowedOrigins = *v;
    const QJsonValue metricsPublic = o.value(QLatin1String("MetricsPublic"));
    if (!metricsPublic.isUndefined()) {
        if (!metricsPublic.isBool())
            return badRequest(QObject::tr("MetricsPublic must be true or false"));
        s.metricsPublic = metricsPublic.toBool();
    }
    if (!error.isEmpty())
        return badRequest(error);
    const QJsonValue webhook = o.value(QLatin1String("WebhookURL"));
    if (!webhook.isUndefined()) {
        if (!webhook.isString())
            return badRequest(QObject::tr("%1 must be a string").arg(QLatin1String("WebhookURL")));
        s.webhookUrl = webhook.toString().trimmed();
    }
    const QJsonValue format = o.value(QLatin1String("WebhookFormat"));
    if (!format.isUndefined()) {
        if (!format.isString())
            return badRequest(QObject::tr("%1 must be a string").arg(QLatin1String("WebhookFormat")));
        s.webhookFormat = format.toString();
    }
    const QJsonValue bodies = o.value(QLatin1String("RecordBodies"));
    if (!bodies.isUndefined()) {
        if (!bodies.isBool())
            return badRequest(QObject::tr("RecordBodies must be true or false"));
        s.recordBodies = bodies.toBool();
    }
    return s;
}

} // namespace AdminJson

} // namespace route
