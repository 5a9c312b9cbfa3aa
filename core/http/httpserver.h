#pragma once

#include "http/httpconnection.h"
#include "http/httplimits.h"

#include <QHostAddress>
#include <QObject>
#include <QSet>

#include <functional>

class TcpStream;

class DescriptorServer;

// A small HTTP/1.1 server on QTcpServer. Our own rather than QHttpServer 6.4,
// which buffers whole responses, has no body limit, no timeouts, no
// 100-continue and answers HEAD with a body; streaming needs all of those.
class HttpServer : public QObject
{
    Q_OBJECT
public:
    explicit HttpServer(HttpHandler handler, const HttpLimits &limits = {}, QObject *parent = nullptr);
    ~HttpServer() override;

    bool listen(const QHostAddress &address, quint16 port);
    static constexpr int listenBacklog = 1024;
    // With a dispatcher, accepted sockets go to it (e.g. to a worker thread)
    // instead of being served here.
    void setDispatcher(std::function<void(qintptr)> dispatcher) { m_dispatcher = std::move(dispatcher); }
    // Serves a socket accepted elsewhere, on this object's thread.
    void adopt(qintptr descriptor);
    QString errorString() const { return m_error; }
    quint16 serverPort() const;
    QHostAddress serverAddress() const;
    bool isListening() const;

    // Graceful stop: no new connections; idle keep-alive ones close now, busy
    // ones after their response.
    void stopAccepting();
    int openConnections() const { return int(m_connections.size()); }
    void closeAll();

Q_SIGNALS:
    void connectionClosed();

private:
    friend class DescriptorServer;
    void onIncoming(qintptr descriptor);
    void serve(TcpStream *socket);

    HttpHandler m_handler;
    HttpLimits m_limits;
    std::function<void(qintptr)> m_dispatcher;
    DescriptorServer *m_server;
    QSet<HttpConnection *> m_connections;
    QString m_error;
    bool m_stopping = false;
};
