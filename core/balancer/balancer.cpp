#include "balancer/balancer.h"

#include "balancer/affinity.h"
#include "balancer/health.h"

#include <algorithm>

namespace route {

Balancer::Balancer(HealthTracker *health, AffinityTable *affinity)
    : m_health(health), m_affinity(affinity), m_rng(QRandomGenerator::securelySeeded())
{ }

bool Balancer::matches(const QString &pattern, const RequestTraits &traits)
{
    const QString &subject = pattern.startsWith(QLatin1Char('/')) ? traits.path : traits.model;
    if (pattern.endsWith(QLatin1Char('*')))
        return subject.startsWith(QStringView(pattern).chopped(1));
    return subject == pattern;
}

bool Balancer::isEligible(const Upstream &u, const RequestTraits &traits)
{
    if (!u.enabled || u.format != traits.format)
        return false;
    if (u.allow.isEmpty() && u.deny.isEmpty())
        return true;
    // A model pattern may name the client's model or the alias this
    // upstream sends for it: "fast → gpt-4o-mini" passes "Only gpt-4o-mini".
    const std::optional<QString> alias = u.modelMap.resolve(traits.model);
    const auto hit = [&](const QString &p) {
        return matches(p, traits) || (alias && !p.startsWith(QLatin1Char('/')) && matches(p, {*alias, {}, {}, {}}));
    };
    if (!u.allow.isEmpty() && std::none_of(u.allow.cbegin(), u.allow.cend(), hit))
        return false;
    return std::none_of(u.deny.cbegin(), u.deny.cend(), hit);
}

bool Balancer::isServed(const Snapshot &snapshot, const RequestTraits &traits)
{
    return snapshot.mayKnowModels && !traits.model.isEmpty()
        && std::any_of(snapshot.upstreams.cbegin(), snapshot.upstreams.cend(),
            [&](const Upstream &u) { return u.serves(traits.model) && isEligible(u, traits); });
}

QList<const Upstream *> Balancer::candidates(
    const Snapshot &snapshot, const RequestTraits &traits, qint64 *boundTo, bool *served)
{
    if (boundTo)
        *boundTo = 0;
    QList<const Upstream *> available;
    QList<const Upstream *> resting;
    const qint64 now = m_health ? m_health->nowMs() : Monotonic::nowMs();
    // With no upstream known to serve the model, every eligible one is a
    // candidate: a fresh install without lists works as the seed did.
    const bool anyServes = isServed(snapshot, traits);
    if (served)
        *served = anyServes;
    for (const Upstream &u : snapshot.upstreams) {
        if (!isEligible(u, traits) || (anyServes && !u.serves(traits.model)))
            continue;
        if (!m_health || m_health->isAvailable(u.id, now))
            available << &u;
        else
            resting << &u;
    }
    {
        QMutexLocker lock(&m_mutex);
        orderByPolicy(snapshot.settings.policy, available);
    }
    // The policy placed a new conversation; a known one stays where it is
    // while that upstream is available (a resting one hands it over).
    if (m_affinity && !traits.affinityKey.isEmpty() && available.size() > 1) {
        const qint64 bound = m_affinity->lookup(traits.affinityKey);
        const auto it
            = std::find_if(available.begin(), available.end(), [bound](const Upstream *u) { return u->id == bound; });
        if (it != available.end()) {
            std::rotate(available.begin(), it, it + 1);
            if (boundTo)
                *boundTo = bound;
        }
    } else if (m_affinity && !traits.affinityKey.isEmpty() && available.size() == 1 && boundTo
        && m_affinity->lookup(traits.affinityKey) == available.first()->id) {
        *boundTo = available.first()->id;
    }
    if (m_health && !resting.isEmpty()) {
        std::stable_sort(resting.begin(), resting.end(), [this](const Upstream *a, const Upstream *b) {
            return m_health->health(a->id).untilMs < m_health->health(b->id).untilMs;
        });
    }
    available += resting;
    return available;
}

void Balancer::orderByPolicy(Policy policy, QList<const Upstream *> &list)
{
    if (list.size() < 2)
        return;
    switch (policy) {
    case Policy::Order: return;
    case Policy::RoundRobin:
        std::rotate(list.begin(), list.begin() + qsizetype(m_turn++ % quint64(list.size())), list.end());
        return;
    case Policy::Random:
        for (qsizetype i = list.size() - 1; i > 0; --i)
            list.swapItemsAt(i, qsizetype(m_rng.bounded(quint32(i + 1))));
        return;
    case Policy::Weighted: weightedOrder(list); return;
    case Policy::LeastInflight:
        if (m_health)
            std::stable_sort(list.begin(), list.end(), [this](const Upstream *a, const Upstream *b) {
                return m_health->health(a->id).inFlight < m_health->health(b->id).inFlight;
            });
        return;
    case Policy::LowestLatency:
        // Unmeasured upstreams go first, so every one gets measured.
        if (m_health)
            std::stable_sort(list.begin(), list.end(), [this](const Upstream *a, const Upstream *b) {
                return m_health->health(a->id).ttfbEwmaMs < m_health->health(b->id).ttfbEwmaMs;
            });
        return;
    }
}

// A random order where each position is drawn in proportion to the weights
// of what is left: the first choice follows the weights exactly, and the
// fallbacks still prefer the heavier upstreams. Weight 0 goes last.
void Balancer::weightedOrder(QList<const Upstream *> &list)
{
    QList<const Upstream *> pool;
    QList<const Upstream *> zero;
    for (const Upstream *u : std::as_const(list))
        (u->weight > 0 ? pool : zero) << u;
    QList<const Upstream *> out;
    while (!pool.isEmpty()) {
        qint64 total = 0;
        for (const Upstream *u : std::as_const(pool))
            total += u->weight;
        qint64 pick = qint64(m_rng.bounded(quint64(total)));
        qsizetype i = 0;
        while (pick >= pool[i]->weight) {
            pick -= pool[i]->weight;
            ++i;
        }
        out << pool.takeAt(i);
    }
    list = out + zero;
}

} // namespace route
