#include "http/httpheaders.h"

#include <array>
#include <cstring>
#include <vector>

QByteArray HttpHeaders::interned(QByteArrayView bytes)
{
    // The names and values of nearly every request and response the proxy
    // sees, spelled as clients (lower case) and servers (canonical) send
    // them; looked up by length first, where most lengths have one or none.
    constexpr qsizetype maxLength = 40;
    static const auto byLength = [] {
        static const QByteArray wellKnown[] = {QByteArrayLiteral("Host"), QByteArrayLiteral("host"),
            QByteArrayLiteral("User-Agent"), QByteArrayLiteral("user-agent"), QByteArrayLiteral("Accept"),
            QByteArrayLiteral("accept"), QByteArrayLiteral("Content-Type"), QByteArrayLiteral("content-type"),
            QByteArrayLiteral("Content-Length"), QByteArrayLiteral("content-length"),
            QByteArrayLiteral("Authorization"), QByteArrayLiteral("authorization"), QByteArrayLiteral("Connection"),
            QByteArrayLiteral("connection"), QByteArrayLiteral("Accept-Encoding"), QByteArrayLiteral("accept-encoding"),
            QByteArrayLiteral("Date"), QByteArrayLiteral("date"), QByteArrayLiteral("Transfer-Encoding"),
            QByteArrayLiteral("transfer-encoding"), QByteArrayLiteral("Cache-Control"),
            QByteArrayLiteral("cache-control"), QByteArrayLiteral("Server"), QByteArrayLiteral("server"),
            QByteArrayLiteral("Keep-Alive"), QByteArrayLiteral("keep-alive"), QByteArrayLiteral("application/json"),
            QByteArrayLiteral("application/json; charset=utf-8"), QByteArrayLiteral("text/event-stream"),
            QByteArrayLiteral("text/event-stream; charset=utf-8"), QByteArrayLiteral("*/*"),
            QByteArrayLiteral("chunked"), QByteArrayLiteral("close"), QByteArrayLiteral("no-cache"),
            QByteArrayLiteral("identity"), QByteArrayLiteral("gzip, deflate"), QByteArrayLiteral("gzip, deflate, br"),
            QByteArrayLiteral("X-Request-Id"), QByteArrayLiteral("x-request-id"),
            QByteArrayLiteral("Openai-Organization"), QByteArrayLiteral("openai-organization"),
            QByteArrayLiteral("X-Stainless-Lang"), QByteArrayLiteral("x-stainless-lang"), QByteArrayLiteral("js")};
        std::array<std::vector<const QByteArray *>, maxLength> index;
        for (const QByteArray &known : wellKnown)
            index[size_t(known.size())].push_back(&known);
        return index;
    }();
    if (bytes.size() < maxLength)
        for (const QByteArray *known : byLength[size_t(bytes.size())])
            if (std::memcmp(known->constData(), bytes.data(), size_t(bytes.size())) == 0)
                return *known;
    return bytes.toByteArray();
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
