#include "http/httpheaders.h"

namespace route {

void HttpHeaders::set(const QByteArray &name, const QByteArray &value)
{
    remove(name);
    append(name, value);
}

void HttpHeaders::remove(QByteArrayView name)
{
    m_pairs.removeIf([name](const Pair &p) { return nameEquals(p.first, name); });
}

QByteArray HttpHeaders::value(QByteArrayView name) const
{
    for (const Pair &p : m_pairs)
        if (nameEquals(p.first, name))
            return p.second;
    return QByteArray();
}

bool HttpHeaders::contains(QByteArrayView name) const
{
    for (const Pair &p : m_pairs)
        if (nameEquals(p.first, name))
            return true;
    return false;
}

bool HttpHeaders::hasToken(QByteArrayView name, QByteArrayView token) const
{
    for (const Pair &p : m_pairs) {
        if (!nameEquals(p.first, name))
            continue;
        QByteArrayView rest = p.second;
        while (!rest.isEmpty()) {
            const qsizetype comma = Bytes::indexOf(rest, ',');
            if (nameEquals((comma < 0 ? rest : rest.first(comma)).trimmed(), token))
                return true;
            rest = comma < 0 ? QByteArrayView() : rest.sliced(comma + 1);
        }
    }
    return false;
}

} // namespace route
