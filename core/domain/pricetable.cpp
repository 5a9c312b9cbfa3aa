#include "domain/pricetable.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace route {

namespace {

QJsonObject documentOfDefaults()
{
    QFile file(QStringLiteral(":/data/prices.json"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

} // namespace

std::optional<PriceTable> PriceTable::fromJson(const QJsonArray &array, QString *error)
{
    PriceTable table;
    const auto fail = [error](const QString &why) -> std::optional<PriceTable> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        Price p;
        p.model = o.value(QLatin1String("Model")).toString().trimmed();
        if (p.model.isEmpty() || (p.model.contains(QLatin1Char('*')) && !p.model.endsWith(QLatin1Char('*'))))
            return fail(QStringLiteral("every price needs a Model: a name, or a glob ending in '*'"));
        const auto rate = [&](const char *name, double fallback, double *out) {
            const QJsonValue r = o.value(QLatin1String(name));
            if (r.isUndefined() || r.isNull()) {
                *out = fallback;
                return true;
            }
            *out = r.toDouble(-1);
            return r.isDouble() && *out >= 0 && *out < 1e6;
        };
        if (!rate("InputPerMTok", 0, &p.input) || !rate("CachedInputPerMTok", -1, &p.cachedInput)
            || !rate("CacheWritePerMTok", -1, &p.cacheWrite) || !rate("OutputPerMTok", 0, &p.output))
            return fail(
                QStringLiteral("the rates of %1 must be numbers of USD per million tokens, 0 or more").arg(p.model));
        table.m_prices << p;
    }
    for (qsizetype i = 0; i < table.m_prices.size(); ++i) {
        if (table.m_prices.at(i).model.endsWith(QLatin1Char('*')))
            table.m_globs << i;
        else if (!table.m_exact.contains(table.m_prices.at(i).model))
            table.m_exact.insert(table.m_prices.at(i).model, i);
    }
    const QList<Price> &prices = table.m_prices;
    std::stable_sort(table.m_globs.begin(), table.m_globs.end(),
        [&prices](qsizetype a, qsizetype b) { return prices.at(a).model.size() > prices.at(b).model.size(); });
    return table;
}

QJsonArray PriceTable::toJson() const
{
    QJsonArray out;
    for (const Price &p : m_prices) {
        QJsonObject o{{QStringLiteral("Model"), p.model}, {QStringLiteral("InputPerMTok"), p.input},
            {QStringLiteral("OutputPerMTok"), p.output}};
        if (p.cachedInput >= 0)
            o.insert(QStringLiteral("CachedInputPerMTok"), p.cachedInput);
        if (p.cacheWrite >= 0)
            o.insert(QStringLiteral("CacheWritePerMTok"), p.cacheWrite);
        out.append(o);
    }
    return out;
}

const PriceTable &PriceTable::defaults()
{
    static const PriceTable table
        = fromJson(documentOfDefaults().value(QLatin1String("prices")).toArray()).value_or(PriceTable());
    return table;
}

QString PriceTable::defaultsTaken()
{
    return documentOfDefaults().value(QLatin1String("taken")).toString();
}

const Price *PriceTable::findExactly(const QString &model) const
{
    if (const auto it = m_exact.constFind(model); it != m_exact.cend())
        return &m_prices.at(*it);
    for (const qsizetype i : m_globs)
        if (model.startsWith(QStringView(m_prices.at(i).model).chopped(1)))
            return &m_prices.at(i);
    return nullptr;
}

const Price *PriceTable::find(const QString &model) const
{
    if (model.isEmpty())
        return nullptr;
    if (const Price *p = findExactly(model))
        return p;
    const qsizetype slash = model.lastIndexOf(QLatin1Char('/'));
    return slash >= 0 ? findExactly(model.mid(slash + 1)) : nullptr;
}

std::optional<double> PriceTable::cost(
    const QString &model, qint64 prompt, qint64 cached, qint64 cacheWrite, qint64 completion) const
{
    const Price *p = find(model);
    if (!p)
        return std::nullopt;
    const double cachedRate = p->cachedInput >= 0 ? p->cachedInput : p->input;
    const double writeRate = p->cacheWrite >= 0 ? p->cacheWrite : p->input;
    const qint64 plain = qMax<qint64>(0, prompt - cached - cacheWrite);
    return (double(plain) * p->input + double(cached) * cachedRate + double(cacheWrite) * writeRate
               + double(completion) * p->output)
        / 1e6;
}

bool PriceTable::isFree(const QString &model) const
{
    const Price *p = find(model);
    return !p || (p->input == 0 && p->output == 0 && p->cachedInput <= 0 && p->cacheWrite <= 0);
}

} // namespace route
