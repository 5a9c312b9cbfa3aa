#pragma once

#include <QNetworkProxy>
#include <QProcessEnvironment>
#include <QString>

#include <optional>

namespace route {

// The proxy an upstream connection goes through (SPEC §10). An upstream's
// own setting is `http://[user:password@]host:port` (HTTP CONNECT),
// `socks5://…` (or `socks5h://`; the proxy resolves the name either way),
// `direct` (never a proxy), or empty: the default, which curl's variables
// give: HTTPS_PROXY for https upstreams, HTTP_PROXY for http ones, then
// ALL_PROXY, lowercase names too, unless NO_PROXY names the host. Loopback
// upstreams (a local Ollama) never take the default.
namespace OutboundProxy {

inline constexpr char direct[] = "direct";

// The QNetworkProxy for TEXT; null with ERROR (English) when it is not one.
// Empty text and "direct" give QNetworkProxy::NoProxy.
std::optional<QNetworkProxy> parse(const QString &text, QString *error = nullptr);
// TEXT with its password as "***", for anything a person or a log sees.
QString masked(const QString &text);
// What a connection to HOST uses: CONFIGURED when it is set, otherwise the
// default from the process environment (read once).
QNetworkProxy choose(const QString &configured, bool tls, const QString &host);
// The default from ENV, for tests.
QNetworkProxy fromEnvironment(const QProcessEnvironment &env, bool tls, const QString &host);
// A stable text for the proxy (pool keys): type, host, port, user.
QString describe(const QNetworkProxy &proxy);

} // namespace OutboundProxy

} // namespace route
