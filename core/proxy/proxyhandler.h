#pragma once

#include "proxy/proxyexchange.h"

#include <QObject>

namespace route {

// Entry point of the proxy for /v1/*: starts an exchange per request and
// knows how many are in flight (for a graceful stop).
class ProxyHandler final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProxyHandler)
public:
    ProxyHandler(const ProxyContext &context, QObject *parent = nullptr);

    void handle(HttpRequest &&request, HttpResponder *responder);
    int inFlight() const { return m_inFlight; }
    // Called by the exchange when it is over.
    void exchangeFinished(ProxyExchange *exchange);

Q_SIGNALS:
    void idle();
    void inFlightChanged(int inFlight);

private:
    ProxyContext m_context;
    int m_inFlight = 0;
};

} // namespace route
