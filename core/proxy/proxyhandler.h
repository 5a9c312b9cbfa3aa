#pragma once

#include "proxy/modellist.h"
#include "proxy/proxyexchange.h"

#include <QPointer>

#include <QObject>

namespace route {

// Entry point of the proxy for /v1/*: starts an exchange per request and
// knows how many are in flight (for a graceful stop). GET /v1/models and
// /v1/models/{id} it answers itself, from the catalogs (SPEC §10).
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
    // The longest a model list waits for the first catalog fetches.
    static constexpr int modelsWaitMs = 2000;

Q_SIGNALS:
    void idle();
    void inFlightChanged(int inFlight);

private:
    static bool isModelsRequest(const HttpRequest &request);
    void answerModels(QPointer<HttpResponder> responder, ModelList::Shape shape, const QString &id, qint64 deadlineMs);

    ProxyContext m_context;
    int m_inFlight = 0;
};

} // namespace route
