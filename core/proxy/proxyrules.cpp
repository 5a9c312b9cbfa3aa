#include "proxy/proxyrules.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace ProxyRules {

bool isValidEndpoint(const QString &endpoint)
{
    const QUrl url(endpoint, QUrl::StrictMode);
    return url.isValid() && (url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https"))
        && !url.host().isEmpty() && !url.hasQuery() && !url.hasFragment();
}

QUrl upstreamUrl(const QString &endpoint, const QByteArray &clientPath, const QByteArray &query)
{
    if (!isValidEndpoint(endpoint))
        return QUrl();
    QByteArray base = QUrl(endpoint).toEncoded();
    while (base.endsWith('/'))
        base.chop(1);
    // The client's path starts with /v1; the rest is appended unchanged.
    QByteArray rest = clientPath.mid(3);
    QByteArray full = base + rest;
    if (!query.isEmpty())
        full += '?' + query;
    return QUrl::fromEncoded(full, QUrl::TolerantMode);
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

bool isHopByHop(QByteArrayView name)
{
    static const char *const names[] = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "proxy-connection", "te", "trailer", "trailers", "transfer-encoding", "upgrade"};
    for (const char *n : names)
        if (HttpHeaders::nameEquals(name, n))
            return true;
    return false;
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
    for (const QByteArray &t : connectionValue.split(','))
        if (!t.trimmed().isEmpty())
            out << t.trimmed();
    return out;
}

} // namespace

HttpHeaders upstreamRequestHeaders(const HttpHeaders &client, const QString &sk)
{
    HttpHeaders out;
    const QList<QByteArray> named = connectionTokens(client.value("connection"));
    for (const auto &[name, value] : client) {
        if (isHopByHop(name) || namedByConnection(named, name) || HttpHeaders::nameEquals(name, "host")
            || HttpHeaders::nameEquals(name, "authorization") || HttpHeaders::nameEquals(name, "content-length")
            || HttpHeaders::nameEquals(name, "expect"))
            continue;
        out.append(name, value);
    }
    // Without this, Qt would ask for gzip and decompress on its own, and the
    // client would get neither the upstream's bytes nor its headers.
    if (!out.contains("accept-encoding"))
        out.append("Accept-Encoding", "identity");
    if (!sk.isEmpty())
        out.append("Authorization", "Bearer " + sk.toUtf8());
    return out;
}

HttpHeaders clientResponseHeaders(const QList<std::pair<QByteArray, QByteArray>> &upstream, const QString &sk)
{
    HttpHeaders out;
    QByteArray connectionValue;
    for (const auto &[name, value] : upstream)
        if (HttpHeaders::nameEquals(name, "connection"))
            connectionValue = value;
    const QList<QByteArray> named = connectionTokens(connectionValue);
    const QByteArray key = sk.toUtf8();
    for (const auto &[name, value] : upstream) {
        if (isHopByHop(name) || namedByConnection(named, name) || HttpHeaders::nameEquals(name, "content-length"))
            continue;
        if (key.size() >= 8 && value.contains(key))
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

BodyTraits inspectBody(const QByteArray &contentType, const QByteArray &body)
{
    BodyTraits traits;
    if (body.isEmpty())
        return traits;
    const QByteArray type = contentType.toLower();
    if (type.startsWith("multipart/form-data")) {
        traits.model = multipartField(contentType, body, "model");
        return traits;
    }
    // JSON is the default: clients (curl -d) do not always label it.
    const auto first = std::find_if(
        body.cbegin(), body.cend(), [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; });
    const bool looksJson = type.contains("json") || (first != body.cend() && *first == '{');
    if (!looksJson)
        return traits;
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (!doc.isObject())
        return traits;
    const QJsonObject o = doc.object();
    traits.model = o.value(QLatin1String("model")).toString();
    traits.stream = o.value(QLatin1String("stream")).toBool(false);
    return traits;
}

} // namespace ProxyRules
