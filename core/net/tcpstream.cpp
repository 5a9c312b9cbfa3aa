#include "net/tcpstream.h"

#include <QHostInfo>
#include <QSocketNotifier>

#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace route {

namespace {

constexpr qsizetype readChunk = 64 * 1024;
constexpr int maxIoVectors = 64;

// The address and port of one end of FD: the peer's, or our own.
QHostAddress endOf(int fd, bool peer, quint16 *port)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    auto *raw = reinterpret_cast<sockaddr *>(&address);
    if ((peer ? ::getpeername(fd, raw, &length) : ::getsockname(fd, raw, &length)) != 0)
        return QHostAddress();
    if (address.ss_family == AF_INET)
        *port = ntohs(reinterpret_cast<const sockaddr_in *>(&address)->sin_port);
    else if (address.ss_family == AF_INET6)
        *port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&address)->sin6_port);
    return QHostAddress(raw);
}

void setLowDelay(int fd)
{
    // Nagle plus delayed ACK adds ~40 ms to every small relayed write.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// sockaddr for ADDRESS:PORT; 0 when the address is neither IPv4 nor IPv6.
socklen_t toSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage *out)
{
    std::memset(out, 0, sizeof *out);
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        auto *in = reinterpret_cast<sockaddr_in *>(out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(address.toIPv4Address());
        return sizeof(sockaddr_in);
    }
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(out);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &bytes, sizeof bytes);
        in6->sin6_scope_id = address.scopeId().toUInt();
        return sizeof(sockaddr_in6);
    }
    return 0;
}

ByteStream::Error connectErrorOf(int error)
{
    return error == ECONNREFUSED ? ByteStream::Error::ConnectionRefused : ByteStream::Error::Network;
}

} // namespace

TcpStream::TcpStream(QObject *parent) : ByteStream(parent)
{ }

TcpStream::TcpStream(qintptr descriptor, QObject *parent) : ByteStream(parent)
{
    adopt(int(descriptor));
    setLowDelay(m_fd);
    m_peer = endOf(m_fd, true, &m_peerPort);
    m_local = endOf(m_fd, false, &m_localPort);
}

TcpStream::~TcpStream()
{
    if (m_fd >= 0) {
        delete m_readNotifier;
        delete m_writeNotifier;
        ::close(m_fd);
    }
}

void TcpStream::adopt(int fd)
{
    m_fd = fd;
    m_readNotifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &TcpStream::onReadable);
    m_writeNotifier = new QSocketNotifier(fd, QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &TcpStream::onWritable);
}

void TcpStream::connectToHost(const QString &host, quint16 port)
{
    if (m_fd >= 0 || m_connecting)
        return;
    m_connecting = true;
    m_port = port;
    QHostAddress literal;
    if (literal.setAddress(host)) {
        m_addresses = {literal};
        // Reported on the next turn: the caller connects its slots first.
        QMetaObject::invokeMethod(this, &TcpStream::connectNext, Qt::QueuedConnection);
        return;
    }
    QHostInfo::lookupHost(host, this, &TcpStream::onLookedUp);
}

void TcpStream::onLookedUp(const QHostInfo &info)
{
    if (!m_connecting)
        return;
    m_addresses = info.addresses();
    if (info.error() != QHostInfo::NoError || m_addresses.isEmpty()) {
        failConnect(Error::HostNotFound, info.errorString());
        return;
    }
    connectNext();
}

void TcpStream::connectNext()
{
    int lastError = ECONNREFUSED;
    while (m_connecting && !m_addresses.isEmpty()) {
        const QHostAddress address = m_addresses.takeFirst();
        sockaddr_storage target;
        const socklen_t length = toSockaddr(address, m_port, &target);
        if (length == 0)
            continue;
        const int fd = ::socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            lastError = errno;
            continue;
        }
        setLowDelay(fd);
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&target), length) == 0 || errno == EINPROGRESS) {
            m_peer = address;
            adopt(fd);
            // Writable once the handshake is over, or once it failed.
            m_readNotifier->setEnabled(false);
            m_writeNotifier->setEnabled(true);
            return;
        }
        lastError = errno;
        ::close(fd);
    }
    if (m_connecting)
        failConnect(connectErrorOf(lastError), QString::fromLocal8Bit(std::strerror(lastError)));
}

void TcpStream::onConnectDone()
{
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    if (error != 0) {
        closeNow();
        if (!m_addresses.isEmpty()) {
            connectNext();
            return;
        }
        failConnect(connectErrorOf(error), QString::fromLocal8Bit(std::strerror(error)));
        return;
    }
    m_connecting = false;
    m_readNotifier->setEnabled(true);
    m_writeNotifier->setEnabled(!m_out.isEmpty());
    Q_EMIT connected();
    flush();
}

void TcpStream::failConnect(Error error, const QString &text)
{
    m_connecting = false;
    dropQueued();
    setError(error, text);
    Q_EMIT errorOccurred();
}

QByteArray TcpStream::read(qint64 maxSize)
{
    QByteArray out;
    if (maxSize >= m_in.size()) {
        out.swap(m_in);
    } else if (maxSize > 0) {
        out = m_in.left(maxSize);
        m_in.remove(0, maxSize);
    }
    if (m_fd >= 0 && !m_connecting && !m_readNotifier->isEnabled() && m_in.size() < m_readLimit)
        m_readNotifier->setEnabled(true); // room again after the limit
    return out;
}

void TcpStream::onReadable()
{
    // Read into one buffer per thread and keep only what arrived: a request
    // is usually a few hundred bytes, and a buffer per connection sized for
    // the largest read would be mostly empty.
    thread_local char buffer[readChunk];
    const qsizetype before = m_in.size();
    bool peerClosed = false;
    for (;;) {
        const qsizetype room = qMin<qsizetype>(readChunk, qMax<qint64>(1, m_readLimit - m_in.size()));
        const ssize_t n = ::read(m_fd, buffer, size_t(room));
        if (n > 0) {
            if (m_in.isEmpty())
                m_in = QByteArray(buffer, qsizetype(n)); // the usual case; append's bookkeeping costs more
            else
                m_in.append(buffer, qsizetype(n));
            // A short read took all there was: asking again would only
            // cost a call that says so.
            if (n < room || m_in.size() >= m_readLimit)
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
    if (m_in.size() >= m_readLimit && !peerClosed)
        m_readNotifier->setEnabled(false);
    if (m_in.size() > before)
        Q_EMIT readyRead();
    if (peerClosed && m_fd >= 0)
        closeByPeer();
}

void TcpStream::write(const QByteArray &data)
{
    if ((m_fd < 0 && !m_connecting) || m_closing || data.isEmpty())
        return;
    m_out.append(data);
    m_queued += data.size();
    if (m_fd >= 0 && !m_connecting && !m_writeNotifier->isEnabled())
        m_writeNotifier->setEnabled(true);
}

bool TcpStream::send(qint64 *written)
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

void TcpStream::flush()
{
    if (m_fd < 0 || m_connecting || m_out.isEmpty())
        return;
    qint64 written = 0;
    if (!send(&written))
        dropQueued(); // the peer is gone; the read side reports it, as with QTcpSocket
    if (m_out.isEmpty())
        m_writeNotifier->setEnabled(false);
}

void TcpStream::onWritable()
{
    if (m_connecting) {
        onConnectDone();
        return;
    }
    qint64 written = 0;
    const bool alive = send(&written);
    if (!alive) {
        dropQueued();
        closeByPeer();
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

void TcpStream::disconnectFromHost()
{
    if (m_connecting) {
        abort();
        return;
    }
    if (m_fd < 0 || m_closing)
        return;
    m_closing = true;
    flush();
    if (m_out.isEmpty()) {
        closeNow();
        Q_EMIT disconnected();
    }
}

void TcpStream::abort()
{
    dropQueued();
    if (m_connecting) {
        m_connecting = false; // a pending lookup or connect reports nothing
        m_addresses.clear();
        if (m_fd >= 0)
            closeNow();
        return;
    }
    if (m_fd < 0)
        return;
    closeNow();
    Q_EMIT disconnected();
}

void TcpStream::dropQueued()
{
    m_out.clear();
    m_outOffset = 0;
    m_queued = 0;
}

void TcpStream::closeByPeer()
{
    closeNow();
    setError(Error::RemoteClosed, tr("the remote host closed the connection"));
    Q_EMIT disconnected();
}

void TcpStream::closeNow()
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

} // namespace route
