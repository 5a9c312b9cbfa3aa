#pragma once

#include "net/bytestream.h"

#include <QNetworkProxy>

class QSslSocket;

namespace route {

// An upstream connection over QSslSocket behind the ByteStream interface:
// HTTPS (certificates checked against the system store, SNI, ALPN
// http/1.1), and any connection through an outbound proxy, plain HTTP
// included, since Qt's sockets speak HTTP CONNECT and SOCKS5 themselves.
class QtSocketStream final : public ByteStream
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QtSocketStream)
public:
    explicit QtSocketStream(QObject *parent = nullptr);

    // TLS: encrypted once connected, and connected() waits for that.
    // PROXY: NoProxy goes direct (never Qt's application-wide proxy).
    void connectToHost(const QString &host, quint16 port, bool tls, const QNetworkProxy &proxy);

    bool isConnected() const override;
    qint64 bytesAvailable() const override;
    QByteArray read(qint64 maxSize) override;
    void write(const QByteArray &data) override;
    void flush() override;
    qint64 bytesToWrite() const override;
    void setReadBufferLimit(qint64 bytes) override;
    void disconnectFromHost() override;
    void abort() override;

private:
    void onError();

    QSslSocket *m_socket;
    bool m_tls = true;
};

} // namespace route
