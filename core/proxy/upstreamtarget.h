#pragma once

#include <QByteArray>
#include <QNetworkProxy>
#include <QString>
#include <QUrl>

#include <memory>

namespace route {

// Where upstream connections go: parsed once per endpoint, shared by every
// request to it (parsing a URL per request cost more than the rest of the
// request line and headers together).
struct UpstreamOrigin
{
    bool tls = false;
    QString host; // as connectToHost wants it
    quint16 port = 0;
    QByteArray hostHeader; // the Host header: host, and the port unless it is the default
    QString poolKey; // connections are reused between requests with the same key
    QNetworkProxy proxy = QNetworkProxy(QNetworkProxy::NoProxy); // the outbound proxy, if any

    bool viaProxy() const { return proxy.type() != QNetworkProxy::NoProxy; }
};

// One request's destination: the origin and the encoded path and query.
struct UpstreamTarget
{
    std::shared_ptr<const UpstreamOrigin> origin;
    QByteArray pathAndQuery;

    bool isValid() const { return origin != nullptr; }
    QUrl toUrl() const;
    // Empty (invalid) unless the URL is http(s) with a host. PROXY: the
    // upstream's setting (see OutboundProxy); empty = the default.
    static UpstreamTarget fromUrl(const QUrl &url, const QString &proxy = QString());
};

} // namespace route
