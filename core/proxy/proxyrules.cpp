#include "proxy/proxyrules.h"

#include "domain/upstream.h"
#include "util/bytes.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace route {

namespace ProxyRules {

namespace {

// What is derived from an endpoint or a key, made once per thread (so no
// lock) and bounded, since both can be edited at will.
template <typename Value, typename Make>
const Value &perThread(QHash<QString, Value> &cache, const QString &key, Make make)
{
    auto it = cache.constFind(key);
    if (it == cache.cend()) {
        if (cache.size() >= 256)
            cache.clear();
        it = cache.insert(key, make(key));
    }
    return *it;
}

struct ParsedEndpoint
{
    std::shared_ptr<const UpstreamOrigin> origin; // null: not a valid endpoint
    QByteArray basePath; // encoded, without a trailing slash
};

// KEY: the endpoint, then a newline and the proxy setting when there is one.
ParsedEndpoint parseEndpoint(const QString &key)
{
    ParsedEndpoint parsed;
    const qsizetype newline = key.indexOf(QLatin1Char('\n'));
    const QString endpoint = newline < 0 ? key : key.left(newline);
    const QString proxy = newline < 0 ? QString() : key.mid(newline + 1);
    if (!isValidEndpoint(endpoint))
        return parsed;
    const UpstreamTarget base = UpstreamTarget::fromUrl(QUrl(endpoint), proxy);
    parsed.origin = base.origin;
    parsed.basePath = base.pathAndQuery;
    while (parsed.basePath.endsWith('/'))
        parsed.basePath.chop(1);
    return parsed;
}

} // namespace

UpstreamTarget upstreamTarget(
    const QString &endpoint, const QByteArray &clientPath, const QByteArray &query, const QString &proxy)
{
    thread_local QHash<QString, ParsedEndpoint> cache;
    const ParsedEndpoint &parsed
        = perThread(cache, proxy.isEmpty() ? endpoint : endpoint + QLatin1Char('\n') + proxy, parseEndpoint);
    UpstreamTarget target;
    if (!parsed.origin)
        return target;
    target.origin = parsed.origin;
    // The client's path starts with /v1; the rest is appended unchanged.
    const QByteArrayView rest = clientPath.size() > 3 ? QByteArrayView(clientPath).sliced(3) : QByteArrayView();
    target.pathAndQuery.reserve(parsed.basePath.size() + rest.size() + query.size() + 2);
    target.pathAndQuery += parsed.basePath;
    target.pathAndQuery += rest;
    if (target.pathAndQuery.isEmpty())
        target.pathAndQuery = "/";
    if (!query.isEmpty()) {
        target.pathAndQuery += '?';
        target.pathAndQuery += query;
    }
    return target;
}

qint64 retryAfterMs(const QByteArray &value, const QDateTime &now)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return -1;
    bool ok = false;
    const double seconds = v.toDouble(&ok);
    if (ok)
        return seconds < 0 ? -1 : qint64(seconds * 1000);
    // An HTTP date says "GMT", which Qt's RFC 2822 parser wants as an offset.
    QString date = QString::fromLatin1(v);
    if (date.endsWith(QLatin1String(" GMT")))
        date = date.chopped(4) + QStringLiteral(" +0000");
    const QDateTime when = QDateTime::fromString(date, Qt::RFC2822Date);
    if (!when.isValid())
        return -1;
    return qMax<qint64>(0, now.msecsTo(when));
}

namespace {

// Headers the Connection header names are hop-by-hop too (RFC 9110 7.6.1).
bool namedByConnection(const QList<QByteArray> &connectionTokens, QByteArrayView name)
{
    for (const QByteArray &t : connectionTokens)
        if (HttpHeaders::nameEquals(t, name))
            return true;
    return false;
}

QList<QByteArray> connectionTokens(const QByteArray &connectionValue)
{
    QList<QByteArray> out;
    if (connectionValue.isEmpty())
        return out; // the usual case, without a list built and thrown away
    for (const QByteArray &t : connectionValue.split(','))
        if (!t.trimmed().isEmpty())
            out << t.trimmed();
    return out;
}

struct KeyBytes
{
    QByteArray key;
    QByteArray authorization; // "Bearer <key>"
};

// Converted once per thread and key, not per request.
const KeyBytes &keyBytes(const QString &sk)
{
    thread_local QHash<QString, KeyBytes> cache;
    return perThread(cache, sk, [](const QString &key) {
        const QByteArray bytes = key.toUtf8();
        return KeyBytes{bytes, "Bearer " + bytes};
    });
}

} // namespace

HttpHeaders upstreamRequestHeaders(const HttpHeaders &client, const QString &sk, ApiFormat format)
{
    HttpHeaders out;
    out.reserve(client.size() + 2); // grown from empty, the list was reallocated four times
    const QList<QByteArray> named = connectionTokens(client.value("connection"));
    for (const auto &[name, value] : client) {
        constexpr unsigned notForwarded = HeaderTable::HopByHop | HeaderTable::Framing | HeaderTable::ClientHop;
        if ((HeaderTable::properties(name) & notForwarded) || namedByConnection(named, name))
            continue;
        out.append(name, value);
    }
    // Without this, Qt would ask for gzip and decompress on its own, and the
    // client would get neither the upstream's bytes nor its headers.
    if (!out.contains("accept-encoding"))
        out.append(QByteArrayLiteral("Accept-Encoding"), QByteArrayLiteral("identity"));
    if (format == ApiFormat::Anthropic) {
        if (!sk.isEmpty())
            out.append(QByteArrayLiteral("x-api-key"), keyBytes(sk).key);
        if (!out.contains("anthropic-version"))
            out.append(QByteArrayLiteral("anthropic-version"), QByteArray::fromRawData(defaultAnthropicVersion, 10));
    } else if (!sk.isEmpty()) {
        out.append(QByteArrayLiteral("Authorization"), keyBytes(sk).authorization);
    }
    return out;
}

Endpoint endpointOf(QByteArrayView path)
{
    if (path == "/v1/chat/completions")
        return Endpoint::Chat;
    if (path == "/v1/responses" || path.startsWith("/v1/responses/"))
        return Endpoint::Responses;
    if (path == "/v1/messages/count_tokens")
        return Endpoint::CountTokens;
    if (path == "/v1/messages" || path.startsWith("/v1/messages/"))
        return Endpoint::Messages;
    return Endpoint::Other;
}

QByteArray affinityKey(const HttpHeaders &headers, const BodyTraits &body)
{
    // One pass over the headers (this runs on every request); the first of
    // the three names in SPEC order wins.
    static constexpr QByteArrayView names[] = {"x-claude-code-session-id", "session_id", "conversation_id"};
    QByteArrayView found[3];
    for (const auto &[name, value] : headers) {
        if (name.size() != 10 && name.size() != 15 && name.size() != 24)
            continue;
        for (int i = 0; i < 3; ++i)
            if (found[i].isNull() && HttpHeaders::nameEquals(name, names[i]))
                found[i] = QByteArrayView(value).trimmed();
    }
    for (const QByteArrayView &value : found)
        if (!value.isEmpty())
            return value.first(qMin<qsizetype>(value.size(), 200)).toByteArray();
    if (!body.promptCacheKey.isEmpty())
        return body.promptCacheKey.left(200).toUtf8();
    if (!body.previousResponseId.isEmpty())
        return "resp:" + body.previousResponseId.left(200).toUtf8();
    if (!body.metadataUserId.isEmpty())
        return body.metadataUserId.left(200).toUtf8();
    return QByteArray();
}

namespace {

// OpenAI's resets: "1s", "6m0s", "59.5s", "20ms", "1h2m3s".
qint64 durationMs(QByteArrayView text)
{
    qint64 total = 0;
    bool any = false;
    while (!text.isEmpty()) {
        qsizetype i = 0;
        while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
            ++i;
        if (i == 0)
            return -1;
        bool ok = false;
        const double value = text.first(i).toByteArray().toDouble(&ok);
        text = text.sliced(i);
        if (!ok)
            return -1;
        double unit = 0;
        if (text.startsWith("ms")) {
            unit = 1, text = text.sliced(2);
        } else if (text.startsWith("s")) {
            unit = 1000, text = text.sliced(1);
        } else if (text.startsWith("m")) {
            unit = 60000, text = text.sliced(1);
        } else if (text.startsWith("h")) {
            unit = 3600000, text = text.sliced(1);
        } else {
            return -1;
        }
        total += qint64(value * unit);
        any = true;
    }
    return any ? total : -1;
}

// A reset as either form: a duration, or an RFC 3339 time (Anthropic's).
qint64 resetInMs(const QByteArray &value, const QDateTime &now)
{
    if (value.isEmpty())
        return -1;
    bool seconds = false;
    if (const qint64 s = value.trimmed().toLongLong(&seconds); seconds)
        return s * 1000;
    if (const qint64 ms = durationMs(value.trimmed()); ms >= 0)
        return ms;
    const QDateTime at = QDateTime::fromString(QString::fromLatin1(value.trimmed()), Qt::ISODateWithMs);
    return at.isValid() ? qMax<qint64>(0, now.msecsTo(at)) : -1;
}

} // namespace

qint64 quotaExhaustedForMs(const HttpHeaders &headers)
{
    return quotaExhaustedForMs(headers, QDateTime());
}

qint64 quotaExhaustedForMs(const HttpHeaders &headers, const QDateTime &at)
{
    // Every answer passes here: one pass, and only a "0" left costs more.
    qint64 longest = -1;
    for (const auto &[name, value] : headers) {
        if (value.size() != 1 || value[0] != '0' || name.size() < 20)
            continue;
        QByteArray reset;
        constexpr QByteArrayView openAi("x-ratelimit-remaining-");
        constexpr QByteArrayView anthropic("anthropic-ratelimit-");
        constexpr QByteArrayView remainingSuffix("-remaining");
        if (name.size() > openAi.size() && HttpHeaders::nameEquals(QByteArrayView(name).first(openAi.size()), openAi)) {
            // x-ratelimit-remaining-requests -> x-ratelimit-reset-requests
            reset = headers.value(QByteArray("x-ratelimit-reset-" + name.mid(openAi.size())));
        } else if (name.size() > anthropic.size() + remainingSuffix.size()
            && HttpHeaders::nameEquals(QByteArrayView(name).first(anthropic.size()), anthropic)
            && HttpHeaders::nameEquals(QByteArrayView(name).last(remainingSuffix.size()), remainingSuffix)) {
            // anthropic-ratelimit-tokens-remaining -> anthropic-ratelimit-tokens-reset
            reset = headers.value(QByteArray(name.chopped(remainingSuffix.size()) + "-reset"));
        } else {
            continue;
        }
        // The clock is read only here: most answers have something left.
        const qint64 ms = resetInMs(reset, at.isValid() ? at : QDateTime::currentDateTimeUtc());
        longest = qMax(longest, ms < 0 ? qint64(1000) : ms);
    }
    return longest;
}

HttpHeaders clientResponseHeaders(const QList<std::pair<QByteArray, QByteArray>> &upstream, const QString &sk)
{
    HttpHeaders out;
    out.reserve(upstream.size());
    QByteArray connectionValue;
    for (const auto &[name, value] : upstream)
        if (HttpHeaders::nameEquals(name, "connection"))
            connectionValue = value;
    const QList<QByteArray> named = connectionTokens(connectionValue);
    const QByteArray key = sk.isEmpty() ? QByteArray() : keyBytes(sk).key;
    for (const auto &[name, value] : upstream) {
        if ((HeaderTable::properties(name) & (HeaderTable::HopByHop | HeaderTable::Framing))
            || namedByConnection(named, name))
            continue;
        if (key.size() >= 8 && Bytes::contains(value, key))
            continue;
        out.append(name, value);
    }
    return out;
}

namespace {

QString multipartField(const QByteArray &contentType, const QByteArray &body, const QByteArray &field)
{
    const qsizetype b = contentType.indexOf("boundary=");
    if (b < 0)
        return QString();
    QByteArray boundary = contentType.mid(b + 9);
    const qsizetype semi = boundary.indexOf(';');
    if (semi >= 0)
        boundary.truncate(semi);
    boundary = boundary.trimmed();
    if (boundary.startsWith('"') && boundary.endsWith('"') && boundary.size() >= 2)
        boundary = boundary.mid(1, boundary.size() - 2);
    if (boundary.isEmpty())
        return QString();
    const QByteArray delimiter = "--" + boundary;
    const QByteArray nameToken = "name=\"" + field + '"';
    qsizetype pos = body.indexOf(delimiter);
    while (pos >= 0) {
        const qsizetype headEnd = body.indexOf("\r\n\r\n", pos);
        if (headEnd < 0)
            return QString();
        const qsizetype next = body.indexOf(QByteArray("\r\n" + delimiter), headEnd);
        if (next < 0)
            return QString();
        const QByteArray partHead = body.mid(pos, headEnd - pos);
        if (partHead.contains(nameToken) && !partHead.contains("filename="))
            return QString::fromUtf8(body.mid(headEnd + 4, qMin<qsizetype>(next - headEnd - 4, 256))).trimmed();
        pos = next + 2;
    }
    return QString();
}

} // namespace

namespace {

// Reads `model` and `stream` from the top level of a JSON object without
// building a document: a request body can be megabytes of messages, and the
// proxy needs two fields. Nested values are skipped by bracket depth (strings
// and escapes respected), not validated: the upstream judges the JSON. Like
// a JSON parser, a repeated key counts with its last value.
class TopLevelScanner
{
public:
    explicit TopLevelScanner(QByteArrayView json) : m_p(json.begin()), m_end(json.end()) { }

    bool scan(BodyTraits *out, QByteArrayView *modelSpan = nullptr)
    {
        const bool read = forEachKey([out, modelSpan](QByteArrayView key, TopLevelScanner &at) {
            if (key == "model" && at.peek() == '"') {
                const char *start = at.m_p;
                const bool ok = at.readText(&out->model);
                if (modelSpan)
                    *modelSpan = QByteArrayView(start, at.m_p - start);
                return ok;
            }
            if (key == "prompt_cache_key" && at.peek() == '"')
                return at.readText(&out->promptCacheKey);
            if (key == "previous_response_id" && at.peek() == '"')
                return at.readText(&out->previousResponseId);
            if (key == "metadata" && at.peek() == '{') {
                const char *start = at.m_p;
                if (!at.skipValue())
                    return false;
                out->metadataUserId = stringIn(QByteArrayView(start, at.m_p - start), "user_id");
                return true;
            }
            if (key == "model" || key == "stream") {
                const char *start = at.m_p;
                if (!at.skipValue())
                    return false;
                if (key == "model")
                    out->model.clear(); // not a string: as if absent
                else
                    out->stream = QByteArrayView(start, at.m_p - start) == "true";
                return true;
            }
            return at.skipValue();
        });
        skipSpace();
        return read && m_p == m_end;
    }

    // The string value of a top-level KEY of an object, or empty.
    static QString stringIn(QByteArrayView object, QByteArrayView wanted)
    {
        TopLevelScanner inner(object);
        QString value;
        inner.forEachKey([&](QByteArrayView key, TopLevelScanner &at) {
            if (key == wanted && at.peek() == '"')
                return at.readText(&value);
            return at.skipValue();
        });
        return value;
    }

private:
    // Calls f(key, scanner) at each key of an object, the scanner at its
    // value, which f must read or skip; a repeated key comes again.
    template <typename F>
    bool forEachKey(F &&f)
    {
        skipSpace();
        if (!consume('{'))
            return false;
        skipSpace();
        if (consume('}'))
            return true;
        for (;;) {
            skipSpace();
            QByteArrayView rawKey;
            bool escaped = false;
            if (!readString(&rawKey, &escaped))
                return false;
            // A view unless escaped: keys are compared, never kept.
            const QByteArray unescapedKey = escaped ? unescape(rawKey) : QByteArray();
            const QByteArrayView key = escaped ? QByteArrayView(unescapedKey) : rawKey;
            skipSpace();
            if (!consume(':'))
                return false;
            skipSpace();
            if (!f(key, *this))
                return false;
            skipSpace();
            if (consume(','))
                continue;
            return consume('}');
        }
    }

    bool readText(QString *out)
    {
        QByteArrayView raw;
        bool escaped = false;
        if (!readString(&raw, &escaped))
            return false;
        *out = QString::fromUtf8(escaped ? unescape(raw) : raw.toByteArray());
        return true;
    }

    char peek() const { return m_p < m_end ? *m_p : '\0'; }
    bool consume(char c)
    {
        if (peek() != c)
            return false;
        ++m_p;
        return true;
    }
    void skipSpace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }

    // At an opening quote: the raw contents up to the closing one.
    bool readString(QByteArrayView *raw, bool *escaped)
    {
        if (!consume('"'))
            return false;
        const char *start = m_p;
        *escaped = false;
        while (m_p < m_end) {
            const char c = *m_p;
            if (c == '"') {
                *raw = QByteArrayView(start, m_p - start);
                ++m_p;
                return true;
            }
            if (c == '\\') {
                *escaped = true;
                ++m_p;
            }
            ++m_p;
        }
        return false;
    }

    bool skipValue()
    {
        const char c = peek();
        if (c == '"') {
            QByteArrayView raw;
            bool escaped = false;
            return readString(&raw, &escaped);
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (m_p < m_end) {
                const char d = *m_p;
                if (d == '"') {
                    QByteArrayView raw;
                    bool escaped = false;
                    if (!readString(&raw, &escaped))
                        return false;
                    continue;
                }
                ++m_p;
                if (d == '{' || d == '[')
                    ++depth;
                else if ((d == '}' || d == ']') && --depth == 0)
                    return true;
            }
            return false;
        }
        // number, true, false, null
        const char *start = m_p;
        while (m_p < m_end && *m_p != ',' && *m_p != '}' && *m_p != ']' && *m_p != ' ' && *m_p != '\n' && *m_p != '\r'
            && *m_p != '\t')
            ++m_p;
        return m_p > start;
    }

    // Escapes are rare in the two fields we read: the JSON parser decodes them.
    static QByteArray unescape(QByteArrayView raw)
    {
        const QJsonDocument doc = QJsonDocument::fromJson("[\"" + raw.toByteArray() + "\"]");
        return doc.isArray() ? doc.array().at(0).toString().toUtf8() : QByteArray();
    }

    const char *m_p;
    const char *m_end;
};

} // namespace

BodyTraits inspectBody(const QByteArray &contentType, const QByteArray &body)
{
    BodyTraits traits;
    if (body.isEmpty())
        return traits;
    constexpr QByteArrayView multipart("multipart/form-data");
    if (contentType.size() >= multipart.size()
        && HttpHeaders::nameEquals(QByteArrayView(contentType).first(multipart.size()), multipart)) {
        traits.model = multipartField(contentType, body, "model");
        return traits;
    }
    // JSON is the default: clients (curl -d) do not always label it.
    const auto first = std::find_if(
        body.cbegin(), body.cend(), [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; });
    const bool looksJson = (first != body.cend() && *first == '{') || Bytes::contains(contentType.toLower(), "json");
    if (!looksJson)
        return traits;
    TopLevelScanner scanner(body);
    if (!scanner.scan(&traits))
        return BodyTraits();
    return traits;
}

QByteArray withModel(const QByteArray &body, const QString &model)
{
    BodyTraits traits;
    QByteArrayView span;
    TopLevelScanner scanner(body);
    if (!scanner.scan(&traits, &span) || span.isEmpty())
        return body;
    QByteArray encoded = QJsonDocument(QJsonArray{model}).toJson(QJsonDocument::Compact); // ["…"]
    encoded = encoded.mid(1, encoded.size() - 2);
    const qsizetype at = span.data() - body.constData();
    QByteArray out;
    out.reserve(body.size() - span.size() + encoded.size());
    out.append(body.constData(), at)
        .append(encoded)
        .append(body.constData() + at + span.size(), body.size() - at - span.size());
    return out;
}

} // namespace ProxyRules

} // namespace route
