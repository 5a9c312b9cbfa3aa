#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>

class QSocketNotifier;

// A client connection the server accepted: a non-blocking TCP socket read
// and written directly. Used instead of QTcpSocket on the server side, where
// every request pays for the socket layer: QAbstractSocket asks the kernel
// how much is waiting before each read (one more system call), copies every
// write into its ring buffer, and sends queued writes one buffer block per
// call. Here a read takes what arrived in one call, and queued writes leave
// together with writev(), without being copied.
//
// The interface follows QTcpSocket's where it is the same idea: readyRead(),
// bytesWritten(), disconnected(), readAll(), write(), flush(),
// disconnectFromHost(), abort().
class ClientSocket : public QObject
{
    Q_OBJECT
public:
    // Takes over DESCRIPTOR (a connected TCP socket).
    explicit ClientSocket(qintptr descriptor, QObject *parent = nullptr);
    ~ClientSocket() override;

    bool isConnected() const { return m_fd >= 0; }
    QHostAddress peerAddress() const { return m_peer; }

    qint64 bytesAvailable() const { return m_in.size(); }
    QByteArray readAll();

    // Queued; sent by flush() or when the event loop sees the socket
    // writable. Nothing is copied.
    void write(const QByteArray &data);
    qint64 bytesToWrite() const { return m_queued; }
    // Sends what the kernel takes now, without waiting.
    void flush();

    // Closes once everything queued is sent (at once if nothing is).
    void disconnectFromHost();
    // Closes now; queued bytes are dropped.
    void abort();

    // Unread bytes past this stop reading from the kernel (TCP then slows
    // the client down) until readAll() makes room.
    static constexpr qint64 readBufferLimit = 1024 * 1024;

Q_SIGNALS:
    void readyRead();
    void bytesWritten(qint64 bytes);
    void disconnected();

private:
    void onReadable();
    void onWritable();
    // Writes as much of the queue as the kernel takes; false on a dead peer.
    bool send(qint64 *written);
    void closeNow();

    int m_fd = -1;
    QHostAddress m_peer;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QByteArray m_in;
    QList<QByteArray> m_out;
    qsizetype m_outOffset = 0; // bytes of m_out.first() already sent
    qint64 m_queued = 0;
    bool m_closing = false;
};
