#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace route {

// An upstream's model aliases (SPEC §10): the name a client asks for → the
// name this upstream knows. A key is exact (`gpt-4o`) or a prefix glob
// (`gpt-*`); a glob's target may end in `*` too, which takes the rest of the
// client's name (`gpt-*` → `openai/gpt-*` sends `gpt-4o` as `openai/gpt-4o`).
// An exact key wins over globs, a longer glob over a shorter one.
class ModelMap
{
public:
    struct Entry
    {
        QString from;
        QString to;
        bool operator==(const Entry &other) const { return from == other.from && to == other.to; }
    };

    ModelMap() = default;
    // Null when ENTRIES break a rule; ERROR says which, in English.
    static std::optional<ModelMap> fromEntries(const QList<Entry> &entries, QString *error = nullptr);
    static std::optional<ModelMap> fromObject(const QJsonObject &object, QString *error = nullptr);
    // The stored form (a JSON object, or empty); unreadable text is an empty map.
    static ModelMap fromStored(const QString &text);
    QString toStored() const;
    QJsonObject toObject() const;

    bool isEmpty() const { return m_exact.isEmpty() && m_globs.isEmpty(); }
    // The name to send for MODEL, when an entry matches.
    std::optional<QString> resolve(const QString &model) const;
    bool matches(const QString &model) const { return resolve(model).has_value(); }
    // The keys that are names, not globs: they appear in /v1/models.
    QStringList exactKeys() const;
    // Exact ones first, by name; then the globs, longest first.
    QList<Entry> entries() const { return m_exact + m_globs; }

    bool operator==(const ModelMap &other) const { return m_exact == other.m_exact && m_globs == other.m_globs; }

private:
    QList<Entry> m_exact; // sorted by `from`
    QList<Entry> m_globs; // longest prefix first
};

} // namespace route
