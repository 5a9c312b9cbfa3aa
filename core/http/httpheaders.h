#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <utility>

// An ordered header list with case-insensitive lookup; duplicates are kept
// because HTTP allows them (Set-Cookie).
class HttpHeaders
{
public:
    using Pair = std::pair<QByteArray, QByteArray>;

    void append(const QByteArray &name, const QByteArray &value) { m_pairs.append({name, value}); }
    void set(const QByteArray &name, const QByteArray &value);
    void remove(QByteArrayView name);
    QByteArray value(QByteArrayView name) const;
    bool contains(QByteArrayView name) const;
    // True when a comma-separated header (Connection, Expect) lists the token.
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    const QList<Pair> &pairs() const { return m_pairs; }
    QList<Pair>::const_iterator begin() const { return m_pairs.cbegin(); }
    QList<Pair>::const_iterator end() const { return m_pairs.cend(); }
    bool isEmpty() const { return m_pairs.isEmpty(); }
    qsizetype size() const { return m_pairs.size(); }

    static bool nameEquals(QByteArrayView a, QByteArrayView b);

private:
    QList<Pair> m_pairs;
};
