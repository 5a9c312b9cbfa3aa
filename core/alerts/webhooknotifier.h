#pragma once

#include "balancer/health.h"
#include "proxy/upstreamcall.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>

namespace route {

class SnapshotHolder;
class UpstreamClient;

// Outbound alerts for headless users: POSTs a message to the webhook in
// `config_kvs.webhook_url` when an upstream goes down, comes back, or all are
// down. Generic JSON, Feishu or Matrix shaped (`webhook_format`). Keys are
// masked; messages are rate-limited and retried briefly; nothing here ever
// waits on the proxy's path.
class WebhookNotifier final : public QObject, private UpstreamCall::Listener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebhookNotifier)
public:
    WebhookNotifier(SnapshotHolder *snapshots, HealthTracker *health, QObject *parent = nullptr);

    void onHealthChanged(qint64 upstreamId, HealthState state, const QString &reason, bool foundHere = true);

    // How long a delivery may go unanswered before it counts as failed (and
    // is retried); 10 s unless set (tests shorten it).
    void setDeliveryTimeout(int ms) { m_deliveryTimeoutMs = ms; }

    static constexpr int perUpstreamIntervalMs = 60 * 1000;
    static constexpr int maxPerMinute = 10;

    // The body for one event in the configured shape (public for tests).
    static QByteArray body(
        const QString &format, const QString &event, const QString &text, const QJsonObject &details);

Q_SIGNALS:
    void delivered(int status);

private:
    void send(const QString &event, const QString &text, const QJsonObject &details, const QString &rateKey);
    void post(const QByteArray &payload, int attempt);
    void upstreamEvent(UpstreamCall *call, UpstreamCall::Event event) override;
    // A delivery is over: delivered, refused, or no answer in time.
    void conclude(UpstreamCall *call, bool timedOut);

    struct Delivery
    {
        QByteArray payload;
        int attempt = 0;
    };
    bool allowed(const QString &key);

    SnapshotHolder *m_snapshots;
    HealthTracker *m_health;
    UpstreamClient *m_client;
    QElapsedTimer m_clock;
    QHash<UpstreamCall *, Delivery> m_deliveries;
    QHash<QString, qint64> m_last;
    QList<qint64> m_recent;
    bool m_allDown = false;
    int m_deliveryTimeoutMs = 10000;
};

} // namespace route
