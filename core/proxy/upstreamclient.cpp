#include "proxy/upstreamclient.h"

#include "proxy/upstreamcall.h"
#include "util/logging.h"

#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>

namespace {
const char idleTimerProperty[] = "routeIdleTimer";
}

UpstreamClient::UpstreamClient(QObject *parent) : QObject(parent)
{ }

UpstreamClient::~UpstreamClient()
{
    for (auto &list : m_idle)
        qDeleteAll(list);
}

QString UpstreamClient::poolKey(const QUrl &url)
{
    const bool tls = url.scheme() == QLatin1String("https");
    return url.scheme() + QStringLiteral("://") + url.host() + QLatin1Char(':')
        + QString::number(url.port(tls ? 443 : 80));
}

UpstreamCall *UpstreamClient::send(
    const QUrl &url, const QByteArray &method, const HttpHeaders &headers, const QByteArray &body)
{
    const bool tls = url.scheme() == QLatin1String("https");
    const int defaultPort = tls ? 443 : 80;
    QByteArray host = url.host(QUrl::FullyEncoded).toUtf8();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (url.port(defaultPort) != defaultPort)
        host += ':' + QByteArray::number(url.port());
    QByteArray target = url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority | QUrl::RemoveFragment);
    if (target.isEmpty())
        target = "/";

    QByteArray request;
    request.reserve(256 + body.size());
    request += method + ' ' + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    for (const auto &[name, value] : headers)
        request += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n";
    request += body;
    return new UpstreamCall(this, url, method, std::move(request));
}

QTcpSocket *UpstreamClient::acquire(const QUrl &url, bool *reused)
{
    const QString key = poolKey(url);
    auto it = m_idle.find(key);
    while (it != m_idle.end() && !it->isEmpty()) {
        QTcpSocket *socket = it->takeLast(); // the most recent is the least likely to be stale
        socket->disconnect(this);
        delete socket->property(idleTimerProperty).value<QObject *>();
        if (socket->state() == QAbstractSocket::ConnectedState && socket->bytesAvailable() == 0) {
            *reused = true;
            return socket;
        }
        socket->deleteLater();
    }
    *reused = false;
    return connectNew(url);
}

QTcpSocket *UpstreamClient::connectNew(const QUrl &url)
{
    if (url.scheme() == QLatin1String("https")) {
        auto *ssl = new QSslSocket(this);
        QSslConfiguration config = ssl->sslConfiguration();
        config.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        ssl->setSslConfiguration(config);
        ssl->connectToHostEncrypted(url.host(), quint16(url.port(443)));
        return ssl;
    }
    auto *socket = new QTcpSocket(this);
    socket->connectToHost(url.host(), quint16(url.port(80)));
    return socket;
}

void UpstreamClient::release(const QString &key, QTcpSocket *socket)
{
    QList<QTcpSocket *> &list = m_idle[key];
    if (list.size() >= maxIdlePerHost || socket->state() != QAbstractSocket::ConnectedState) {
        socket->deleteLater();
        return;
    }
    list.append(socket);
    // An idle connection that the upstream closes, or that says anything at
    // all, is of no further use.
    auto drop = [this, socket] { forget(socket); };
    connect(socket, &QTcpSocket::disconnected, this, drop);
    connect(socket, &QTcpSocket::readyRead, this, drop);
    auto *timer = new QTimer(socket);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, this, drop);
    timer->start(idleTimeoutMs);
    socket->setProperty(idleTimerProperty, QVariant::fromValue<QObject *>(timer));
}

void UpstreamClient::forget(QTcpSocket *socket)
{
    for (auto &list : m_idle)
        if (list.removeOne(socket))
            break;
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

int UpstreamClient::idleConnections() const
{
    int n = 0;
    for (const auto &list : m_idle)
        n += int(list.size());
    return n;
}
