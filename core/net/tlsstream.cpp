#include "net/tlsstream.h"

#include <QSslConfiguration>
#include <QSslSocket>

namespace route {

TlsStream::TlsStream(QObject *parent) : ByteStream(parent), m_socket(new QSslSocket(this))
{
    QSslConfiguration config = m_socket->sslConfiguration();
    config.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
    m_socket->setSslConfiguration(config);
    connect(m_socket, &QSslSocket::connected, this,
        [this] { m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
    // Usable once encrypted, not when TCP is up.
    connect(m_socket, &QSslSocket::encrypted, this, &ByteStream::connected);
    connect(m_socket, &QSslSocket::readyRead, this, &ByteStream::readyRead);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, &ByteStream::bytesWritten);
    connect(m_socket, &QSslSocket::disconnected, this, &ByteStream::disconnected);
    connect(m_socket, &QSslSocket::errorOccurred, this, &TlsStream::onError);
}

void TlsStream::connectToHost(const QString &host, quint16 port)
{
    m_socket->connectToHostEncrypted(host, port);
}

bool TlsStream::isConnected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

qint64 TlsStream::bytesAvailable() const
{
    return m_socket->bytesAvailable();
}

QByteArray TlsStream::read(qint64 maxSize)
{
    return m_socket->read(maxSize);
}

void TlsStream::write(const QByteArray &data)
{
    m_socket->write(data);
}

void TlsStream::flush()
{
    if (m_socket->isEncrypted())
        m_socket->flush();
}

qint64 TlsStream::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void TlsStream::setReadBufferLimit(qint64 bytes)
{
    m_socket->setReadBufferSize(bytes);
}

void TlsStream::disconnectFromHost()
{
    m_socket->disconnectFromHost();
}

void TlsStream::abort()
{
    m_socket->abort();
}

void TlsStream::onError()
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
    default: break;
    }
    setError(error, m_socket->errorString());
    Q_EMIT errorOccurred();
}

} // namespace route
