#include "http/httpconnectionset.h"

#include "net/tcpstream.h"

#include <fcntl.h>
#include <unistd.h>

namespace route {

HttpConnectionSet::HttpConnectionSet(HttpHandler handler, const HttpLimits &limits, QObject *parent)
    : QObject(parent), m_handler(std::move(handler)), m_limits(limits)
{ }

HttpConnectionSet::~HttpConnectionSet()
{
    closeAll();
}

void HttpConnectionSet::adopt(qintptr descriptor)
{
    if (m_stopping) {
        ::close(int(descriptor));
        return;
    }
    // Qt accepts non-blocking; a descriptor from elsewhere is made so, and
    // one that is not open is refused.
    const int flags = ::fcntl(int(descriptor), F_GETFL);
    if (flags < 0 || ::fcntl(int(descriptor), F_SETFL, flags | O_NONBLOCK) < 0)
        return;
    auto *connection = new HttpConnection(new TcpStream(descriptor), m_limits, m_handler, this);
    m_connections.insert(connection);
    // A response is only delivered once its socket has flushed, which ends
    // in closed(): a graceful stop waits for these, not for the last response.
    connect(connection, &HttpConnection::closed, this, [this, connection] {
        m_connections.remove(connection);
        Q_EMIT connectionClosed();
    });
}

void HttpConnectionSet::stopAccepting()
{
    m_stopping = true;
    const auto connections = m_connections;
    for (HttpConnection *c : connections)
        c->closeWhenIdle();
}

void HttpConnectionSet::closeAll()
{
    const auto connections = m_connections;
    m_connections.clear();
    for (HttpConnection *c : connections) {
        c->disconnect(this);
        delete c;
    }
}

} // namespace route
