#include "proxy/proxyexchange.h"

#include "balancer/balancer.h"
#include "http/errorbody.h"
#include "http/httpresponder.h"
#include "proxy/networkpool.h"
#include "proxy/proxyrules.h"
#include "records/recordsink.h"
#include "util/logging.h"

#include <QNetworkAccessManager>
#include <QNetworkRequest>

namespace {

constexpr qint64 readBufferBytes = 256 * 1024;
constexpr qint64 maxKeptErrorBytes = 256 * 1024;

// Errors of the connection itself, as opposed to an HTTP status that Qt also
// reports as an error.
bool isTransportError(QNetworkReply::NetworkError e)
{
    const int code = int(e);
    if (e == QNetworkReply::NoError)
        return false;
    const bool contentError = code >= 201 && code <= 299;
    const bool serverError = code >= 401 && code <= 499;
    return !(contentError || serverError);
}

// 401/403/429/5xx say "this upstream, not this request": try another one.
bool isFailoverStatus(int status)
{
    return status == 401 || status == 403 || status == 429 || status >= 500;
}

} // namespace

ProxyExchange::ProxyExchange(HttpRequest &request, HttpResponder *responder, const ProxyContext &context,
                             QObject *parent)
    : QObject(parent), m_request(std::move(request)), m_responder(responder), m_context(context)
{
    m_clock.start();
    m_headerTimer.setSingleShot(true);
    m_idleTimer.setSingleShot(true);
    connect(&m_headerTimer, &QTimer::timeout, this, &ProxyExchange::onHeaderTimeout);
    connect(&m_idleTimer, &QTimer::timeout, this, &ProxyExchange::onIdleTimeout);
    connect(responder, &HttpResponder::clientGone, this, &ProxyExchange::onClientGone);
    connect(responder, &HttpResponder::drained, this, &ProxyExchange::relay);
}

ProxyExchange::~ProxyExchange()
{
    dropReply();
}

void ProxyExchange::start()
{
    m_snapshot = m_context.snapshots->current();
    const QByteArray contentType = m_request.headers.value("content-type");
    const ProxyRules::BodyTraits traits = ProxyRules::inspectBody(contentType, m_request.body);
    m_stream = traits.stream;

    m_record.createdAt = QDateTime::currentDateTimeUtc();
    m_record.clientIp = m_request.peer.toString();
    m_record.method = QString::fromLatin1(m_request.method);
    m_record.path = QString::fromUtf8(m_request.path);
    m_record.model = traits.model.left(200);
    m_record.stream = traits.stream;
    m_record.requestBytes = m_request.body.size();
    m_record.userAgent = QString::fromUtf8(m_request.headers.value("user-agent")).left(200);
    if (m_snapshot->settings.recordBodies)
        m_record.body = QString::fromUtf8(m_request.body.left(64 * 1024));

    const RequestTraits requestTraits{traits.model, QString::fromUtf8(m_request.path)};
    m_candidates = Balancer::candidates(*m_snapshot, requestTraits);
    if (m_candidates.isEmpty()) {
        if (m_snapshot->upstreams.isEmpty())
            finishWithError(503, tr("no upstream is configured; add one with -add or the admin API"),
                            QStringLiteral("service_unavailable"), QStringLiteral("no_upstream"));
        else if (!traits.model.isEmpty())
            finishWithError(503, tr("no enabled upstream is allowed to serve model '%1'").arg(traits.model),
                            QStringLiteral("service_unavailable"), QStringLiteral("no_upstream"));
        else
            finishWithError(503, tr("no enabled upstream is available"), QStringLiteral("service_unavailable"),
                            QStringLiteral("no_upstream"));
        return;
    }
    tryNext();
}

void ProxyExchange::tryNext()
{
    if (m_finished)
        return;
    if (m_next >= m_candidates.size()) {
        if (m_lastError) {
            // Every upstream refused; the last refusal is the most useful answer.
            commit(m_lastError->status);
            if (m_responder) {
                m_responder->write(m_lastError->body);
                m_responder->end();
            }
            m_record.status = m_lastError->status;
            finish(QStringLiteral("failed"), tr("all upstreams failed"));
        } else {
            finishWithError(502, tr("all upstreams failed; last error: %1").arg(m_record.error),
                            QStringLiteral("upstream_error"), QStringLiteral("bad_gateway"));
        }
        return;
    }
    sendAttempt(m_candidates.at(m_next++));
}

void ProxyExchange::sendAttempt(const Upstream &upstream)
{
    m_current = upstream;
    ++m_record.attempts;
    const QUrl url = ProxyRules::upstreamUrl(upstream.endpoint, m_request.path, m_request.query);
    if (!url.isValid() || url.isEmpty()) {
        failAttempt(QStringLiteral("invalid endpoint"));
        return;
    }
    QNetworkRequest request(url);
    const HttpHeaders headers = ProxyRules::upstreamRequestHeaders(m_request.headers, upstream.sk);
    for (const auto &[name, value] : headers) {
        const QByteArray existing = request.rawHeader(name);
        request.setRawHeader(name, existing.isEmpty() ? value : existing + ", " + value);
    }
    request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);

    m_manager = m_context.network->acquire();
    QNetworkReply *reply = m_request.body.isEmpty() && m_request.method == "GET"
        ? m_manager->get(request)
        : m_manager->sendCustomRequest(request, m_request.method, m_request.body);
    m_reply = reply;
    reply->setReadBufferSize(readBufferBytes);
    connect(reply, &QNetworkReply::metaDataChanged, this, &ProxyExchange::onMetaDataChanged);
    connect(reply, &QNetworkReply::readyRead, this, &ProxyExchange::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &ProxyExchange::onReplyFinished);

    const Settings &s = m_snapshot->settings;
    int timeoutSec = m_stream ? s.streamTimeoutSec : s.timeoutSec;
    if (m_stream && upstream.streamTimeoutSec > 0)
        timeoutSec = upstream.streamTimeoutSec;
    else if (!m_stream && upstream.timeoutSec > 0)
        timeoutSec = upstream.timeoutSec;
    m_headerTimer.start(timeoutSec * 1000);
}

int ProxyExchange::statusOf(QNetworkReply *reply) const
{
    const QVariant v = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    return v.isValid() ? v.toInt() : 0;
}

void ProxyExchange::onMetaDataChanged()
{
    if (!m_reply || m_committed || m_collectingError)
        return;
    const int status = statusOf(m_reply);
    if (status == 0)
        return;
    m_headerTimer.stop();
    if (isFailoverStatus(status) && m_next < m_candidates.size()) {
        // Keep this answer (it may be the best we get) and move on once it is in.
        m_collectingError = true;
        m_lastError = StoredResponse{status, m_reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray(),
                                     ProxyRules::clientResponseHeaders(m_reply->rawHeaderPairs(), m_current.sk), {}};
        m_idleTimer.start(m_snapshot->settings.idleTimeoutSec * 1000);
        return;
    }
    commit(status);
}

void ProxyExchange::commit(int status)
{
    if (m_committed)
        return;
    m_committed = true;
    m_record.status = status;
    m_record.ttfbMs = m_clock.elapsed();
    if (!m_responder)
        return;
    HttpHeaders headers;
    QByteArray reason;
    qint64 length = -1;
    if (m_reply && statusOf(m_reply) == status) {
        headers = ProxyRules::clientResponseHeaders(m_reply->rawHeaderPairs(), m_current.sk);
        reason = m_reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();
        bool ok = false;
        const qint64 declared = m_reply->rawHeader("content-length").toLongLong(&ok);
        if (ok && declared >= 0)
            length = declared;
        m_record.upstreamId = m_current.id;
    } else if (m_lastError) {
        headers = m_lastError->headers;
        reason = m_lastError->reason;
        length = m_lastError->body.size();
    }
    m_responder->begin(status, headers, length, reason);
    m_idleTimer.start(m_snapshot->settings.idleTimeoutSec * 1000);
}

void ProxyExchange::onReadyRead()
{
    if (!m_reply)
        return;
    if (m_collectingError) {
        m_lastError->body += m_reply->readAll();
        m_idleTimer.start();
        if (m_lastError->body.size() > maxKeptErrorBytes)
            keepErrorResponse();
        return;
    }
    if (m_committed)
        relay();
}

void ProxyExchange::relay()
{
    if (!m_reply || !m_committed || !m_responder)
        return;
    // Backpressure: past the high-water mark we stop reading; Qt then stops
    // reading the upstream socket once its bounded read buffer is full.
    while (m_reply->bytesAvailable() > 0 && m_responder->bufferedBytes() < m_context.writeHighWater) {
        const QByteArray chunk = m_reply->read(readBufferBytes);
        if (chunk.isEmpty())
            break;
        m_record.responseBytes += chunk.size();
        if (m_snapshot->settings.recordBodies && m_record.response.size() < 64 * 1024)
            m_record.response += QString::fromUtf8(chunk.left(64 * 1024));
        m_responder->write(chunk);
        m_idleTimer.start();
    }
}

void ProxyExchange::onReplyFinished()
{
    if (!m_reply || m_finished)
        return;
    m_headerTimer.stop();
    const QNetworkReply::NetworkError error = m_reply->error();
    const int status = statusOf(m_reply);

    if (m_collectingError) {
        if (isTransportError(error))
            m_lastError->body.clear();
        keepErrorResponse();
        return;
    }
    if (!m_committed && status != 0 && !isTransportError(error)) {
        onMetaDataChanged();
        if (m_collectingError) {
            onReplyFinished();
            return;
        }
    }
    if (!m_committed) {
        failAttempt(m_reply->errorString());
        return;
    }
    m_idleTimer.stop();
    // Everything that arrived goes out, backpressure or not: it is bounded by
    // the reply's read buffer.
    while (m_reply->bytesAvailable() > 0 && m_responder) {
        const QByteArray chunk = m_reply->readAll();
        m_record.responseBytes += chunk.size();
        m_responder->write(chunk);
    }
    m_attemptLog << QStringLiteral("%1:%2").arg(m_current.id).arg(status);
    if (isTransportError(error)) {
        // The upstream broke off: the client must see an error, not an end.
        qCInfo(lcProxy) << "upstream" << m_current.id << "broke off the response:" << m_reply->errorString();
        m_record.failedUpstreams << m_current.id;
        if (m_responder)
            m_responder->abort();
        finish(QStringLiteral("cut_upstream"), m_reply->errorString());
        return;
    }
    if (isFailoverStatus(status))
        m_record.failedUpstreams << m_current.id;
    else
        m_record.upstreamSucceeded = true;
    if (m_responder)
        m_responder->end();
    finish(QStringLiteral("complete"));
}

void ProxyExchange::keepErrorResponse()
{
    m_collectingError = false;
    m_idleTimer.stop();
    const int status = m_lastError->status;
    failAttempt(QStringLiteral("HTTP %1").arg(status));
}

void ProxyExchange::failAttempt(const QString &what)
{
    qCInfo(lcProxy) << "upstream" << m_current.id << "failed:" << what;
    m_attemptLog << QStringLiteral("%1:%2").arg(m_current.id).arg(what.left(60));
    m_record.failedUpstreams << m_current.id;
    m_record.error = what;
    dropReply();
    tryNext();
}

void ProxyExchange::onHeaderTimeout()
{
    if (m_committed || !m_reply)
        return;
    failAttempt(tr("no response headers within %1 s").arg(m_headerTimer.interval() / 1000));
}

void ProxyExchange::onIdleTimeout()
{
    if (m_collectingError) {
        keepErrorResponse();
        return;
    }
    if (!m_committed)
        return;
    qCInfo(lcProxy) << "upstream" << m_current.id << "stalled; ending the response";
    m_record.failedUpstreams << m_current.id;
    m_attemptLog << QStringLiteral("%1:stalled").arg(m_current.id);
    dropReply();
    if (m_responder)
        m_responder->abort();
    finish(QStringLiteral("stalled"), tr("upstream sent nothing for %1 s").arg(m_idleTimer.interval() / 1000));
}

void ProxyExchange::onClientGone()
{
    if (m_finished)
        return;
    dropReply();
    finish(QStringLiteral("aborted_by_client"), tr("client closed the connection"));
}

void ProxyExchange::finishWithError(int status, const QString &message, const QString &type, const QString &code)
{
    m_record.status = status;
    m_record.ttfbMs = m_clock.elapsed();
    if (m_responder && !m_responder->isStarted())
        m_responder->sendJson(status, openAiErrorBody(message, type, code));
    finish(QStringLiteral("failed"), message);
}

void ProxyExchange::finish(const QString &outcome, const QString &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_headerTimer.stop();
    m_idleTimer.stop();
    dropReply();
    m_record.outcome = outcome;
    if (!error.isEmpty())
        m_record.error = error;
    m_record.durationMs = m_clock.elapsed();
    m_record.attemptLog = m_attemptLog.join(QLatin1Char(' '));
    if (m_context.records)
        m_context.records->submit(std::move(m_record));
    Q_EMIT finished();
}

void ProxyExchange::dropReply()
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    // A reply can still emit after abort(): cut it loose first.
    reply->disconnect(this);
    if (reply->isRunning())
        reply->abort();
    reply->deleteLater();
    if (m_manager) {
        m_context.network->release(m_manager);
        m_manager = nullptr;
    }
}
