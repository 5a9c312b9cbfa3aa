#pragma once

#include <QHostAddress>
#include <QObject>

#include <functional>

namespace route {

class DescriptorServer;

// The listening socket: accepts and hands each new descriptor on (to a
// worker thread's HttpConnectionSet), before Qt would wrap it in a socket.
class HttpListener final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpListener)
public:
    using Accepted = std::function<void(qintptr descriptor)>;
    explicit HttpListener(Accepted accepted, QObject *parent = nullptr);
    ~HttpListener() override;

    // Qt's default backlog of 50 drops the SYNs of a burst of new clients,
    // which then wait a full second to retry (the kernel caps it at somaxconn).
    static constexpr int listenBacklog = 1024;
    bool listen(const QHostAddress &address, quint16 port);
    // Why listen() failed, in words for people ("address already in use").
    QString errorString() const { return m_error; }
    quint16 serverPort() const;
    QHostAddress serverAddress() const;
    bool isListening() const;
    // No new connections from now on.
    void close();

private:
    friend class DescriptorServer;
    void onIncoming(qintptr descriptor);

    Accepted m_accepted;
    DescriptorServer *m_server;
    QString m_error;
};

} // namespace route
