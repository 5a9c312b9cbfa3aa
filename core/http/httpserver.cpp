#include "http/httpserver.h"

#include "net/tcpstream.h"
#include "util/logging.h"

#include <QTcpServer>

#include <fcntl.h>

// Hands each accepted descriptor to its HttpServer before Qt wraps it in a socket.
class DescriptorServer : public QTcpServer
{
public:
    explicit DescriptorServer(HttpServer *owner) : QTcpServer(owner), m_owner(owner) { }

protected:
    void incomingConnection(qintptr descriptor) override { m_owner->onIncoming(descriptor); }

private:
    HttpServer *m_owner;
};

HttpServer::HttpServer(HttpHandler handler, const HttpLimits &limits, QObject *parent)
    : QObject(parent), m_handler(std::move(handler)), m_limits(limits), m_server(new DescriptorServer(this))
{ }

HttpServer::~HttpServer()
{
    closeAll();
}

bool HttpServer::listen(const QHostAddress &address, quint16 port)
{
    // Qt's default of 50 drops the SYNs of a burst of new clients, which
    // then wait a full second to retry (the kernel caps it at somaxconn).
    m_server->setListenBacklogSize(listenBacklog);
    if (m_server->listen(address, port))
        return true;
    m_error = m_server->errorString();
    if (m_server->serverError() == QAbstractSocket::AddressInUseError)
        m_error = tr("address already in use");
    else if (m_server->serverError() == QAbstractSocket::SocketAccessError)
        m_error = tr("permission denied");
    return false;
}

quint16 HttpServer::serverPort() const
{
    return m_server->serverPort();
}

QHostAddress HttpServer::serverAddress() const
{
    return m_server->serverAddress();
}

bool HttpServer::isListening() const
{
    return m_server->isListening();
}

void HttpServer::onIncoming(qintptr descriptor)
{
    if (m_dispatcher && !m_stopping) {
        m_dispatcher(descriptor);
        return;
    }
    adopt(descriptor);
}

void HttpServer::adopt(qintptr descriptor)
{
    // Qt accepts non-blocking; a descriptor from elsewhere is made so, and
    // one that is not open is refused.
    const int flags = ::fcntl(int(descriptor), F_GETFL);
    if (flags < 0 || ::fcntl(int(descriptor), F_SETFL, flags | O_NONBLOCK) < 0)
        return;
    serve(new TcpStream(descriptor));
}

void HttpServer::serve(TcpStream *socket)
{
    if (m_stopping) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    auto *connection = new HttpConnection(socket, m_limits, m_handler, this);
    m_connections.insert(connection);
    // A response is only delivered once its socket has flushed, which ends
    // in closed(): a graceful stop waits for these, not for the last response.
    connect(connection, &HttpConnection::closed, this, [this, connection] {
        m_connections.remove(connection);
        Q_EMIT connectionClosed();
    });
}

void HttpServer::stopAccepting()
{
    m_stopping = true;
    m_server->close();
    const auto connections = m_connections;
    for (HttpConnection *c : connections)
        c->closeWhenIdle();
}

void HttpServer::closeAll()
{
    m_server->close();
    const auto connections = m_connections;
    m_connections.clear();
    for (HttpConnection *c : connections) {
        c->disconnect(this);
        delete c;
    }
}
