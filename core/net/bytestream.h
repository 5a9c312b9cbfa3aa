#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

namespace route {

// A connected byte stream as the HTTP code uses it: plain TCP (TcpStream) or
// TLS or through a proxy (QtSocketStream over QSslSocket). The names follow QAbstractSocket's where
// the idea is the same.
class ByteStream : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ByteStream)
public:
    enum class Error {
        None,
        HostNotFound, // nothing was sent
        ConnectionRefused, // nothing was sent
        Network, // unreachable, no route, no resources: nothing was sent
        Tls, // handshake or certificate
        RemoteClosed, // the peer closed or reset the connection
        Other,
    };

    using QObject::QObject;

    virtual bool isConnected() const = 0;
    virtual qint64 bytesAvailable() const = 0;
    // Up to MAXSIZE of the bytes received so far.
    virtual QByteArray read(qint64 maxSize) = 0;
    QByteArray readAll() { return read(bytesAvailable()); }
    // Queued; sent by flush() or when the stream is writable.
    virtual void write(const QByteArray &data) = 0;
    virtual void flush() = 0;
    virtual qint64 bytesToWrite() const = 0;
    // Unread bytes past this stop reading from the kernel (TCP then slows
    // the peer down) until read() makes room.
    virtual void setReadBufferLimit(qint64 bytes) = 0;
    // Closes once everything queued is sent.
    virtual void disconnectFromHost() = 0;
    // Closes now; queued bytes are dropped.
    virtual void abort() = 0;

    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }

Q_SIGNALS:
    void connected();
    void readyRead();
    void bytesWritten(qint64 bytes);
    void disconnected();
    void errorOccurred();

protected:
    void setError(Error error, const QString &text)
    {
        m_error = error;
        m_errorString = text;
    }

private:
    Error m_error = Error::None;
    QString m_errorString;
};

} // namespace route
