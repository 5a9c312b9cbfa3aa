#include "http/httpheaders.h"

bool HttpHeaders::nameEquals(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && a.compare(b, Qt::CaseInsensitive) == 0;
}

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
        for (const QByteArray &part : p.second.split(','))
            if (nameEquals(part.trimmed(), token))
                return true;
    }
    return false;
}
