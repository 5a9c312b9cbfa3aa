#pragma once

#include "domain/vocabulary.h"
#include "util/clock.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QString>

#include <optional>

namespace route {

enum class HealthState { Healthy, RateLimited, AuthFailed, CoolingDown, HalfOpen };

// What the proxy knows about one upstream beyond the database.
struct UpstreamHealth
{
    HealthState state = HealthState::Healthy;
    qint64 untilMs = 0; // monotonic; cooling down until then
    int consecutiveFailures = 0;
    int tripCount = 0; // how often it cooled down in a row: the cooldown doubles
    bool probeInFlight = false;
    int inFlight = 0;
    double ttfbEwmaMs = -1; // -1: not measured yet
    QString reason;

    static QString stateName(HealthState s);
    static std::optional<HealthState> stateFromName(QStringView name);
};

// How quickly upstreams are rested and for how long (the README's Health table).
struct HealthTuning
{
    int failuresToTrip = 3;
    qint64 baseCooldownMs = 30 * 1000;
    qint64 maxCooldownMs = 10 * 60 * 1000;
    qint64 authCooldownMs = 10 * 60 * 1000;
    qint64 defaultRateLimitMs = 2 * 1000;
    qint64 maxRateLimitMs = 5 * 60 * 1000;
};

// Live health per upstream: cooldowns that grow, a single probe after them,
// in-flight counts and latency. Written by the proxy thread, read by anyone.
class HealthTracker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HealthTracker)
public:
    // Rests are timed on `clock` (the system's unless a test gives its own).
    explicit HealthTracker(const HealthTuning &tuning = {}, const Clock *clock = nullptr, QObject *parent = nullptr);

    // May a request go to it now? Half-open upstreams take one probe at a time.
    bool isAvailable(qint64 id, qint64 nowMs) const;
    UpstreamHealth health(qint64 id) const;
    QHash<qint64, UpstreamHealth> all() const;

    void attemptStarted(qint64 id, qint64 nowMs);
    void attemptEnded(qint64 id);
    // QUOTARESTMS >= 0: the answer said nothing is left for that long; the
    // upstream then rests at once, in the same step (no moment of "healthy").
    void succeeded(qint64 id, qint64 ttfbMs, qint64 quotaRestMs = -1, qint64 nowMs = 0);
    // retryAfterMs: from a 429's Retry-After; < 0 when absent.
    void failed(qint64 id, FailureClass cls, const QString &reason, qint64 nowMs, qint64 retryAfterMs = -1);
    // Every upstream said 429 for one request: our IP or account is
    // throttled, not the keys. Keep their cooldowns short.
    void globalThrottle(const QList<qint64> &ids, qint64 nowMs, qint64 retryAfterMs);
    // The upstream's rate-limit headers said nothing is left until their
    // reset: it rests that long (at most the longest rate-limit rest), so
    // the next requests go elsewhere before it answers 429. Not a failure.
    void quotaExhausted(qint64 id, qint64 forMs, qint64 nowMs);
    void forget(qint64 id);
    void reset(qint64 id);
    // Team mode (SPEC §12): a state another instance found (a rest of
    // RESTMS more, or Healthy again), taken as it is: it counts as no
    // failure here and is announced with foundHere = false, so it is not
    // passed on again. Half-open is each instance's own and is ignored.
    void adopt(qint64 id, HealthState state, qint64 restMs, const QString &reason, qint64 nowMs);

    // Now on the clock the times above are read from.
    qint64 nowMs() const { return m_clock->monotonicMs(); }

Q_SIGNALS:
    // FOUNDHERE: this instance found it (false: adopted from another one).
    void stateChanged(qint64 id, HealthState state, const QString &reason, bool foundHere);

private:
    struct Change
    {
        qint64 id;
        HealthState state;
        QString reason;
        bool foundHere = true;
    };
    std::optional<Change> setState(qint64 id, UpstreamHealth &h, HealthState state, const QString &reason);
    void announce(const std::optional<Change> &change);

    const HealthTuning m_tuning;
    const Clock *m_clock;
    mutable QMutex m_mutex;
    QHash<qint64, UpstreamHealth> m_health;
};

} // namespace route
