#include "http/clientsocket.h"

#include <QSocketNotifier>

#include <cerrno>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

constexpr qsizetype readChunk = 64 * 1024;
constexpr int maxIoVectors = 64;

QHostAddress peerOf(int fd)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return QHostAddress();
    return QHostAddress(reinterpret_cast<const sockaddr *>(&address));
}

} // namespace

ClientSocket::ClientSocket(qintptr descriptor, QObject *parent) : QObject(parent), m_fd(int(descriptor))
{
    // Nagle plus delayed ACK adds ~40 ms to every small relayed write.
    const int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_peer = peerOf(m_fd);
    m_readNotifier = new QSocketNotifier(descriptor, QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &ClientSocket::onReadable);
    m_writeNotifier = new QSocketNotifier(descriptor, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &ClientSocket::onWritable);
}

ClientSocket::~ClientSocket()
{
    if (m_fd >= 0) {
        delete m_readNotifier;
        delete m_writeNotifier;
        ::close(m_fd);
    }
}

QByteArray ClientSocket::readAll()
{
    QByteArray out;
    out.swap(m_in);
    if (m_fd >= 0 && !m_readNotifier->isEnabled())
        m_readNotifier->setEnabled(true); // room again after the limit
    return out;
}

void ClientSocket::onReadable()
{
    // Read into one buffer per thread and keep only what arrived: a request
    // is usually a few hundred bytes, and a buffer per connection sized for
    // the largest read would be mostly empty.
    thread_local char buffer[readChunk];
    const qsizetype before = m_in.size();
    bool peerClosed = false;
    for (;;) {
        const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
        if (n > 0) {
            m_in.append(buffer, qsizetype(n));
            // A short read took all there was: asking again would only
            // cost a call that says so.
            if (n < readChunk || m_in.size() >= readBufferLimit)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        peerClosed = true; // end of stream, or reset
        break;
    }
    if (m_in.size() >= readBufferLimit && !peerClosed)
        m_readNotifier->setEnabled(false);
    if (m_in.size() > before)
        Q_EMIT readyRead();
    if (peerClosed && m_fd >= 0) {
        closeNow();
        Q_EMIT disconnected();
    }
}

void ClientSocket::write(const QByteArray &data)
{
    if (m_fd < 0 || m_closing || data.isEmpty())
        return;
    m_out.append(data);
    m_queued += data.size();
    if (!m_writeNotifier->isEnabled())
        m_writeNotifier->setEnabled(true);
}

bool ClientSocket::send(qint64 *written)
{
    *written = 0;
    while (!m_out.isEmpty()) {
        iovec vectors[maxIoVectors];
        int count = 0;
        for (qsizetype i = 0; i < m_out.size() && count < maxIoVectors; ++i, ++count) {
            const qsizetype skip = i == 0 ? m_outOffset : 0;
            vectors[count].iov_base = const_cast<char *>(m_out.at(i).constData() + skip);
            vectors[count].iov_len = size_t(m_out.at(i).size() - skip);
        }
        msghdr message{};
        message.msg_iov = vectors;
        message.msg_iovlen = size_t(count);
        const ssize_t n = ::sendmsg(m_fd, &message, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        *written += n;
        m_queued -= n;
        qsizetype left = n;
        while (left > 0) {
            const qsizetype rest = m_out.first().size() - m_outOffset;
            if (left < rest) {
                m_outOffset += left;
                break;
            }
            left -= rest;
            m_out.removeFirst();
            m_outOffset = 0;
        }
        if (!m_out.isEmpty())
            return true; // the kernel's buffer is full: wait until writable
    }
    return true;
}

void ClientSocket::flush()
{
    if (m_fd < 0 || m_out.isEmpty())
        return;
    qint64 written = 0;
    if (!send(&written)) {
        // The peer is gone; the read side reports it, as with QTcpSocket.
        m_out.clear();
        m_queued = 0;
    }
    if (m_out.isEmpty())
        m_writeNotifier->setEnabled(false);
}

void ClientSocket::onWritable()
{
    qint64 written = 0;
    const bool alive = send(&written);
    if (!alive) {
        m_out.clear();
        m_queued = 0;
        closeNow();
        Q_EMIT disconnected();
        return;
    }
    if (m_out.isEmpty())
        m_writeNotifier->setEnabled(false);
    if (written > 0)
        Q_EMIT bytesWritten(written);
    if (m_closing && m_out.isEmpty() && m_fd >= 0) {
        closeNow();
        Q_EMIT disconnected();
    }
}

void ClientSocket::disconnectFromHost()
{
    if (m_fd < 0 || m_closing)
        return;
    m_closing = true;
    flush();
    if (m_out.isEmpty()) {
        closeNow();
        Q_EMIT disconnected();
    }
}

void ClientSocket::abort()
{
    if (m_fd < 0)
        return;
    m_out.clear();
    m_queued = 0;
    closeNow();
    Q_EMIT disconnected();
}

void ClientSocket::closeNow()
{
    // Notifiers are switched off before the descriptor closes (the next
    // accepted socket may get its number), and deleted later: this may run
    // inside one of their own signals.
    for (QSocketNotifier *notifier : {m_readNotifier, m_writeNotifier}) {
        notifier->setEnabled(false);
        notifier->deleteLater();
    }
    m_readNotifier = nullptr;
    m_writeNotifier = nullptr;
    ::close(m_fd);
    m_fd = -1;
}
