#include "http/httplistener.h"

#include <QTcpServer>

#include <unistd.h>

namespace route {

// Hands each accepted descriptor to its listener before Qt wraps it in a socket.
class DescriptorServer final : public QTcpServer
{
public:
    explicit DescriptorServer(HttpListener *owner) : QTcpServer(owner), m_owner(owner) { }

protected:
    void incomingConnection(qintptr descriptor) override { m_owner->onIncoming(descriptor); }

private:
    HttpListener *m_owner;
};

HttpListener::HttpListener(Accepted accepted, QObject *parent)
    : QObject(parent), m_accepted(std::move(accepted)), m_server(new DescriptorServer(this))
{ }

HttpListener::~HttpListener() = default;

bool HttpListener::listen(const QHostAddress &address, quint16 port)
{
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

quint16 HttpListener::serverPort() const
{
    return m_server->serverPort();
}

QHostAddress HttpListener::serverAddress() const
{
    return m_server->serverAddress();
}

bool HttpListener::isListening() const
{
    return m_server->isListening();
}

void HttpListener::close()
{
    m_server->close();
}

void HttpListener::onIncoming(qintptr descriptor)
{
    if (m_accepted)
        m_accepted(descriptor);
    else
        ::close(int(descriptor)); // nobody to serve it
}

} // namespace route
