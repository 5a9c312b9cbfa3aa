#include "domain/modelmap.h"

#include <QJsonDocument>

#include <algorithm>

namespace route {

namespace {

bool isGlob(const QString &name)
{
    return name.endsWith(QLatin1Char('*'));
}

// The check for one entry; empty when it is fine.
QString problemWith(const ModelMap::Entry &e)
{
    if (e.from.trimmed().isEmpty() || e.to.trimmed().isEmpty())
        return QStringLiteral("ModelMap: names must not be empty");
    if (e.from.indexOf(QLatin1Char('*')) >= 0 && e.from.indexOf(QLatin1Char('*')) != e.from.size() - 1)
        return QStringLiteral("ModelMap: '*' may only end a name (%1)").arg(e.from);
    if (e.to.indexOf(QLatin1Char('*')) >= 0 && (!isGlob(e.from) || e.to.indexOf(QLatin1Char('*')) != e.to.size() - 1))
        return QStringLiteral("ModelMap: a target may end in '*' only when its name does (%1)").arg(e.from);
    if (e.from.size() > 200 || e.to.size() > 200)
        return QStringLiteral("ModelMap: names are at most 200 characters");
    return QString();
}

} // namespace

std::optional<ModelMap> ModelMap::fromEntries(const QList<Entry> &entries, QString *error)
{
    ModelMap map;
    for (Entry e : entries) {
        e.from = e.from.trimmed();
        e.to = e.to.trimmed();
        const QString problem = problemWith(e);
        if (!problem.isEmpty()) {
            if (error)
                *error = problem;
            return std::nullopt;
        }
        QList<Entry> &list = isGlob(e.from) ? map.m_globs : map.m_exact;
        const auto same = std::find_if(list.begin(), list.end(), [&](const Entry &x) { return x.from == e.from; });
        if (same != list.end())
            *same = e; // the last one counts, as in a JSON object
        else
            list << e;
    }
    std::sort(map.m_exact.begin(), map.m_exact.end(), [](const Entry &a, const Entry &b) { return a.from < b.from; });
    std::stable_sort(map.m_globs.begin(), map.m_globs.end(),
        [](const Entry &a, const Entry &b) { return a.from.size() > b.from.size(); });
    return map;
}

std::optional<ModelMap> ModelMap::fromObject(const QJsonObject &object, QString *error)
{
    QList<Entry> entries;
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (!it.value().isString()) {
            if (error)
                *error = QStringLiteral("ModelMap: the value of %1 must be a string").arg(it.key());
            return std::nullopt;
        }
        entries << Entry{it.key(), it.value().toString()};
    }
    return fromEntries(entries, error);
}

ModelMap ModelMap::fromStored(const QString &text)
{
    if (text.trimmed().isEmpty())
        return ModelMap();
    return fromObject(QJsonDocument::fromJson(text.toUtf8()).object()).value_or(ModelMap());
}

QJsonObject ModelMap::toObject() const
{
    QJsonObject o;
    for (const Entry &e : entries())
        o.insert(e.from, e.to);
    return o;
}

QString ModelMap::toStored() const
{
    if (isEmpty())
        return QString();
    return QString::fromUtf8(QJsonDocument(toObject()).toJson(QJsonDocument::Compact));
}

std::optional<QString> ModelMap::resolve(const QString &model) const
{
    if (model.isEmpty())
        return std::nullopt;
    const auto exact = std::lower_bound(
        m_exact.cbegin(), m_exact.cend(), model, [](const Entry &e, const QString &m) { return e.from < m; });
    if (exact != m_exact.cend() && exact->from == model)
        return exact->to;
    for (const Entry &g : m_globs) {
        const QStringView prefix = QStringView(g.from).chopped(1);
        if (!model.startsWith(prefix))
            continue;
        if (isGlob(g.to))
            return QStringView(g.to).chopped(1) + QStringView(model).sliced(prefix.size());
        return g.to;
    }
    return std::nullopt;
}

QStringList ModelMap::exactKeys() const
{
    QStringList out;
    out.reserve(m_exact.size());
    for (const Entry &e : m_exact)
        out << e.from;
    return out;
}

} // namespace route
