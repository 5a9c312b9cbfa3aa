#include "proxy/proxyhandler.h"

#include "http/errorbody.h"
#include "util/monotonic.h"

#include <QTimer>

#include <QUrl>
#include <algorithm>

namespace route {

ProxyHandler::ProxyHandler(const ProxyContext &context, QObject *parent) : QObject(parent), m_context(context)
{ }

void ProxyHandler::handle(HttpRequest &&request, HttpResponder *responder)
{
    if (isModelsRequest(request)) {
        // Anthropic's SDKs and Claude Code say who they are by this header.
        const ModelList::Shape shape
            = request.headers.contains("anthropic-version") ? ModelList::Shape::Anthropic : ModelList::Shape::OpenAI;
        const QString id = request.path.size() > 11 ? QUrl::fromPercentEncoding(request.path.mid(11)) : QString();
        answerModels(responder, shape, id, Monotonic::nowMs() + modelsWaitMs);
        return;
    }
    auto *exchange = new ProxyExchange(std::move(request), responder, m_context, this);
    Q_EMIT inFlightChanged(++m_inFlight);
    exchange->start();
}

bool ProxyHandler::isModelsRequest(const HttpRequest &request)
{
    return request.method == "GET" && (request.path == "/v1/models" || request.path.startsWith("/v1/models/"));
}

// From memory; only while no upstream was ever asked and fetches run, for
// at most modelsWaitMs, so that the first picker of a fresh start is full.
void ProxyHandler::answerModels(
    QPointer<HttpResponder> responder, ModelList::Shape shape, const QString &id, qint64 deadlineMs)
{
    if (!responder || responder->isStarted())
        return;
    const std::shared_ptr<const Snapshot> snapshot = m_context.snapshots->current();
    const bool fetching = m_context.catalogPending && m_context.catalogPending->load() > 0;
    if (fetching && !ModelList::anyFetched(*snapshot) && Monotonic::nowMs() < deadlineMs) {
        QTimer::singleShot(
            50, this, [this, responder, shape, id, deadlineMs] { answerModels(responder, shape, id, deadlineMs); });
        return;
    }
    const bool anyEnabled = std::any_of(
        snapshot->upstreams.cbegin(), snapshot->upstreams.cend(), [](const Upstream &u) { return u.enabled; });
    if (!anyEnabled) {
        // As for any other request: a clear word instead of an empty picker.
        const QString message = snapshot->upstreams.isEmpty()
            ? tr("no upstream is configured; add one with -add or the admin API")
            : tr("no enabled upstream is available");
        responder->sendJson(503,
            shape == ModelList::Shape::Anthropic
                ? anthropicErrorBody(message, QStringLiteral("api_error"))
                : openAiErrorBody(message, QStringLiteral("service_unavailable"), QStringLiteral("no_upstream")));
        return;
    }
    if (id.isEmpty()) {
        responder->sendJson(200, ModelList::listJson(ModelList::merged(*snapshot, shape), shape));
        return;
    }
    if (const auto entry = ModelList::find(*snapshot, shape, id)) {
        responder->sendJson(200, ModelList::modelJson(*entry, shape));
        return;
    }
    const QString message = tr("The model '%1' does not exist or no enabled upstream lists it").arg(id);
    responder->sendJson(404,
        shape == ModelList::Shape::Anthropic
            ? anthropicErrorBody(message, QStringLiteral("not_found_error"))
            : openAiErrorBody(message, QStringLiteral("invalid_request_error"), QStringLiteral("model_not_found")));
}

void ProxyHandler::exchangeFinished(ProxyExchange *exchange)
{
    exchange->deleteLater();
    Q_EMIT inFlightChanged(--m_inFlight);
    if (m_inFlight == 0)
        Q_EMIT idle();
}

} // namespace route
