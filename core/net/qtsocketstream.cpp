#include "net/qtsocketstream.h"

#include <QSslConfiguration>
#include <QSslSocket>

namespace route {

QtSocketStream::QtSocketStream(QObject *parent) : ByteStream(parent), m_socket(new QSslSocket(this))
{
    QSslConfiguration config = m_socket->sslConfiguration();
    config.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
    m_socket->setSslConfiguration(config);
    connect(m_socket, &QSslSocket::connected, this,
        [this] { m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
    // TLS is usable once encrypted, not when TCP (or the proxy's tunnel) is up.
    connect(m_socket, &QSslSocket::connected, this, [this] {
        if (!m_tls)
            Q_EMIT connected();
    });
    connect(m_socket, &QSslSocket::encrypted, this, &ByteStream::connected);
    connect(m_socket, &QSslSocket::readyRead, this, &ByteStream::readyRead);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, &ByteStream::bytesWritten);
    connect(m_socket, &QSslSocket::bytesWritten, this, [this](qint64 bytes) {
        if (!m_tls)
            Q_EMIT bytesWritten(bytes);
    });
    connect(m_socket, &QSslSocket::disconnected, this, &ByteStream::disconnected);
    connect(m_socket, &QSslSocket::errorOccurred, this, &QtSocketStream::onError);
}

void QtSocketStream::connectToHost(const QString &host, quint16 port, bool tls, const QNetworkProxy &proxy)
{
    m_tls = tls;
    m_socket->setProxy(proxy);
    if (tls)
        m_socket->connectToHostEncrypted(host, port);
    else
        m_socket->connectToHost(host, port);
}

bool QtSocketStream::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

qint64 QtSocketStream::bytesAvailable() const
{
    return m_socket->bytesAvailable();
}

QByteArray QtSocketStream::read(qint64 maxSize)
{
    return m_socket->read(maxSize);
}

void QtSocketStream::write(const QByteArray &data)
{
    m_socket->write(data);
}

void QtSocketStream::flush()
{
    if (!m_tls || m_socket->isEncrypted())
        m_socket->flush();
}

qint64 QtSocketStream::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void QtSocketStream::setReadBufferLimit(qint64 bytes)
{
    m_socket->setReadBufferSize(bytes);
}

void QtSocketStream::disconnectFromHost()
{
    m_socket->disconnectFromHost();
}

void QtSocketStream::abort()
{
    m_socket->abort();
}

void QtSocketStream::onError()
{
    Error error = Error::Other;
    switch (m_socket->error()) {
    case QAbstractSocket::HostNotFoundError: error = Error::HostNotFound; break;
    case QAbstractSocket::ConnectionRefusedError: error = Error::ConnectionRefused; break;
    case QAbstractSocket::NetworkError:
    case QAbstractSocket::SocketAccessError:
    case QAbstractSocket::SocketResourceError:
    case QAbstractSocket::UnsupportedSocketOperationError: error = Error::Network; break;
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError: error = Error::Tls; break;
    case QAbstractSocket::RemoteHostClosedError: error = Error::RemoteClosed; break;
    // The proxy refused or failed before the upstream got anything.
    case QAbstractSocket::ProxyAuthenticationRequiredError:
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError: error = Error::Network; break;
    default: break;
    }
    setError(error, m_socket->errorString());
    Q_EMIT errorOccurred();
}

} // namespace route
