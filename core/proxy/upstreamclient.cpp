#include "proxy/upstreamclient.h"

#include "proxy/upstreamcall.h"
#include "util/logging.h"

#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimerEvent>

#include <algorithm>

UpstreamClient::UpstreamClient(QObject *parent) : QObject(parent)
{ }

UpstreamClient::~UpstreamClient()
{
    for (auto &list : m_idle)
        for (const IdleSocket &idle : std::as_const(list))
            delete idle.socket;
}

UpstreamCall *UpstreamClient::send(
    const UpstreamTarget &target, const QByteArray &method, const HttpHeaders &headers, const QByteArray &body)
{
    QByteArray request;
    request.reserve(256 + body.size());
    request += method + ' ' + target.pathAndQuery + " HTTP/1.1\r\nHost: " + target.origin->hostHeader + "\r\n";
    for (const auto &[name, value] : headers)
        request += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n";
    request += body;
    return new UpstreamCall(this, target.origin, method, std::move(request));
}

QTcpSocket *UpstreamClient::acquire(const UpstreamOrigin &origin, bool *reused)
{
    auto it = m_idle.find(origin.poolKey);
    while (it != m_idle.end() && !it->isEmpty()) {
        QTcpSocket *socket = it->takeLast().socket; // the most recent is the least likely to be stale
        socket->disconnect(this);
        if (socket->state() == QAbstractSocket::ConnectedState && socket->bytesAvailable() == 0) {
            *reused = true;
            return socket;
        }
        socket->deleteLater();
    }
    *reused = false;
    return connectNew(origin);
}

QTcpSocket *UpstreamClient::connectNew(const UpstreamOrigin &origin)
{
    if (origin.tls) {
        auto *ssl = new QSslSocket(this);
        QSslConfiguration config = ssl->sslConfiguration();
        config.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        ssl->setSslConfiguration(config);
        connect(ssl, &QTcpSocket::connected, ssl, [ssl] { ssl->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
        ssl->connectToHostEncrypted(origin.host, origin.port);
        return ssl;
    }
    auto *socket = new QTcpSocket(this);
    // Nagle plus delayed ACK adds ~40 ms to every small relayed write. Set
    // once per connection, not per request.
    connect(socket, &QTcpSocket::connected, socket,
        [socket] { socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
    socket->connectToHost(origin.host, origin.port);
    return socket;
}

void UpstreamClient::release(const QString &key, QTcpSocket *socket)
{
    QList<IdleSocket> &list = m_idle[key];
    if (list.size() >= maxIdlePerHost || socket->state() != QAbstractSocket::ConnectedState) {
        socket->deleteLater();
        return;
    }
    list.append({socket, QDeadlineTimer(idleTimeoutMs, Qt::CoarseTimer)});
    // An idle connection that the upstream closes, or that says anything at
    // all, is of no further use.
    auto drop = [this, socket] { forget(socket); };
    connect(socket, &QTcpSocket::disconnected, this, drop);
    connect(socket, &QTcpSocket::readyRead, this, drop);
    // One sweep for the whole pool instead of a timer per idle connection.
    if (!m_sweep.isActive())
        m_sweep.start(sweepIntervalMs, this);
}

void UpstreamClient::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_sweep.timerId())
        return QObject::timerEvent(event);
    bool any = false;
    for (auto &list : m_idle) {
        for (qsizetype i = list.size() - 1; i >= 0; --i) {
            if (!list[i].expiry.hasExpired())
                continue;
            QTcpSocket *socket = list.takeAt(i).socket;
            socket->disconnect(this);
            socket->abort();
            socket->deleteLater();
        }
        any = any || !list.isEmpty();
    }
    if (!any)
        m_sweep.stop();
}

void UpstreamClient::forget(QTcpSocket *socket)
{
    for (auto &list : m_idle) {
        const auto it = std::find_if(
            list.begin(), list.end(), [socket](const IdleSocket &idle) { return idle.socket == socket; });
        if (it != list.end()) {
            list.erase(it);
            break;
        }
    }
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
