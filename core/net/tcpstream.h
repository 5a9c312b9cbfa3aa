#pragma once

#include "net/bytestream.h"

#include <QHostAddress>
#include <QList>

class QHostInfo;
class QSocketNotifier;

namespace route {

// A non-blocking TCP connection read and written directly: the server's
// client connections, and plain-HTTP upstream connections. Used instead of
// QTcpSocket, where every request pays for the socket layer: QAbstractSocket
// asks the kernel how much is waiting before each read (one more system
// call), copies every write into its ring buffer, and sends queued writes
// one buffer block per call. Here a read takes what arrived in one call, and
// queued writes leave together with sendmsg(), without being copied.
class TcpStream final : public ByteStream
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TcpStream)
public:
    // Unconnected; see connectToHost().
    explicit TcpStream(QObject *parent = nullptr);
    // Takes over DESCRIPTOR, a connected non-blocking TCP socket.
    explicit TcpStream(qintptr descriptor, QObject *parent = nullptr);
    ~TcpStream() override;

    // Looks HOST up if it is a name, then connects: connected() or
    // errorOccurred() follows, never before this returns. Writes made
    // meanwhile are sent once connected.
    void connectToHost(const QString &host, quint16 port);

    bool isConnected() const override { return m_fd >= 0 && !m_connecting; }
    QHostAddress peerAddress() const { return m_peer; }
    quint16 peerPort() const { return m_peerPort; }
    // Our end of an accepted connection.
    QHostAddress localAddress() const { return m_local; }
    quint16 localPort() const { return m_localPort; }

    qint64 bytesAvailable() const override { return m_in.size(); }
    QByteArray read(qint64 maxSize) override;
    void write(const QByteArray &data) override;
    qint64 bytesToWrite() const override { return m_queued; }
    void flush() override;
    void setReadBufferLimit(qint64 bytes) override { m_readLimit = bytes; }
    void disconnectFromHost() override;
    void abort() override;

    static constexpr qint64 defaultReadBufferLimit = 1024 * 1024;

private:
    void adopt(int fd);
    void onLookedUp(const QHostInfo &info);
    void connectNext();
    void onConnectDone();
    void failConnect(Error error, const QString &text);
    void onReadable();
    void onWritable();
    // Writes as much of the queue as the kernel takes; false on a dead peer.
    bool send(qint64 *written);
    void dropQueued();
    // The peer closed or reset: closes, error() says so, disconnected() follows.
    void closeByPeer();
    void closeNow();

    int m_fd = -1;
    bool m_connecting = false;
    QList<QHostAddress> m_addresses; // still to try
    quint16 m_port = 0;
    QHostAddress m_peer;
    quint16 m_peerPort = 0;
    QHostAddress m_local;
    quint16 m_localPort = 0;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QByteArray m_in;
    qint64 m_readLimit = defaultReadBufferLimit;
    QList<QByteArray> m_out;
    qsizetype m_outOffset = 0; // bytes of m_out.first() already sent
    qint64 m_queued = 0;
    bool m_closing = false;
};

} // namespace route
