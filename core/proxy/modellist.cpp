#include "proxy/modellist.h"

#include "balancer/balancer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QUrl>

#include <algorithm>

namespace route {

namespace ModelList {

namespace {

// Allow/Deny as they apply to a model name (its alias here included, as
// for routing); path patterns say nothing here.
bool listable(const Upstream &u, const QString &model)
{
    const std::optional<QString> alias = u.modelMap.resolve(model);
    const auto isModelPattern = [](const QString &p) { return !p.startsWith(QLatin1Char('/')); };
    const auto hit = [&](const QString &p) {
        return isModelPattern(p)
            && (Balancer::matches(p, {model, {}, {}, {}}) || (alias && Balancer::matches(p, {*alias, {}, {}, {}})));
    };
    if (std::any_of(u.allow.cbegin(), u.allow.cend(), isModelPattern)
        && std::none_of(u.allow.cbegin(), u.allow.cend(), hit))
        return false;
    return std::none_of(u.deny.cbegin(), u.deny.cend(), hit);
}

QString ownerOf(const Upstream &u)
{
    if (!u.name.trimmed().isEmpty())
        return u.name.trimmed();
    return QUrl(u.endpoint).host();
}

bool inShape(const Upstream &u, Shape shape)
{
    return u.enabled && (shape == Shape::Anthropic || u.format == ApiFormat::OpenAI);
}

QJsonObject modelObject(const Entry &e, Shape shape)
{
    const QDateTime created = e.created.isValid() ? e.created.toUTC() : QDateTime::fromSecsSinceEpoch(0, Qt::UTC);
    if (shape == Shape::Anthropic)
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("model")}, {QStringLiteral("id"), e.id},
            {QStringLiteral("display_name"), e.id}, {QStringLiteral("created_at"), created.toString(Qt::ISODate)}};
    return QJsonObject{{QStringLiteral("id"), e.id}, {QStringLiteral("object"), QStringLiteral("model")},
        {QStringLiteral("created"), double(created.toSecsSinceEpoch())}, {QStringLiteral("owned_by"), e.ownedBy}};
}

} // namespace

QList<Entry> merged(const Snapshot &snapshot, Shape shape)
{
    QList<Entry> out;
    QSet<QString> seen;
    const auto add = [&](const QString &id, const Upstream &u) {
        if (id.isEmpty() || seen.contains(id) || !listable(u, id))
            return;
        seen.insert(id);
        out << Entry{id, ownerOf(u), u.modelsFetchedAt};
    };
    // In the upstreams' order: the first that serves a model names its owner.
    for (const Upstream &u : snapshot.upstreams) {
        if (!inShape(u, shape))
            continue;
        for (const QString &id : u.models)
            add(id, u);
        for (const QString &id : u.modelMap.exactKeys())
            add(id, u);
    }
    std::sort(out.begin(), out.end(), [](const Entry &a, const Entry &b) { return a.id < b.id; });
    return out;
}

std::optional<Entry> find(const Snapshot &snapshot, Shape shape, const QString &id)
{
    for (const Upstream &u : snapshot.upstreams) {
        if (!inShape(u, shape) || !listable(u, id))
            continue;
        if (std::binary_search(u.models.cbegin(), u.models.cend(), id) || u.modelMap.exactKeys().contains(id))
            return Entry{id, ownerOf(u), u.modelsFetchedAt};
    }
    return std::nullopt;
}

bool anyFetched(const Snapshot &snapshot)
{
    return std::any_of(snapshot.upstreams.cbegin(), snapshot.upstreams.cend(),
        [](const Upstream &u) { return u.enabled && (u.modelsFetchedAt.isValid() || !u.modelsError.isEmpty()); });
}

QByteArray listJson(const QList<Entry> &entries, Shape shape)
{
    QJsonArray data;
    for (const Entry &e : entries)
        data.append(modelObject(e, shape));
    QJsonObject root{{QStringLiteral("data"), data}};
    if (shape == Shape::Anthropic) {
        root.insert(QStringLiteral("has_more"), false);
        root.insert(QStringLiteral("first_id"), entries.isEmpty() ? QJsonValue() : QJsonValue(entries.first().id));
        root.insert(QStringLiteral("last_id"), entries.isEmpty() ? QJsonValue() : QJsonValue(entries.last().id));
    } else {
        root.insert(QStringLiteral("object"), QStringLiteral("list"));
    }
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

QByteArray modelJson(const Entry &entry, Shape shape)
{
    return QJsonDocument(modelObject(entry, shape)).toJson(QJsonDocument::Compact);
}

} // namespace ModelList

} // namespace route
