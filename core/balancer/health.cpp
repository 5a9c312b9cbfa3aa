#include "balancer/health.h"

#include "util/logging.h"

namespace route {

QString UpstreamHealth::stateName(HealthState s)
{
    switch (s) {
    case HealthState::Healthy: return QStringLiteral("healthy");
    case HealthState::RateLimited: return QStringLiteral("rate_limited");
    case HealthState::AuthFailed: return QStringLiteral("auth_failed");
    case HealthState::CoolingDown: return QStringLiteral("cooling_down");
    case HealthState::HalfOpen: return QStringLiteral("half_open");
    }
    return QString();
}

std::optional<HealthState> UpstreamHealth::stateFromName(QStringView name)
{
    for (HealthState s : {HealthState::Healthy, HealthState::RateLimited, HealthState::AuthFailed,
             HealthState::CoolingDown, HealthState::HalfOpen})
        if (name == stateName(s))
            return s;
    return std::nullopt;
}

HealthTracker::HealthTracker(const HealthTuning &tuning, const Clock *clock, QObject *parent)
    : QObject(parent), m_tuning(tuning), m_clock(clock ? clock : &Clock::system())
{ }

bool HealthTracker::isAvailable(qint64 id, qint64 now) const
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_health.constFind(id);
    if (it == m_health.cend())
        return true;
    const UpstreamHealth &h = *it;
    switch (h.state) {
    case HealthState::Healthy: return true;
    case HealthState::HalfOpen: return !h.probeInFlight;
    case HealthState::RateLimited:
    case HealthState::AuthFailed:
    case HealthState::CoolingDown:
        // After the cooldown one request may probe it.
        return now >= h.untilMs && !h.probeInFlight;
    }
    return true;
}

UpstreamHealth HealthTracker::health(qint64 id) const
{
    QMutexLocker lock(&m_mutex);
    return m_health.value(id);
}

QHash<qint64, UpstreamHealth> HealthTracker::all() const
{
    QMutexLocker lock(&m_mutex);
    return m_health;
}

void HealthTracker::attemptStarted(qint64 id, qint64 now)
{
    QMutexLocker lock(&m_mutex);
    UpstreamHealth &h = m_health[id];
    ++h.inFlight;
    if (h.state != HealthState::Healthy && now >= h.untilMs) {
        h.probeInFlight = true;
        if (h.state == HealthState::CoolingDown)
            h.state = HealthState::HalfOpen;
    }
}

void HealthTracker::attemptEnded(qint64 id)
{
    QMutexLocker lock(&m_mutex);
    UpstreamHealth &h = m_health[id];
    h.inFlight = qMax(0, h.inFlight - 1);
}

void HealthTracker::succeeded(qint64 id, qint64 ttfbMs, qint64 quotaRestMs, qint64 nowMs)
{
    std::optional<Change> change;
    {
        QMutexLocker lock(&m_mutex);
        UpstreamHealth &h = m_health[id];
        h.consecutiveFailures = 0;
        h.tripCount = 0;
        h.probeInFlight = false;
        h.untilMs = 0;
        if (ttfbMs >= 0)
            h.ttfbEwmaMs = h.ttfbEwmaMs < 0 ? double(ttfbMs) : 0.8 * h.ttfbEwmaMs + 0.2 * double(ttfbMs);
        if (quotaRestMs >= 0) {
            h.untilMs = nowMs + qBound<qint64>(0, quotaRestMs, m_tuning.maxRateLimitMs);
            if (h.state != HealthState::RateLimited)
                change = setState(id, h, HealthState::RateLimited, tr("no requests or tokens left until the reset"));
        } else if (h.state != HealthState::Healthy) {
            change = setState(id, h, HealthState::Healthy, QString());
        }
    }
    announce(change);
}

void HealthTracker::failed(qint64 id, FailureClass cls, const QString &reason, qint64 now, qint64 retryAfterMs)
{
    std::optional<Change> change;
    {
        QMutexLocker lock(&m_mutex);
        UpstreamHealth &h = m_health[id];
        h.probeInFlight = false;
        switch (cls) {
        case FailureClass::RateLimited: {
            const qint64 wait
                = retryAfterMs >= 0 ? qMin(retryAfterMs, m_tuning.maxRateLimitMs) : m_tuning.defaultRateLimitMs;
            h.untilMs = now + wait;
            change = setState(id, h, HealthState::RateLimited, reason);
            break;
        }
        case FailureClass::AuthRejected:
            ++h.tripCount;
            h.untilMs
                = now + qMin(m_tuning.authCooldownMs * (qint64(1) << qMin(h.tripCount - 1, 3)), qint64(60) * 60 * 1000);
            change = setState(id, h, HealthState::AuthFailed, reason);
            break;
        case FailureClass::Transport:
        case FailureClass::ServerError:
            ++h.consecutiveFailures;
            // A failed probe trips again at once; otherwise after a few in a row.
            if (h.state == HealthState::HalfOpen || h.consecutiveFailures >= m_tuning.failuresToTrip) {
                ++h.tripCount;
                const qint64 cooldown
                    = qMin(m_tuning.maxCooldownMs, m_tuning.baseCooldownMs * (qint64(1) << qMin(h.tripCount - 1, 10)));
                h.untilMs = now + cooldown;
                h.consecutiveFailures = 0;
                change = setState(id, h, HealthState::CoolingDown, reason);
            }
            break;
        }
    }
    announce(change);
}

void HealthTracker::quotaExhausted(qint64 id, qint64 forMs, qint64 now)
{
    std::optional<Change> change;
    {
        QMutexLocker lock(&m_mutex);
        UpstreamHealth &h = m_health[id];
        h.untilMs = qMax(h.untilMs, now + qBound<qint64>(0, forMs, m_tuning.maxRateLimitMs));
        if (h.state == HealthState::Healthy || h.state == HealthState::RateLimited)
            change = setState(id, h, HealthState::RateLimited, tr("no requests or tokens left until the reset"));
    }
    announce(change);
}

void HealthTracker::globalThrottle(const QList<qint64> &ids, qint64 now, qint64 retryAfterMs)
{
    QMutexLocker lock(&m_mutex);
    const qint64 wait = retryAfterMs >= 0 ? qMin(retryAfterMs, qint64(60) * 1000) : m_tuning.defaultRateLimitMs;
    for (qint64 id : ids) {
        UpstreamHealth &h = m_health[id];
        h.untilMs = qMin(h.untilMs, now + wait);
        if (h.state == HealthState::RateLimited)
            h.reason = tr("every upstream answered 429: the proxy's IP or account is throttled");
    }
}

void HealthTracker::forget(qint64 id)
{
    QMutexLocker lock(&m_mutex);
    m_health.remove(id);
}

void HealthTracker::reset(qint64 id)
{
    QMutexLocker lock(&m_mutex);
    UpstreamHealth &h = m_health[id];
    const int inFlight = h.inFlight;
    const double ewma = h.ttfbEwmaMs;
    const bool changed = h.state != HealthState::Healthy;
    h = UpstreamHealth();
    h.inFlight = inFlight;
    h.ttfbEwmaMs = ewma;
    lock.unlock();
    if (changed)
        Q_EMIT stateChanged(id, HealthState::Healthy, QString(), true);
}

void HealthTracker::adopt(qint64 id, HealthState state, qint64 restMs, const QString &reason, qint64 nowMs)
{
    if (state == HealthState::HalfOpen)
        return;
    QMutexLocker lock(&m_mutex);
    UpstreamHealth &h = m_health[id];
    std::optional<Change> change;
    if (state == HealthState::Healthy) {
        if (h.state == HealthState::Healthy)
            return;
        h.consecutiveFailures = 0;
        h.tripCount = 0;
        h.untilMs = 0;
        h.probeInFlight = false;
        change = setState(id, h, state, QString());
    } else {
        // The other instance's rest, from now on this clock: the two
        // clocks need not agree, only tick alike.
        h.untilMs = qMax(h.untilMs, nowMs + qMax<qint64>(0, restMs));
        h.probeInFlight = false;
        change = setState(id, h, state, reason);
    }
    lock.unlock();
    if (change)
        change->foundHere = false;
    announce(change);
}

std::optional<HealthTracker::Change> HealthTracker::setState(
    qint64 id, UpstreamHealth &h, HealthState state, const QString &reason)
{
    const bool changed = h.state != state;
    h.state = state;
    h.reason = reason;
    if (!changed)
        return std::nullopt;
    return Change{id, state, reason};
}

// Outside the lock: a directly connected slot may read the tracker.
void HealthTracker::announce(const std::optional<Change> &change)
{
    if (!change)
        return;
    qCInfo(lcProxy).noquote() << "upstream" << change->id << "is now" << UpstreamHealth::stateName(change->state)
                              << (change->reason.isEmpty() ? QString() : QStringLiteral("(%1)").arg(change->reason))
                              << (change->foundHere ? QString() : QStringLiteral("as another instance found"));
    Q_EMIT stateChanged(change->id, change->state, change->reason, change->foundHere);
}

} // namespace route
