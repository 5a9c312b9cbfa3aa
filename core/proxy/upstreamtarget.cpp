#include "proxy/upstreamtarget.h"

#include "net/outboundproxy.h"

namespace route {

QUrl UpstreamTarget::toUrl() const
{
    if (!origin)
        return QUrl();
    const QByteArray scheme = origin->tls ? "https://" : "http://";
    return QUrl::fromEncoded(scheme + origin->hostHeader + pathAndQuery, QUrl::TolerantMode);
}

UpstreamTarget UpstreamTarget::fromUrl(const QUrl &url, const QString &proxy)
{
    UpstreamTarget target;
    const bool tls = url.scheme() == QLatin1String("https");
    if ((!tls && url.scheme() != QLatin1String("http")) || url.host().isEmpty())
        return target;
    auto origin = std::make_shared<UpstreamOrigin>();
    origin->tls = tls;
    origin->host = url.host();
    const int defaultPort = tls ? 443 : 80;
    origin->port = quint16(url.port(defaultPort));
    QByteArray host = url.host(QUrl::FullyEncoded).toUtf8();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (origin->port != defaultPort)
        host += ':' + QByteArray::number(origin->port);
    origin->hostHeader = host;
    origin->proxy = OutboundProxy::choose(proxy, tls, origin->host);
    origin->poolKey = url.scheme() + QStringLiteral("://") + url.host() + QLatin1Char(':')
        + QString::number(origin->port) + QLatin1Char(' ') + OutboundProxy::describe(origin->proxy);
    target.origin = std::move(origin);
    target.pathAndQuery = url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority | QUrl::RemoveFragment);
    if (target.pathAndQuery.isEmpty())
        target.pathAndQuery = "/";
    return target;
}

} // namespace route
