#include "proxy/proxyexchange.h"

#include "balancer/affinity.h"
#include "balancer/balancer.h"
#include "balancer/health.h"
#include "http/errorbody.h"
#include "limits/applimits.h"
#include "limits/sharedlimits.h"
#include "metrics/metrics.h"
#include "proxy/proxyhandler.h"
#include "proxy/proxyrules.h"
#include "proxy/tokenestimate.h"
#include "proxy/upstreamclient.h"
#include "records/recordsink.h"
#include "util/bytes.h"
#include "util/logging.h"

#include <QRandomGenerator>
#include <QTimerEvent>

#include <utility>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace route {

namespace {

constexpr qint64 maxKeptErrorBytes = 256 * 1024;
constexpr int maxRecordedBodyBytes = 64 * 1024;

} // namespace

ProxyExchange::ProxyExchange(
    HttpRequest &&request, HttpResponder *responder, const ProxyContext &context, ProxyHandler *handler)
    : QObject(handler), m_request(std::move(request)), m_responder(responder), m_context(context), m_handler(handler)
{
    m_clock.start();
    responder->setListener(this);
}

ProxyExchange::~ProxyExchange()
{
    if (m_responder)
        m_responder->setListener(nullptr);
    dropCall();
}

bool ProxyExchange::isAllowed(Phase from, Phase to)
{
    switch (from) {
    case Phase::Starting: return to == Phase::Attempting || to == Phase::Finished;
    case Phase::Attempting: return to != Phase::Starting;
    case Phase::CollectingError: return to != Phase::Starting && to != Phase::CollectingError;
    case Phase::Relaying: return to == Phase::Finished;
    case Phase::Finished: return false;
    }
    return false;
}

void ProxyExchange::enter(Phase next)
{
    Q_ASSERT_X(isAllowed(m_phase, next), "ProxyExchange::enter", "a phase change that cannot happen");
    m_phase = next;
}

void ProxyExchange::upstreamEvent(UpstreamCall *call, UpstreamCall::Event event)
{
    if (call != m_call)
        return;
    switch (event) {
    case UpstreamCall::Event::Headers: onHeaders(); break;
    case UpstreamCall::Event::Data: onReadyRead(); break;
    case UpstreamCall::Event::Finished: onCallFinished(); break;
    }
}

void ProxyExchange::responderEvent(HttpResponder::Event event)
{
    switch (event) {
    case HttpResponder::Event::ClientGone: onClientGone(); break;
    case HttpResponder::Event::Drained: relay(); break;
    }
}

void ProxyExchange::start()
{
    m_snapshot = m_context.snapshots->current();
    const QByteArray contentType = m_request.headers.value("content-type");
    const ProxyRules::BodyTraits traits = ProxyRules::inspectBody(contentType, m_request.body);
    m_stream = traits.stream;

    m_record.createdAt = QDateTime::currentDateTimeUtc();
    m_record.model = traits.model.left(200);
    m_record.stream = traits.stream;
    m_record.path = QString::fromUtf8(m_request.path);

    m_endpoint = ProxyRules::endpointOf(m_request.path);
    m_usage.setShape(m_endpoint == ProxyRules::Endpoint::Messages ? UsageScanner::Shape::Messages
            : m_endpoint == ProxyRules::Endpoint::Responses       ? UsageScanner::Shape::Responses
                                                                  : UsageScanner::Shape::Chat);
    RequestTraits requestTraits{traits.model, m_record.path, ProxyRules::formatOf(m_endpoint), {}};
    const int affinityTtlSec = m_snapshot->settings.affinityTtlSec;
    if (m_context.affinity && affinityTtlSec > 0) {
        m_context.affinity->setTtlMs(qint64(affinityTtlSec) * 1000);
        m_affinityKey = ProxyRules::affinityKey(m_request.headers, traits);
        requestTraits.affinityKey = m_affinityKey;
    }
    m_model = traits.model;
    m_requestTraits = requestTraits;
    if (m_request.appTokenId > 0 && (askSharedLimits() || !admitAppToken()))
        return;
    chooseAndSend();
}

void ProxyExchange::chooseAndSend()
{
    const RequestTraits &requestTraits = m_requestTraits;
    qint64 boundTo = 0;
    bool served = false;
    m_candidates = m_context.balancer->candidates(*m_snapshot, requestTraits, &boundTo, &served);
    if (!m_affinityKey.isEmpty())
        m_record.session = QString::fromUtf8(m_affinityKey.left(64));
    m_record.sessionBound = boundTo > 0;
    if (m_endpoint == ProxyRules::Endpoint::Messages) {
        // No Anthropic upstream, or none that knows the model while a chat
        // one does: the chat ones, converted. (Asked first without ordering:
        // a second ordering would move the round-robin turn twice.)
        RequestTraits chatTraits = requestTraits;
        chatTraits.format = ApiFormat::OpenAI;
        if (m_candidates.isEmpty() || (!served && Balancer::isServed(*m_snapshot, chatTraits))) {
            QList<const Upstream *> chat = m_context.balancer->candidates(*m_snapshot, chatTraits, &boundTo);
            if (!chat.isEmpty()) {
                m_candidates = std::move(chat);
                m_record.sessionBound = boundTo > 0;
                if (!convertToChat())
                    return;
            }
        }
    }
    if (m_candidates.isEmpty() && m_endpoint == ProxyRules::Endpoint::CountTokens) {
        answerCountTokens(); // nobody to ask: an estimate, at once
        return;
    }
    if (m_candidates.isEmpty()) {
        QString message;
        if (m_snapshot->upstreams.isEmpty())
            message = tr("no upstream is configured; add one with -add or the admin API");
        else if (requestTraits.format == ApiFormat::Anthropic)
            message = tr("no enabled upstream can serve /v1/messages; add an anthropic one (-format anthropic) or an "
                         "OpenAI-compatible one, which gets the request converted");
        else if (!m_model.isEmpty())
            message = tr("no enabled upstream is allowed to serve model '%1'").arg(m_model);
        else
            message = tr("no enabled upstream is available");
        finishWithError(503, message, QStringLiteral("service_unavailable"), QStringLiteral("no_upstream"));
        return;
    }
    tryNext();
}

void ProxyExchange::tryNext()
{
    if (m_phase == Phase::Finished)
        return;
    if (m_next < m_candidates.size()) {
        sendAttempt(*m_candidates.at(m_next++));
        return;
    }
    if (m_onlyRateLimits && m_tried.size() > 1)
        m_context.health->globalThrottle(m_tried, m_context.health->nowMs(), m_lastRetryAfterMs);
    if (m_lastError) {
        // Every upstream refused; the last refusal is the most useful answer.
        if (m_lastError->converted) {
            m_lastError->body = m_conversion == Conversion::MessagesToChat
                ? MessagesChat::errorFromChat(m_lastError->status, m_lastError->body)
                : ResponsesChat::errorFromChat(m_lastError->status, m_lastError->body);
            m_lastError->headers.set(QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json"));
        }
        commit(m_lastError->status);
        if (m_responder) {
            m_responder->write(m_lastError->body);
            m_responder->end();
        }
        finish(Outcome::Failed, tr("all upstreams failed"));
        return;
    }
    finishWithError(502, tr("all upstreams failed; last error: %1").arg(m_record.error),
        QStringLiteral("upstream_error"), QStringLiteral("bad_gateway"));
}

void ProxyExchange::sendAttempt(const Upstream &upstream)
{
    enter(Phase::Attempting);
    m_current = &upstream; // in m_snapshot
    ++m_record.attempts;
    m_tried << upstream.id;
    m_attemptOpen = true;
    m_context.health->attemptStarted(upstream.id, m_context.health->nowMs());
    if (!chooseConversion(upstream))
        return;
    const UpstreamTarget target = m_converting
        ? ProxyRules::upstreamTarget(upstream.endpoint, "/v1/chat/completions", QByteArray(), upstream.proxy)
        : ProxyRules::upstreamTarget(upstream.endpoint, m_request.path, m_request.query, upstream.proxy);
    if (!target.isValid()) {
        failAttempt(tr("invalid endpoint %1").arg(upstream.endpoint), FailureClass::Transport);
        return;
    }
    HttpHeaders headers = ProxyRules::upstreamRequestHeaders(m_request.headers, upstream.sk, upstream.format);
    if (m_converting) {
        // The Anthropic client's own headers mean nothing to a chat server.
        for (const char *name : {"anthropic-version", "anthropic-beta", "anthropic-dangerous-direct-browser-access"})
            headers.remove(name);
        headers.set(QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json"));
    }
    // Endpoint, key and model name are this upstream's together (SPEC §10).
    // The record's UpstreamModel stays empty when it is the one asked for.
    m_record.upstreamModel.clear();
    const std::optional<QString> alias = upstream.modelMap.resolve(m_model);
    const QByteArray &asked = m_converting ? m_chatBody : m_request.body;
    QByteArray aliased;
    if (alias && *alias != m_model) {
        aliased = ProxyRules::withModel(asked, *alias);
        m_record.upstreamModel = alias->left(200);
    }
    UpstreamCall *call
        = m_context.upstreams->send(target, m_request.method, headers, aliased.isNull() ? asked : aliased);
    m_call = call;
    call->setListener(this);

    const Settings &s = m_snapshot->settings;
    int timeoutSec = m_stream ? s.streamTimeoutSec : s.timeoutSec;
    if (m_stream && upstream.streamTimeoutSec > 0)
        timeoutSec = upstream.streamTimeoutSec;
    else if (!m_stream && upstream.timeoutSec > 0)
        timeoutSec = upstream.timeoutSec;
    watchHeaders(timeoutSec * 1000);
    call->start();
}

void ProxyExchange::onHeaders()
{
    if (!m_call || m_phase != Phase::Attempting)
        return;
    const int status = m_call->status();
    unwatch();
    m_quotaRestMs = ProxyRules::quotaExhaustedForMs(m_call->headers());
    // At once, before the answer is relayed: a client may send its next
    // request the moment it has the body, before this attempt is over.
    if (m_quotaRestMs >= 0 && status < 300)
        m_context.health->quotaExhausted(m_current->id, m_quotaRestMs, m_context.health->nowMs());
    if (m_endpoint == ProxyRules::Endpoint::CountTokens && (status == 404 || status == 405)) {
        // An Anthropic-compatible server without count_tokens: not its fault, and we can estimate.
        endAttemptWithoutVerdict();
        dropCall();
        answerCountTokens();
        return;
    }
    if (Vocabulary::failureClassOf(status) && m_next < m_candidates.size()) {
        // Keep this answer (it may be the best we get) and move on once it is in.
        enter(Phase::CollectingError);
        m_lastError = StoredResponse{m_converting, status, m_call->reason(),
            ProxyRules::clientResponseHeaders(m_call->headers().pairs(), m_current->sk), {}};
        armIdleTimer();
        return;
    }
    commit(status);
}

void ProxyExchange::commit(int status)
{
    if (m_phase == Phase::Relaying || m_phase == Phase::Finished)
        return;
    // The head comes from the live call, or from the failover answer kept last.
    const bool fromCall = m_call && m_phase == Phase::Attempting;
    enter(Phase::Relaying);
    m_record.status = status;
    m_record.ttfbMs = m_clock.elapsed();
    m_record.upstreamId = m_current->id;
    if (!m_responder)
        return;
    HttpHeaders headers;
    QByteArray reason;
    qint64 length = -1;
    if (fromCall) {
        headers = ProxyRules::clientResponseHeaders(m_call->headers().pairs(), m_current->sk);
        reason = m_call->reason();
        length = m_call->contentLength();
        if (m_converting) {
            // Another body, of another length, in another format.
            const bool sse = status < 300 && Bytes::contains(headers.value("content-type"), "event-stream");
            m_convertAnswer = sse ? Convert::Stream : Convert::Json;
            if (sse && m_conversion == Conversion::MessagesToChat)
                m_convertStream = std::make_unique<MessagesChat::Stream>(m_convertModel);
            else if (sse)
                m_convertStream = std::make_unique<ResponsesChat::Stream>(m_convertModel, m_responseId);
            headers.set(QByteArrayLiteral("Content-Type"),
                sse ? QByteArrayLiteral("text/event-stream; charset=utf-8") : QByteArrayLiteral("application/json"));
            length = -1;
        }
    } else if (m_lastError) {
        headers = m_lastError->headers;
        reason = m_lastError->reason;
        length = m_lastError->body.size();
    }
    if (fromCall && !Vocabulary::failureClassOf(status) && !m_affinityKey.isEmpty())
        m_context.affinity->bind(m_affinityKey, m_current->id); // kept, or taken over from a resting one
    const QByteArray type = headers.value("content-type");
    m_eventStream = Bytes::contains(type, "event-stream");
    m_scanUsage = m_eventStream || Bytes::contains(type, "json");
    m_responder->begin(status, headers, length, reason);
    // Headers alone (a stream before its first event): out now. Otherwise
    // they leave with the body that came with them, in one write.
    if (fromCall && !m_call->hasUnparsedInput())
        m_responder->flush();
    armIdleTimer();
}

void ProxyExchange::forward(const QByteArray &chunk)
{
    switch (m_convertAnswer) {
    case Convert::None: deliver(chunk); return;
    case Convert::Stream: deliver(m_convertStream->feed(chunk)); return;
    case Convert::Json:
        if (m_convertJson.size() < 64 * 1024 * 1024)
            m_convertJson += chunk;
        return;
    }
}

bool ProxyExchange::convertToChat()
{
    const MessagesChat::Request chat = MessagesChat::toChat(m_request.body);
    if (!chat.error.isEmpty()) {
        finishWithError(400, chat.error, QStringLiteral("invalid_request_error"), QString());
        return false;
    }
    m_conversion = Conversion::MessagesToChat;
    m_chatBody = chat.body;
    m_convertModel = chat.model;
    return true;
}

bool ProxyExchange::chooseConversion(const Upstream &upstream)
{
    m_convertAnswer = Convert::None;
    m_convertStream.reset();
    m_convertJson.clear();
    if (m_endpoint == ProxyRules::Endpoint::Responses && !upstream.responses && m_conversion == Conversion::None) {
        const ResponsesChat::Request chat = ResponsesChat::toChat(m_request.body);
        if (!chat.error.isEmpty()) {
            // The client's request, not this upstream: no other one would do better.
            endAttemptWithoutVerdict();
            finishWithError(400, chat.error, QStringLiteral("invalid_request_error"), QString());
            return false;
        }
        m_conversion = Conversion::ResponsesToChat;
        m_chatBody = chat.body;
        m_convertModel = chat.model;
        m_responseId = "resp_" + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
    }
    m_converting = m_conversion == Conversion::MessagesToChat
        || (m_conversion == Conversion::ResponsesToChat && !upstream.responses);
    if (m_converting)
        m_record.converted = true;
    return true;
}

QByteArray ProxyExchange::finishConversion(int status)
{
    switch (m_convertAnswer) {
    case Convert::None: return QByteArray();
    case Convert::Stream: return m_convertStream->finish();
    case Convert::Json:
        if (m_conversion == Conversion::ResponsesToChat)
            return status < 300 ? ResponsesChat::fromChat(m_convertJson, m_convertModel, m_responseId)
                                : ResponsesChat::errorFromChat(status, m_convertJson);
        return status < 300 ? MessagesChat::fromChat(m_convertJson, m_convertModel)
                            : MessagesChat::errorFromChat(status, m_convertJson);
    }
    return QByteArray();
}

void ProxyExchange::deliver(const QByteArray &chunk)
{
    if (chunk.isEmpty())
        return;
    m_record.responseBytes += chunk.size();
    if (m_scanUsage)
        m_usage.feed(chunk);
    if (m_endpoint == ProxyRules::Endpoint::Responses && !m_responseIdSeen)
        noteResponseId(chunk);
    if (m_snapshot->settings.recordBodies) {
        if (m_eventStream)
            collectDeltas(chunk);
        else if (m_record.response.size() < maxRecordedBodyBytes)
            m_record.response += QString::fromUtf8(chunk.left(maxRecordedBodyBytes));
    }
    if (m_holdWrites)
        m_held += chunk;
    else if (m_responder)
        m_responder->write(chunk);
}

void ProxyExchange::collectDeltas(const QByteArray &chunk)
{
    m_partialLine += chunk;
    qsizetype start = 0;
    for (qsizetype eol = m_partialLine.indexOf('\n'); eol >= 0; eol = m_partialLine.indexOf('\n', start)) {
        const QByteArray line = m_partialLine.mid(start, eol - start).trimmed();
        start = eol + 1;
        if (!line.startsWith("data:") || m_assistantText.size() >= maxRecordedBodyBytes)
            continue;
        const QJsonObject event = QJsonDocument::fromJson(line.mid(5).trimmed()).object();
        const QJsonObject delta = event.value(QLatin1String("choices"))
                                      .toArray()
                                      .first()
                                      .toObject()
                                      .value(QLatin1String("delta"))
                                      .toObject();
        m_assistantText += delta.value(QLatin1String("content")).toString();
    }
    m_partialLine.remove(0, start);
    if (m_partialLine.size() > maxRecordedBodyBytes)
        m_partialLine.clear(); // not an event stream after all
}

void ProxyExchange::onReadyRead()
{
    if (!m_call)
        return;
    if (m_phase == Phase::CollectingError) {
        m_lastError->body += m_call->readAll();
        noteActivity();
        if (m_lastError->body.size() > maxKeptErrorBytes)
            keepErrorResponse();
        return;
    }
    if (m_phase == Phase::Relaying)
        relay();
}

void ProxyExchange::relay()
{
    if (!m_call || m_phase != Phase::Relaying || !m_responder)
        return;
    // Backpressure: past the high-water mark the bytes stay in the call,
    // which stops reading its socket once its own bound is reached.
    if (m_call->bytesAvailable() == 0 || m_responder->bufferedBytes() >= m_context.writeHighWater)
        return;
    forward(m_call->readAll());
    noteActivity();
}

void ProxyExchange::onCallFinished()
{
    if (!m_call || m_phase == Phase::Finished)
        return;
    unwatch();
    const bool failed = m_call->failure() != UpstreamCall::Failure::None;
    const int status = m_call->status();

    if (m_phase == Phase::CollectingError) {
        if (failed)
            m_lastError->body.clear();
        else
            m_lastError->body += m_call->readAll();
        keepErrorResponse();
        return;
    }
    if (m_phase != Phase::Relaying) {
        failAttempt(m_call->errorString(), FailureClass::Transport);
        return;
    }
    // A whole answer that is not an event stream is judged before its last
    // bytes go out: the client may send its next request the moment it has
    // them, and that request must see this key's new health.
    if (!failed && !m_eventStream)
        reportAnswer(status);
    // Everything that arrived goes out, backpressure or not: it is bounded
    // by the call's buffer. The last bytes wait until the answer's tokens
    // and cost are counted to its app token: the client's next request
    // may come the moment it has them, and must meet the new spend.
    m_holdWrites = true;
    forward(m_call->readAll());
    if (!failed)
        deliver(finishConversion(status));
    m_holdWrites = false;
    if (!failed)
        settleUsage();
    if (m_responder && !m_held.isEmpty())
        m_responder->write(m_held);
    m_held.clear();
    m_attemptLog << QString::number(m_current->id) + QLatin1Char(':') + QString::number(status);
    const bool unfinished = !failed && status < 300 && !streamCameToItsEnd();
    if (failed || unfinished) {
        // The upstream broke off: the client must see an error, not an end.
        const QString error = failed ? m_call->errorString() : tr("the stream ended before its terminal event");
        qCInfo(lcProxy) << "upstream" << m_current->id << "broke off the response:" << error;
        m_record.failedUpstreams << m_current->id;
        reportAttempt(FailureClass::Transport, error);
        if (m_responder)
            m_responder->abort();
        finish(Outcome::CutUpstream, error);
        return;
    }
    reportAnswer(status);
    if (m_responder)
        m_responder->end();
    finish(Outcome::Complete);
}

void ProxyExchange::reportAnswer(int status)
{
    if (!m_attemptOpen)
        return; // judged already
    const std::optional<FailureClass> failure = Vocabulary::failureClassOf(status);
    if (failure) {
        m_record.failedUpstreams << m_current->id;
        reportAttempt(failure, QStringLiteral("HTTP %1").arg(status),
            ProxyRules::retryAfterMs(m_call->headers().value("retry-after")));
    } else {
        m_record.upstreamSucceeded = true;
        reportAttempt(std::nullopt, QString());
    }
}

void ProxyExchange::keepErrorResponse()
{
    unwatch();
    const int status = m_lastError->status;
    failAttempt(QStringLiteral("HTTP %1").arg(status),
        Vocabulary::failureClassOf(status).value_or(FailureClass::ServerError),
        ProxyRules::retryAfterMs(m_lastError->headers.value("retry-after")));
}

void ProxyExchange::failAttempt(const QString &what, FailureClass failure, qint64 retryAfterMs)
{
    qCInfo(lcProxy) << "upstream" << m_current->id << "failed:" << what;
    m_attemptLog << QString::number(m_current->id) + QLatin1Char(':') + what.left(60);
    m_record.failedUpstreams << m_current->id;
    m_record.error = what;
    reportAttempt(failure, what, retryAfterMs);
    dropCall();
    tryNext();
}

void ProxyExchange::reportAttempt(std::optional<FailureClass> failure, const QString &reason, qint64 retryAfterMs)
{
    if (!m_attemptOpen)
        return;
    m_attemptOpen = false;
    HealthTracker *health = m_context.health;
    health->attemptEnded(m_current->id);
    if (!failure) {
        health->succeeded(m_current->id, m_record.ttfbMs, m_quotaRestMs, health->nowMs());
        m_onlyRateLimits = false;
        return;
    }
    if (*failure != FailureClass::RateLimited)
        m_onlyRateLimits = false;
    else
        m_lastRetryAfterMs = retryAfterMs;
    health->failed(m_current->id, *failure, reason, health->nowMs(), retryAfterMs);
}

void ProxyExchange::armIdleTimer()
{
    m_idleTimeoutMs = m_snapshot->settings.idleTimeoutSec * 1000;
    m_watch = Watch::Idle;
    m_deadline.armIn(m_idleTimeoutMs, this);
}

void ProxyExchange::watchHeaders(int timeoutMs)
{
    m_headerTimeoutMs = timeoutMs;
    m_watch = Watch::Headers;
    m_deadline.armIn(timeoutMs, this);
}

// Every stream event moves the idle deadline; that costs no timer work.
void ProxyExchange::noteActivity()
{
    if (m_watch == Watch::Idle)
        m_deadline.armIn(m_idleTimeoutMs, this);
}

void ProxyExchange::unwatch()
{
    m_watch = Watch::None;
    m_deadline.disarm();
}

void ProxyExchange::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_deadline.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    if (!m_deadline.fire(this))
        return;
    const Watch expired = std::exchange(m_watch, Watch::None);
    if (expired == Watch::Headers)
        onHeaderTimeout();
    else if (expired == Watch::Idle)
        onIdleTimeout();
}

void ProxyExchange::onHeaderTimeout()
{
    if (m_phase != Phase::Attempting || !m_call)
        return;
    failAttempt(tr("no response headers within %1 s").arg(m_headerTimeoutMs / 1000), FailureClass::Transport);
}

void ProxyExchange::onIdleTimeout()
{
    if (m_phase == Phase::CollectingError) {
        keepErrorResponse();
        return;
    }
    if (m_phase != Phase::Relaying)
        return;
    qCInfo(lcProxy) << "upstream" << m_current->id << "stalled; ending the response";
    m_record.failedUpstreams << m_current->id;
    m_attemptLog << QString::number(m_current->id) + QLatin1String(":stalled");
    reportAttempt(FailureClass::Transport, tr("stream stalled"));
    dropCall();
    if (m_responder)
        m_responder->abort();
    finish(Outcome::Stalled, tr("upstream sent nothing for %1 s").arg(m_idleTimeoutMs / 1000));
}

void ProxyExchange::endAttemptWithoutVerdict()
{
    if (!m_attemptOpen)
        return;
    m_attemptOpen = false;
    m_context.health->attemptEnded(m_current->id);
}

bool ProxyExchange::admitAppToken()
{
    const AppToken *token = m_snapshot->appToken(m_request.appTokenId);
    if (!token || !m_context.limits)
        return true; // deleted this very moment: it was valid when the request came
    // The price is looked at only when there is a budget to keep.
    const bool free = token->monthlyBudgetUsd > 0 && m_snapshot->settings.prices.isFree(m_model);
    return applyAdmission(*token, m_context.limits->admit(*token, m_model, free, m_record.createdAt));
}

bool ProxyExchange::askSharedLimits()
{
    const AppToken *token = m_snapshot->appToken(m_request.appTokenId);
    if (!token || !m_context.sharedLimits
        || (token->rpm <= 0 && token->dailyTokenLimit <= 0 && token->monthlyBudgetUsd <= 0))
        return false; // nothing the team must count together (the allow list is checked here)
    const bool free = token->monthlyBudgetUsd > 0 && m_snapshot->settings.prices.isFree(m_model);
    QPointer<ProxyExchange> self(this);
    // The answer comes back through the worker's upstream client, which
    // outlives every exchange; the exchange itself may be gone by then.
    m_context.sharedLimits->admit(*token, m_model, free, m_context.upstreams, [self](AppLimits::Admission a) {
        if (self)
            self->admitted(a);
    });
    return true;
}

void ProxyExchange::admitted(const AppLimits::Admission &a)
{
    if (m_phase == Phase::Finished)
        return;
    const AppToken *token = m_snapshot->appToken(m_request.appTokenId);
    if (!token || applyAdmission(*token, a))
        chooseAndSend();
}

bool ProxyExchange::applyAdmission(const AppToken &appToken, const AppLimits::Admission &a)
{
    const AppToken *token = &appToken;
    m_record.limited = !a.admitted();
    switch (a.verdict) {
    case AppLimits::Verdict::Admitted: return true;
    case AppLimits::Verdict::ModelNotAllowed:
        finishWithError(403, tr("the app token %1 may not use model '%2'").arg(token->name, m_model),
            QStringLiteral("permission_error"), QStringLiteral("model_not_allowed"));
        return false;
    case AppLimits::Verdict::RpmExceeded: {
        const qint64 seconds = qMax<qint64>(1, (a.retryAfterMs + 999) / 1000);
        HttpHeaders retry;
        retry.append(QByteArrayLiteral("Retry-After"), QByteArray::number(seconds));
        finishWithError(429,
            tr("the app token %1 is limited to %2 requests per minute; retry in %3 s")
                .arg(token->name)
                .arg(token->rpm)
                .arg(seconds),
            QStringLiteral("rate_limit_error"), QStringLiteral("rpm_limit_exceeded"), retry);
        return false;
    }
    case AppLimits::Verdict::TokensExhausted:
        finishWithError(429,
            tr("the app token %1 has used its %2 tokens for today (UTC)").arg(token->name).arg(token->dailyTokenLimit),
            QStringLiteral("insufficient_quota"), QStringLiteral("insufficient_quota"));
        return false;
    case AppLimits::Verdict::BudgetExhausted:
        finishWithError(429,
            tr("the app token %1 has spent its budget of $%2 for this month (UTC)")
                .arg(token->name)
                .arg(token->monthlyBudgetUsd, 0, 'f', 2),
            QStringLiteral("insufficient_quota"), QStringLiteral("insufficient_quota"));
        return false;
    }
    return true;
}

void ProxyExchange::settleUsage()
{
    if (m_usageSettled || !m_scanUsage)
        return;
    m_usageSettled = true;
    const TokenUsage usage = m_usage.result();
    m_record.promptTokens = usage.prompt;
    m_record.completionTokens = usage.completion;
    m_record.totalTokens = usage.total;
    m_record.cachedTokens = usage.cached;
    m_record.cacheWriteTokens = usage.cacheWrite;
    m_record.reasoningTokens = usage.reasoning;
    if (m_snapshot)
        countCost();
}

void ProxyExchange::countCost()
{
    if (m_record.totalTokens <= 0 && m_record.promptTokens <= 0 && m_record.completionTokens <= 0)
        return;
    const QString &sent = m_record.upstreamModel.isEmpty() ? m_model : m_record.upstreamModel;
    m_record.costUsd = m_snapshot->settings.prices
                           .cost(sent, m_record.promptTokens, m_record.cachedTokens, m_record.cacheWriteTokens,
                               m_record.completionTokens)
                           .value_or(0);
    const qint64 tokens
        = m_record.totalTokens > 0 ? m_record.totalTokens : m_record.promptTokens + m_record.completionTokens;
    if (m_request.appTokenId > 0 && m_context.limits)
        m_context.limits->spent(m_request.appTokenId, tokens, m_record.costUsd, m_record.createdAt);
    if (m_request.appTokenId > 0 && m_context.sharedLimits)
        m_context.sharedLimits->spent(m_request.appTokenId, tokens, m_record.costUsd);
}

void ProxyExchange::answerCountTokens()
{
    m_record.status = 200;
    m_record.ttfbMs = m_clock.elapsed();
    m_record.upstreamId = 0;
    if (m_responder && !m_responder->isStarted()) {
        HttpHeaders headers;
        headers.append(QByteArrayLiteral("x-route-estimated"), QByteArrayLiteral("true"));
        const int estimate = TokenEstimate::messagesInput(m_request.body);
        m_responder->sendJson(200, "{\"input_tokens\":" + QByteArray::number(estimate) + '}', headers);
    }
    finish(Outcome::Complete);
}

void ProxyExchange::noteResponseId(const QByteArray &chunk)
{
    // In the first event (response.created) or the first bytes of the JSON.
    if (m_record.responseBytes > 8192) {
        m_responseIdSeen = true;
        return;
    }
    const qsizetype at = Bytes::indexOf(chunk, "\"resp_");
    if (at < 0)
        return;
    const qsizetype end = Bytes::indexOf(chunk, '"', at + 1);
    if (end < 0 || end - at > 200)
        return;
    m_responseIdSeen = true;
    if (m_context.affinity && m_snapshot->settings.affinityTtlSec > 0)
        m_context.affinity->bind("resp:" + chunk.mid(at + 1, end - at - 1), m_current->id);
}

bool ProxyExchange::streamCameToItsEnd() const
{
    if (!m_eventStream)
        return true;
    const QByteArray &tail = m_usage.tail();
    switch (m_endpoint) {
    case ProxyRules::Endpoint::Responses:
        return Bytes::contains(tail, "response.completed") || Bytes::contains(tail, "response.incomplete")
            || Bytes::contains(tail, "response.failed") || Bytes::contains(tail, "event: error");
    case ProxyRules::Endpoint::Messages:
        return Bytes::contains(tail, "message_stop") || Bytes::contains(tail, "event: error");
    default: return true;
    }
}

void ProxyExchange::onClientGone()
{
    if (m_phase == Phase::Finished)
        return;
    // An agent may hang up the moment it has the terminal event, before the
    // last chunk of the framing: that answer was whole.
    const bool whole = m_phase == Phase::Relaying && m_eventStream
        && (m_endpoint == ProxyRules::Endpoint::Responses || m_endpoint == ProxyRules::Endpoint::Messages)
        && streamCameToItsEnd();
    if (whole) {
        m_record.upstreamSucceeded = true;
        reportAttempt(std::nullopt, QString());
        dropCall();
        finish(Outcome::Complete);
        return;
    }
    // Not the upstream's fault: neither a success nor a failure.
    endAttemptWithoutVerdict();
    dropCall();
    finish(Outcome::AbortedByClient, tr("client closed the connection"));
}

void ProxyExchange::finishWithError(
    int status, const QString &message, const QString &type, const QString &code, const HttpHeaders &extra)
{
    m_record.status = status;
    m_record.ttfbMs = m_clock.elapsed();
    // Recorded before the client has the answer: its next request's record
    // then comes after this one (the exchange is deleted later, not now).
    const bool answer = m_responder && !m_responder->isStarted();
    QPointer<HttpResponder> responder = m_responder;
    const QByteArray body = answer ? errorBodyFor(m_request.path, message, type, code) : QByteArray();
    finish(Outcome::Failed, message);
    if (answer && responder)
        responder->sendJson(status, body, extra);
}

void ProxyExchange::finish(Outcome outcome, const QString &error)
{
    if (m_phase == Phase::Finished)
        return;
    enter(Phase::Finished);
    m_watch = Watch::None;
    m_deadline.stop();
    dropCall();
    describeRequest();
    m_record.outcome = outcome;
    if (!error.isEmpty())
        m_record.error = error;
    m_record.durationMs = m_clock.elapsed();
    m_record.attemptLog = m_attemptLog.join(QLatin1Char(' '));
    if (m_eventStream && m_snapshot && m_snapshot->settings.recordBodies)
        m_record.response = m_assistantText;
    settleUsage();
    if (lcRequests().isInfoEnabled())
        logLine();
    if (m_context.metrics)
        m_context.metrics->requestFinished(m_record);
    if (m_context.records)
        m_context.records->submit(std::move(m_record));
    if (m_handler)
        m_handler->exchangeFinished(this);
}

// Filled in at the end, not at the start: the request reaches the upstream
// without waiting for these conversions.
void ProxyExchange::describeRequest()
{
    m_record.clientIp = m_request.peerText;
    m_record.clientTokenId = m_request.clientTokenId;
    m_record.appTokenId = m_request.appTokenId;
    m_record.peerApp = m_request.peerApp;
    m_record.method = QString::fromLatin1(m_request.method);
    m_record.requestBytes = m_request.body.size();
    m_record.userAgent = QString::fromUtf8(m_request.headers.value("user-agent")).left(200);
    if (m_snapshot && m_snapshot->settings.recordBodies)
        m_record.body = QString::fromUtf8(m_request.body.left(maxRecordedBodyBytes));
}

void ProxyExchange::logLine() const
{
    // One line per request. Built in one piece: through QDebug's stream it
    // cost more than parsing the request.
    QString line = m_record.method + QLatin1Char(' ') + m_record.path + QLatin1Char(' ')
        + (m_record.model.isEmpty() ? QStringLiteral("-") : m_record.model) + QLatin1String(" upstream=")
        + QString::number(m_record.upstreamId) + QLatin1Char(' ') + QString::number(m_record.status) + QLatin1Char(' ')
        + QString::number(m_record.durationMs) + QLatin1String("ms ") + Vocabulary::name(m_record.outcome);
    if (m_record.attempts > 1)
        line += QLatin1String(" attempts=") + QString::number(m_record.attempts);
    RequestLog::info(line);
}

void ProxyExchange::dropCall()
{
    if (!m_call)
        return;
    UpstreamCall *call = m_call;
    m_call = nullptr;
    call->setListener(nullptr);
    call->abort(); // no-op when the connection already went back to the pool
    call->deleteLater();
}

} // namespace route
