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
        if (socket->state() == QAbstractSocket::ConnectedState && socket->bytesAvailable() == 0) {
            *reused = true;
            return socket;
        }
        discard(socket);
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
        wire(ssl);
        ssl->connectToHostEncrypted(origin.host, origin.port);
        return ssl;
    }
    auto *socket = new QTcpSocket(this);
    wire(socket);
    socket->connectToHost(origin.host, origin.port);
    return socket;
}

void UpstreamClient::wire(QTcpSocket *socket)
{
    // Connected once for the connection's life and routed to whichever call
    // owns it now: connecting and disconnecting signals per request cost
    // more than the rest of handing a pooled connection over.
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { onDisconnected(socket); });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, socket] { onError(socket); });
    // Nagle plus delayed ACK adds ~40 ms to every small relayed write. Set
    // once per connection, not per request.
    connect(socket, &QTcpSocket::connected, socket,
        [socket] { socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
}

void UpstreamClient::setOwner(QTcpSocket *socket, UpstreamCall *call)
{
    if (call)
        m_owners.insert(socket, call);
    else
        m_owners.remove(socket);
}

// An idle connection that the upstream closes, or that says anything at
// all, is of no further use.
void UpstreamClient::onReadyRead(QTcpSocket *socket)
{
    if (UpstreamCall *call = m_owners.value(socket))
        call->onReadyRead();
    else
        forget(socket);
}

void UpstreamClient::onDisconnected(QTcpSocket *socket)
{
    if (UpstreamCall *call = m_owners.value(socket))
        call->onDisconnected();
    else
        forget(socket);
}

void UpstreamClient::onError(QTcpSocket *socket)
{
    if (UpstreamCall *call = m_owners.value(socket))
        call->onError();
}

void UpstreamClient::discard(QTcpSocket *socket)
{
    m_owners.remove(socket);
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void UpstreamClient::release(const QString &key, QTcpSocket *socket)
{
    QList<IdleSocket> &list = m_idle[key];
    if (list.size() >= maxIdlePerHost || socket->state() != QAbstractSocket::ConnectedState) {
        discard(socket);
        return;
    }
    m_owners.remove(socket);
    list.append({socket, QDeadlineTimer(idleTimeoutMs, Qt::CoarseTimer)});
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
            discard(list.takeAt(i).socket);
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
    discard(socket);
}

int UpstreamClient::idleConnections() const
{
    int n = 0;
    for (const auto &list : m_idle)
        n += int(list.size());
    return n;
}
