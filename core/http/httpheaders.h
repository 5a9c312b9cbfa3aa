#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include "http/headertable.h"
#include "util/bytes.h"

#include <utility>

namespace route {

// An ordered header list with case-insensitive lookup; duplicates are kept
// because HTTP allows them (Set-Cookie).
class HttpHeaders
{
public:
    using Pair = std::pair<QByteArray, QByteArray>;

    void append(const QByteArray &name, const QByteArray &value) { m_pairs.append({name, value}); }
    // For parsers: copies what it must. Well-known names and values (in the
    // spelling seen) come from static storage, without an allocation.
    void appendCopy(QByteArrayView name, QByteArrayView value)
    {
        m_pairs.append({HeaderTable::interned(name), HeaderTable::interned(value)});
    }
    void reserve(qsizetype n) { m_pairs.reserve(n); }
    void set(const QByteArray &name, const QByteArray &value);
    void remove(QByteArrayView name);
    QByteArray value(QByteArrayView name) const;
    bool contains(QByteArrayView name) const;
    // True when a comma-separated header (Connection, Expect) lists the token.
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    const QList<Pair> &pairs() const { return m_pairs; }
    QList<Pair>::const_iterator begin() const { return m_pairs.cbegin(); }
    QList<Pair>::const_iterator end() const { return m_pairs.cend(); }
    // Bytes of the block as "name: value\r\n" lines, to size a message up front.
    qsizetype lineBytes() const
    {
        qsizetype n = 0;
        for (const auto &[name, value] : m_pairs)
            n += name.size() + value.size() + 4;
        return n;
    }
    bool isEmpty() const { return m_pairs.isEmpty(); }
    qsizetype size() const { return m_pairs.size(); }

    // ASCII case-insensitive, inline: lookups run a dozen times per request.
    static bool nameEquals(QByteArrayView a, QByteArrayView b)
    {
        if (a.size() != b.size())
            return false;
        for (qsizetype i = 0; i < a.size(); ++i)
            if (lower(a[i]) != lower(b[i]))
                return false;
        return true;
    }

    // Calls f(line) for each line of a header block, without its CR LF (or
    // bare LF); stops early when f returns false. Views, no copies.
    template <typename F>
    static bool forEachLine(QByteArrayView block, F &&f)
    {
        while (!block.isEmpty()) {
            const qsizetype end = Bytes::indexOf(block, '\n');
            QByteArrayView line = end < 0 ? block : block.first(end);
            block = end < 0 ? QByteArrayView() : block.sliced(end + 1);
            if (line.endsWith('\r'))
                line.chop(1);
            if (!f(line))
                return false;
        }
        return true;
    }

private:
    static char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c + ('a' - 'A')) : c; }

    QList<Pair> m_pairs;
};

} // namespace route
