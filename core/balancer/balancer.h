#pragma once

#include "domain/snapshot.h"

#include <QList>
#include <QMutex>
#include <QRandomGenerator>
#include <QString>

namespace route {

class AffinityTable;
class HealthTracker;

// What a request asks for, as far as choosing an upstream goes.
struct RequestTraits
{
    QString model;
    QString path; // the client's path, e.g. /v1/chat/completions
    ApiFormat format = ApiFormat::OpenAI; // the upstreams that speak the request's API
    QByteArray affinityKey; // the conversation, when the client names one
};

// Thread-safe. Turns the snapshot into the ordered list of upstreams to try for one
// request: the available ones in the policy's order, then those cooling
// down, soonest first, as a last resort (a request is never refused only
// because every key had a bad minute).
class Balancer
{
public:
    explicit Balancer(HealthTracker *health = nullptr, AffinityTable *affinity = nullptr);

    // The upstreams to try, in order. Of the eligible ones, those known to
    // serve the model (their catalog lists it, or a ModelMap key matches)
    // when there is one; otherwise all (SPEC §10); `served` says which it
    // was. A conversation bound to an upstream that is available goes there
    // first, under every policy; `boundTo` then says which (0: no binding
    // was used). The upstreams are SNAPSHOT's own, valid while it lives: a
    // copy of each per request cost two atomic operations per text field,
    // on cache lines that every network thread shares.
    QList<const Upstream *> candidates(
        const Snapshot &snapshot, const RequestTraits &traits, qint64 *boundTo = nullptr, bool *served = nullptr);

    // Whether some eligible upstream is known to serve the request's model
    // (its catalog lists it, or an alias matches). Orders nothing.
    static bool isServed(const Snapshot &snapshot, const RequestTraits &traits);
    // Enabled, of the request's format, and allowed for it (allow list first, then deny list).
    static bool isEligible(const Upstream &u, const RequestTraits &traits);
    // Patterns match model names or, when they start with '/', paths; a
    // trailing '*' matches any suffix.
    static bool matches(const QString &pattern, const RequestTraits &traits);

    void seed(quint32 value) { m_rng.seed(value); }

private:
    void orderByPolicy(Policy policy, QList<const Upstream *> &list);
    void weightedOrder(QList<const Upstream *> &list);

    HealthTracker *m_health;
    AffinityTable *m_affinity;
    QMutex m_mutex; // several network workers share one balancer
    quint64 m_turn = 0;
    QRandomGenerator m_rng;
};

} // namespace route
