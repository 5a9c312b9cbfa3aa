#pragma once

#include "http/httpheaders.h"
#include "proxy/upstreamtarget.h"

#include <QBasicTimer>
#include <QDeadlineTimer>
#include <QHash>
#include <QList>
#include <QObject>

namespace route {

class ByteStream;
class UpstreamCall;

// The upstream side of the proxy: HTTP/1.1 over TCP or TLS with a keep-alive
// pool per host. Our own instead of QNetworkAccessManager because a proxy
// needs what QNAM will not give: no silent resend of a request to the same
// upstream, no limit of 6 connections per host, no thread hop per request,
// headers and bodies passed byte for byte. Lives on the network thread.
class UpstreamClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamClient)
public:
    explicit UpstreamClient(QObject *parent = nullptr);
    ~UpstreamClient() override;

    // Starts a request; the call reports to its Listener. The caller
    // owns the call (deleteLater when done).
    UpstreamCall *send(
        const UpstreamTarget &target, const QByteArray &method, const HttpHeaders &headers, const QByteArray &body);

    int idleConnections() const;
    static constexpr int maxIdlePerHost = 64;
    static constexpr int idleTimeoutMs = 60 * 1000;
    static constexpr int sweepIntervalMs = 5 * 1000;

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    friend class UpstreamCall;
    // An idle connection to the same scheme/host/port, or a new one.
    ByteStream *acquire(const UpstreamOrigin &origin, bool *reused);
    ByteStream *connectNew(const UpstreamOrigin &origin);
    void release(const QString &key, ByteStream *socket);
    // Closes and deletes a connection that is not in the pool.
    void discard(ByteStream *socket);
    void forget(ByteStream *socket);
    // The call a connection's signals go to; none while it is idle.
    void setOwner(ByteStream *socket, UpstreamCall *call);
    void wire(ByteStream *socket);
    void onReadyRead(ByteStream *socket);
    void onDisconnected(ByteStream *socket);
    void onError(ByteStream *socket);

    struct IdleSocket
    {
        ByteStream *socket;
        QDeadlineTimer expiry;
    };
    QHash<QString, QList<IdleSocket>> m_idle;
    QHash<ByteStream *, UpstreamCall *> m_owners;
    QBasicTimer m_sweep;
};

} // namespace route
