#include "proxy/upstreamclient.h"

#include "proxy/upstreamcall.h"
#include "util/bytes.h"
#include "util/logging.h"

#include "net/qtsocketstream.h"
#include "net/tcpstream.h"

#include <QTimerEvent>

#include <algorithm>

namespace route {

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
    // Sized first, so the request is built in one allocation.
    Bytes::Writer request(method.size() + target.pathAndQuery.size() + target.origin->hostHeader.size() + 64
        + headers.lineBytes() + body.size());
    request << method << ' ' << target.pathAndQuery << " HTTP/1.1\r\n";
    request.line("Host", target.origin->hostHeader);
    for (const auto &[name, value] : headers)
        request.line(name, value);
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        (request << "Content-Length: ").decimal(body.size()) << "\r\n";
    request << "\r\n" << body;
    return new UpstreamCall(this, target.origin, method, request.take());
}

ByteStream *UpstreamClient::acquire(const UpstreamOrigin &origin, bool *reused)
{
    auto it = m_idle.find(origin.poolKey);
    while (it != m_idle.end() && !it->isEmpty()) {
        ByteStream *socket = it->takeLast().socket; // the most recent is the least likely to be stale
        if (socket->isConnected() && socket->bytesAvailable() == 0) {
            *reused = true;
            return socket;
        }
        discard(socket);
    }
    *reused = false;
    return connectNew(origin);
}

ByteStream *UpstreamClient::connectNew(const UpstreamOrigin &origin)
{
    if (origin.tls || origin.viaProxy()) {
        auto *stream = new QtSocketStream(this);
        wire(stream);
        stream->connectToHost(origin.host, origin.port, origin.tls, origin.proxy);
        return stream;
    }
    auto *tcp = new TcpStream(this);
    wire(tcp);
    tcp->connectToHost(origin.host, origin.port);
    return tcp;
}

void UpstreamClient::wire(ByteStream *socket)
{
    // Connected once for the connection's life and routed to whichever call
    // owns it now: connecting and disconnecting signals per request cost
    // more than the rest of handing a pooled connection over.
    connect(socket, &ByteStream::readyRead, this, [this, socket] { onReadyRead(socket); });
    connect(socket, &ByteStream::disconnected, this, [this, socket] { onDisconnected(socket); });
    connect(socket, &ByteStream::errorOccurred, this, [this, socket] { onError(socket); });
}

void UpstreamClient::setOwner(ByteStream *socket, UpstreamCall *call)
{
    if (call)
        m_owners.insert(socket, call);
    else
        m_owners.remove(socket);
}

// An idle connection that the upstream closes, or that says anything at
// all, is of no further use.
void UpstreamClient::onReadyRead(ByteStream *socket)
{
    if (UpstreamCall *call = m_owners.value(socket))
        call->onReadyRead();
    else
        forget(socket);
}

void UpstreamClient::onDisconnected(ByteStream *socket)
{
    if (UpstreamCall *call = m_owners.value(socket))
        call->onDisconnected();
    else
        forget(socket);
}

void UpstreamClient::onError(ByteStream *socket)
{
    if (UpstreamCall *call = m_owners.value(socket))
        call->onError();
}

void UpstreamClient::discard(ByteStream *socket)
{
    m_owners.remove(socket);
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void UpstreamClient::release(const QString &key, ByteStream *socket)
{
    QList<IdleSocket> &list = m_idle[key];
    if (list.size() >= maxIdlePerHost || !socket->isConnected()) {
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

void UpstreamClient::forget(ByteStream *socket)
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

} // namespace route
