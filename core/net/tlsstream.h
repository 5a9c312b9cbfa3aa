#pragma once

#include "net/bytestream.h"

class QSslSocket;

namespace route {

// An HTTPS upstream connection: QSslSocket (certificates checked against the
// system store, SNI, ALPN http/1.1) behind the ByteStream interface.
class TlsStream final : public ByteStream
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsStream)
public:
    explicit TlsStream(QObject *parent = nullptr);

    void connectToHost(const QString &host, quint16 port);

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
};

} // namespace route
