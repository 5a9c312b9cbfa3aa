#include "proxy/upstreamprobe.h"

#include "proxy/proxyrules.h"
#include "proxy/upstreamcall.h"
#include "proxy/upstreamclient.h"
#include "util/monotonic.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace route {

UpstreamProbe::UpstreamProbe(UpstreamClient *client, const Upstream &upstream, int timeoutMs, QObject *parent)
    : QObject(parent), m_client(client), m_upstream(upstream)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(timeoutMs);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        ProbeResult r;
        r.error = tr("no answer within %1 s").arg(m_timer.interval() / 1000);
        conclude(r);
    });
}

UpstreamProbe::~UpstreamProbe()
{
    dropCall();
}

void UpstreamProbe::upstreamEvent(UpstreamCall *call, UpstreamCall::Event event)
{
    if (call == m_call && event == UpstreamCall::Event::Finished)
        onFinished();
}

void UpstreamProbe::dropCall()
{
    if (!m_call)
        return;
    m_call->setListener(nullptr);
    m_call->deleteLater();
    m_call = nullptr;
}

void UpstreamProbe::start()
{
    m_startedMs = Monotonic::nowMs();
    // Anthropic pages its list by 20 unless asked for more.
    const QByteArray query = m_upstream.format == ApiFormat::Anthropic ? QByteArrayLiteral("limit=1000") : QByteArray();
    const UpstreamTarget target
        = ProxyRules::upstreamTarget(m_upstream.endpoint, "/v1/models", query, m_upstream.proxy);
    if (!target.isValid()) {
        ProbeResult r;
        r.error = tr("invalid endpoint %1").arg(m_upstream.endpoint);
        QMetaObject::invokeMethod(
            this, [this, r] { conclude(r); }, Qt::QueuedConnection);
        return;
    }
    HttpHeaders headers;
    headers.append("Accept", "application/json");
    m_call = m_client->send(
        target, "GET", ProxyRules::upstreamRequestHeaders(headers, m_upstream.sk, m_upstream.format), {});
    m_call->setListener(this);
    m_timer.start();
    m_call->start();
}

void UpstreamProbe::onFinished()
{
    ProbeResult r;
    r.status = m_call->status();
    if (m_call->failure() != UpstreamCall::Failure::None) {
        r.error = m_call->errorString();
        conclude(r);
        return;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(m_call->readAll());
    r.ok = r.status >= 200 && r.status < 300;
    if (r.ok) {
        r.models = modelIds(doc);
        r.modelCount = int(r.models.size());
    }
    if (!r.ok) {
        const QJsonValue message
            = doc.object().value(QLatin1String("error")).toObject().value(QLatin1String("message"));
        r.error = message.isString() ? message.toString() : tr("HTTP %1").arg(r.status);
    }
    conclude(r);
}

QStringList UpstreamProbe::modelIds(const QJsonDocument &doc)
{
    constexpr qsizetype maxModels = 5000;
    constexpr qsizetype maxIdLength = 200;
    const QJsonObject root = doc.object();
    QJsonArray list = root.value(QLatin1String("data")).toArray();
    if (list.isEmpty())
        list = root.value(QLatin1String("models")).toArray();
    QStringList ids;
    for (const QJsonValue &item : std::as_const(list)) {
        QString id = item.isString() ? item.toString() : item.toObject().value(QLatin1String("id")).toString();
        if (id.isEmpty())
            id = item.toObject().value(QLatin1String("name")).toString();
        id = id.trimmed();
        if (!id.isEmpty() && id.size() <= maxIdLength)
            ids << id;
        if (ids.size() >= maxModels)
            break;
    }
    ids.sort();
    ids.removeDuplicates();
    return ids;
}

void UpstreamProbe::conclude(ProbeResult result)
{
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    result.latencyMs = Monotonic::nowMs() - m_startedMs;
    dropCall();
    Q_EMIT done(result);
}

} // namespace route
