#include "net/outboundproxy.h"

#include <QHostAddress>
#include <QUrl>

namespace route {

namespace OutboundProxy {

namespace {

constexpr quint16 defaultPort = 1080; // curl's, for every kind

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0
        || host.endsWith(QLatin1String(".localhost"), Qt::CaseInsensitive))
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// NO_PROXY: names (a leading dot or not: the name and every subdomain), addresses, or "*".
bool exempted(const QString &noProxy, const QString &host)
{
    for (QString entry : noProxy.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        entry = entry.trimmed().toLower();
        if (entry == QLatin1String("*"))
            return true;
        if (entry.startsWith(QLatin1Char('[')) && entry.contains(QLatin1Char(']')))
            entry = entry.mid(1, entry.indexOf(QLatin1Char(']')) - 1);
        else if (entry.count(QLatin1Char(':')) == 1)
            entry = entry.section(QLatin1Char(':'), 0, 0); // a port is ignored
        if (entry.startsWith(QLatin1Char('.')))
            entry.remove(0, 1);
        if (entry.isEmpty())
            continue;
        const QString h = host.toLower();
        if (h == entry || h.endsWith(QLatin1Char('.') + entry))
            return true;
    }
    return false;
}

QString firstSet(const QProcessEnvironment &env, std::initializer_list<const char *> names)
{
    for (const char *name : names) {
        const QString value = env.value(QLatin1String(name)).trimmed();
        if (!value.isEmpty())
            return value;
    }
    return QString();
}

struct EnvironmentDefault
{
    QString https;
    QString http;
    QString noProxy;
};

const EnvironmentDefault &environmentDefault()
{
    static const EnvironmentDefault value = [] {
        const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        return EnvironmentDefault{firstSet(env, {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}),
            firstSet(env, {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"}),
            firstSet(env, {"NO_PROXY", "no_proxy"})};
    }();
    return value;
}

QNetworkProxy fromDefault(
    const QString &https, const QString &http, const QString &noProxy, bool tls, const QString &host)
{
    const QString &text = tls ? https : http;
    if (text.isEmpty() || isLoopbackHost(host) || exempted(noProxy, host))
        return QNetworkProxy(QNetworkProxy::NoProxy);
    // The variables often leave the scheme out: an HTTP proxy, as for curl.
    const QString withScheme = text.contains(QLatin1String("://")) ? text : QStringLiteral("http://") + text;
    return parse(withScheme).value_or(QNetworkProxy(QNetworkProxy::NoProxy));
}

} // namespace

std::optional<QNetworkProxy> parse(const QString &text, QString *error)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty() || trimmed.compare(QLatin1String(direct), Qt::CaseInsensitive) == 0)
        return QNetworkProxy(QNetworkProxy::NoProxy);
    const QUrl url(trimmed, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    QNetworkProxy::ProxyType type = QNetworkProxy::NoProxy;
    if (scheme == QLatin1String("http"))
        type = QNetworkProxy::HttpProxy;
    else if (scheme == QLatin1String("socks5") || scheme == QLatin1String("socks5h"))
        type = QNetworkProxy::Socks5Proxy;
    auto fail = [error](const QString &why) -> std::optional<QNetworkProxy> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (!url.isValid() || type == QNetworkProxy::NoProxy)
        return fail(QStringLiteral("Proxy must be http://host:port, socks5://host:port or direct"));
    if (url.host().isEmpty())
        return fail(QStringLiteral("Proxy has no host"));
    if ((!url.path().isEmpty() && url.path() != QLatin1String("/")) || url.hasQuery() || url.hasFragment())
        return fail(QStringLiteral("Proxy must be only scheme, host and port"));
    QNetworkProxy proxy(type, url.host(), quint16(url.port(defaultPort)), url.userName(), url.password());
    if (type == QNetworkProxy::HttpProxy) {
        // CONNECT tunnels only: never a caching or an absolute-URL proxy.
        proxy.setCapabilities(QNetworkProxy::TunnelingCapability | QNetworkProxy::HostNameLookupCapability);
    }
    return proxy;
}

QString masked(const QString &text)
{
    QUrl url(text.trimmed());
    if (!url.isValid() || url.password().isEmpty())
        return text.trimmed();
    url.setPassword(QStringLiteral("***"));
    return url.toString();
}

QNetworkProxy choose(const QString &configured, bool tls, const QString &host)
{
    if (!configured.trimmed().isEmpty())
        return parse(configured).value_or(QNetworkProxy(QNetworkProxy::NoProxy));
    const EnvironmentDefault &env = environmentDefault();
    return fromDefault(env.https, env.http, env.noProxy, tls, host);
}

QNetworkProxy fromEnvironment(const QProcessEnvironment &env, bool tls, const QString &host)
{
    return fromDefault(firstSet(env, {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}),
        firstSet(env, {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"}), firstSet(env, {"NO_PROXY", "no_proxy"}),
        tls, host);
}

QString describe(const QNetworkProxy &proxy)
{
    switch (proxy.type()) {
    case QNetworkProxy::HttpProxy:
        return QStringLiteral("http://%1@%2:%3").arg(proxy.user(), proxy.hostName()).arg(proxy.port());
    case QNetworkProxy::Socks5Proxy:
        return QStringLiteral("socks5://%1@%2:%3").arg(proxy.user(), proxy.hostName()).arg(proxy.port());
    default: return QString();
    }
}

} // namespace OutboundProxy

} // namespace route
