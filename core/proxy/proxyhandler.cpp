#include "proxy/proxyhandler.h"

namespace route {

ProxyHandler::ProxyHandler(const ProxyContext &context, QObject *parent) : QObject(parent), m_context(context)
{ }

void ProxyHandler::handle(HttpRequest &&request, HttpResponder *responder)
{
    auto *exchange = new ProxyExchange(std::move(request), responder, m_context, this);
    Q_EMIT inFlightChanged(++m_inFlight);
    exchange->start();
}

void ProxyHandler::exchangeFinished(ProxyExchange *exchange)
{
    exchange->deleteLater();
    Q_EMIT inFlightChanged(--m_inFlight);
    if (m_inFlight == 0)
        Q_EMIT idle();
}

} // namespace route
