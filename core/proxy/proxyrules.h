#pragma once

#include "http/httpheaders.h"
#include "proxy/upstreamtarget.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QUrl>

namespace route {

// The pure rules of forwarding, kept apart so they can be tested alone.
namespace ProxyRules {

// /v1/REST?QUERY on ENDPOINT (whose own path replaces the client's /v1).
// Invalid when the endpoint is not an http(s) URL. Endpoints are parsed once
// per thread and remembered.
UpstreamTarget upstreamTarget(const QString &endpoint, const QByteArray &clientPath, const QByteArray &query);

// Client headers as they go upstream: no hop-by-hop headers, no Host, no
// client Authorization; `Authorization: Bearer SK` unless SK is empty.
HttpHeaders upstreamRequestHeaders(const HttpHeaders &client, const QString &sk);

// Upstream headers as they go to the client: no hop-by-hop or framing
// headers, and none that would show the upstream key.
HttpHeaders clientResponseHeaders(const QList<std::pair<QByteArray, QByteArray>> &upstream, const QString &sk);

struct BodyTraits
{
    QString model;
    bool stream = false;
};
// `model` and `stream` from a JSON body, or `model` from a multipart form.
BodyTraits inspectBody(const QByteArray &contentType, const QByteArray &body);

// Retry-After in milliseconds (delta-seconds or an HTTP date); -1 when absent or unreadable.
qint64 retryAfterMs(const QByteArray &value, const QDateTime &now = QDateTime::currentDateTimeUtc());

} // namespace ProxyRules

} // namespace route
