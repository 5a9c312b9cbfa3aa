#include "alerts/webhooknotifier.h"

#include "domain/snapshot.h"
#include "proxy/proxyrules.h"
#include "proxy/upstreamcall.h"
#include "proxy/upstreamclient.h"
#include "util/logging.h"
#include "util/secrets.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

namespace route {

namespace {
constexpr int retryDelaysMs[] = {2000, 5000};
} // namespace

WebhookNotifier::WebhookNotifier(SnapshotHolder *snapshots, HealthTracker *health, QObject *parent)
    : QObject(parent), m_snapshots(snapshots), m_health(health), m_client(new UpstreamClient(this))
{
    m_clock.start();
}

QByteArray WebhookNotifier::body(
    const QString &format, const QString &event, const QString &text, const QJsonObject &details)
{
    QJsonObject o;
    if (format == QLatin1String("feishu")) {
        o = QJsonObject{{QStringLiteral("msg_type"), QStringLiteral("text")},
            {QStringLiteral("content"), QJsonObject{{QStringLiteral("text"), text}}}};
    } else if (format == QLatin1String("matrix")) {
        o = QJsonObject{{QStringLiteral("msgtype"), QStringLiteral("m.text")}, {QStringLiteral("body"), text}};
    } else {
        o = details;
        o.insert(QStringLiteral("event"), event);
        o.insert(QStringLiteral("text"), text);
        o.insert(QStringLiteral("time"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool WebhookNotifier::allowed(const QString &key)
{
    const qint64 now = m_clock.elapsed();
    if (m_last.contains(key) && now - m_last.value(key) < perUpstreamIntervalMs)
        return false;
    while (!m_recent.isEmpty() && now - m_recent.first() > 60000)
        m_recent.removeFirst();
    if (m_recent.size() >= maxPerMinute)
        return false;
    m_last.insert(key, now);
    m_recent.append(now);
    return true;
}

void WebhookNotifier::onHealthChanged(qint64 upstreamId, HealthState state, const QString &reason, bool foundHere)
{
    // In team mode the instance that found it alerts, not every one of them.
    if (!foundHere)
        return;
    const auto snapshot = m_snapshots->current();
    if (snapshot->settings.webhookUrl.isEmpty())
        return;
    const Upstream *upstream = nullptr;
    int enabled = 0;
    int down = 0;
    for (const Upstream &u : snapshot->upstreams) {
        if (u.id == upstreamId)
            upstream = &u;
        if (!u.enabled)
            continue;
        ++enabled;
        const HealthState s = u.id == upstreamId ? state : m_health->health(u.id).state;
        if (s == HealthState::CoolingDown || s == HealthState::AuthFailed)
            ++down;
    }
    if (!upstream)
        return;
    const QString label = upstream->name.isEmpty() ? QStringLiteral("#%1").arg(upstreamId)
                                                   : QStringLiteral("#%1 %2").arg(upstreamId).arg(upstream->name);
    QJsonObject details{{QStringLiteral("upstream"),
                            QJsonObject{{QStringLiteral("id"), upstreamId}, {QStringLiteral("name"), upstream->name},
                                {QStringLiteral("endpoint"), upstream->endpoint},
                                {QStringLiteral("key"), Secrets::mask(upstream->sk)}}},
        {QStringLiteral("state"), UpstreamHealth::stateName(state)}, {QStringLiteral("reason"), reason}};
    const QString key = Secrets::mask(upstream->sk);
    if (state == HealthState::CoolingDown || state == HealthState::AuthFailed) {
        send(QStringLiteral("upstream_down"),
            tr("openai-api-route: upstream %1 (%2, key %3) is down: %4").arg(label, upstream->endpoint, key, reason),
            details, QStringLiteral("down-%1").arg(upstreamId));
    } else if (state == HealthState::Healthy) {
        send(QStringLiteral("upstream_recovered"),
            tr("openai-api-route: upstream %1 (%2, key %3) answers again").arg(label, upstream->endpoint, key), details,
            QStringLiteral("up-%1").arg(upstreamId));
    }
    const bool allDown = enabled > 0 && down == enabled;
    if (allDown && !m_allDown)
        send(QStringLiteral("all_down"), tr("openai-api-route: all %1 upstreams are down").arg(enabled), details,
            QStringLiteral("all"));
    m_allDown = allDown;
}

void WebhookNotifier::send(
    const QString &event, const QString &text, const QJsonObject &details, const QString &rateKey)
{
    if (!allowed(rateKey)) {
        qCDebug(lcEngine) << "webhook rate-limited:" << event;
        return;
    }
    const Settings &s = m_snapshots->current()->settings;
    post(body(s.webhookFormat, event, text, details), 0);
}

void WebhookNotifier::post(const QByteArray &payload, int attempt)
{
    const QString url = m_snapshots->current()->settings.webhookUrl;
    const UpstreamTarget target = UpstreamTarget::fromUrl(QUrl(url));
    if (!target.isValid())
        return;
    HttpHeaders headers;
    headers.append("Content-Type", "application/json");
    headers.append("User-Agent", "openai-api-route/" ROUTE_VERSION);
    UpstreamCall *call = m_client->send(target, "POST", headers, payload);
    m_deliveries.insert(call, {payload, attempt});
    call->setListener(this);
    QTimer::singleShot(m_deliveryTimeoutMs, call, [this, call] { conclude(call, true); });
    call->start();
}

void WebhookNotifier::upstreamEvent(UpstreamCall *call, UpstreamCall::Event event)
{
    if (event == UpstreamCall::Event::Finished)
        conclude(call, false);
}

void WebhookNotifier::conclude(UpstreamCall *call, bool timedOut)
{
    const auto it = m_deliveries.constFind(call);
    if (it == m_deliveries.cend())
        return;
    const Delivery delivery = *it;
    m_deliveries.erase(it);
    call->setListener(nullptr);
    call->abort(); // no-op when it finished
    call->deleteLater();
    const bool ok
        = !timedOut && call->failure() == UpstreamCall::Failure::None && call->status() >= 200 && call->status() < 300;
    if (ok) {
        Q_EMIT delivered(call->status());
        return;
    }
    const QString why = timedOut ? QStringLiteral("no answer within %1 ms").arg(m_deliveryTimeoutMs)
        : call->status()         ? QString::number(call->status())
                                 : call->errorString();
    qCWarning(lcEngine) << "webhook failed:" << why;
    const int attempt = delivery.attempt;
    if (attempt < int(std::size(retryDelaysMs))) {
        QTimer::singleShot(
            retryDelaysMs[attempt], this, [this, payload = delivery.payload, attempt] { post(payload, attempt + 1); });
    }
}

} // namespace route
