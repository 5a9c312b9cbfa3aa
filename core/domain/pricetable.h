#pragma once

#include <QHash>
#include <QJsonArray>
#include <QList>
#include <QString>

#include <optional>

namespace route {

// What a model costs, USD per million tokens (SPEC §11). A cached or
// cache-write rate below 0 is unset: the input rate applies.
struct Price
{
    QString model; // a name, or a glob with a trailing '*'
    double input = 0;
    double cachedInput = -1;
    double cacheWrite = -1;
    double output = 0;
};

// The prices by model: an exact name first, then the longest glob; a
// `vendor/model` name (OpenRouter's) falls back to its `model` part.
class PriceTable
{
public:
    PriceTable() = default;
    static std::optional<PriceTable> fromJson(const QJsonArray &array, QString *error = nullptr);
    QJsonArray toJson() const;
    // The table shipped with the app (resources/data/prices.json) and the date it was taken.
    static const PriceTable &defaults();
    static QString defaultsTaken();

    const Price *find(const QString &model) const;
    // The cost of one request; PROMPT counts all input, cached and written included.
    // Null: the model has no price.
    std::optional<double> cost(
        const QString &model, qint64 prompt, qint64 cached, qint64 cacheWrite, qint64 completion) const;
    // Priced at nothing (or not at all): a money budget never blocks it.
    bool isFree(const QString &model) const;

    const QList<Price> &prices() const { return m_prices; }
    bool isEmpty() const { return m_prices.isEmpty(); }

private:
    const Price *findExactly(const QString &model) const;
    QList<Price> m_prices; // as given
    QHash<QString, qsizetype> m_exact; // index by name: a lookup per request, without a scan
    QList<qsizetype> m_globs; // indexes into m_prices, longest first (indexes survive a copy)
};

} // namespace route
