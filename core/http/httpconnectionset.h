#pragma once

#include "http/httpconnection.h"
#include "http/httplimits.h"

#include <QObject>
#include <QSet>

namespace route {

// The client connections one thread serves: each accepted descriptor becomes
// an HttpConnection here, answered by `handler`. Knows how many are open, so
// a graceful stop can wait for them.
class HttpConnectionSet final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnectionSet)
public:
    explicit HttpConnectionSet(HttpHandler handler, const HttpLimits &limits = {}, QObject *parent = nullptr);
    ~HttpConnectionSet() override;

    // Serves a socket accepted elsewhere, on this object's thread. A closed
    // descriptor, or any while stopping, is refused.
    void adopt(qintptr descriptor);
    int openConnections() const { return int(m_connections.size()); }

    // Graceful stop: idle keep-alive connections close now, busy ones after
    // their response; nothing new is adopted.
    void stopAccepting();
    void closeAll();

Q_SIGNALS:
    void connectionClosed();

private:
    HttpHandler m_handler;
    HttpLimits m_limits;
    QSet<HttpConnection *> m_connections;
    bool m_stopping = false;
};

} // namespace route
