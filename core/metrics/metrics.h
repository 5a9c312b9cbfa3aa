#pragma once

#include "balancer/affinity.h"
#include "balancer/health.h"
#include "domain/snapshot.h"
#include "records/requestrecord.h"

#include <QHash>
#include <QMutex>
#include <QSet>
#include <QString>

#include <array>
#include <functional>

namespace route {

// Prometheus counters of the proxy, in the text exposition format. Shared by
// the network workers behind one mutex (one short lock per request).
// Label values are bounded: upstream ids, status classes, and at most
// maxModels model names (the rest are "other").
// What the record store says about itself: records it could not write,
// and whether its database is reachable (PostgreSQL may go away; SQLite not).
struct StoreStatus
{
    qint64 droppedRecords = 0;
    bool databaseUp = true;
};

class Metrics
{
public:
    // The sticky-session table whose size /metrics shows.
    void setAffinity(AffinityTable *affinity) { m_affinity = affinity; }
    static constexpr int maxModels = 50;

    void requestFinished(const RequestRecord &r);
    QByteArray render(const Snapshot &snapshot, const QHash<qint64, UpstreamHealth> &health, int inFlight,
        const StoreStatus &store) const;

private:
    static constexpr std::array<double, 13> bucketsMs
        = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
    struct Histogram
    {
        std::array<quint64, bucketsMs.size()> counts{};
        quint64 count = 0;
        double sumMs = 0;
        void observe(double ms);
        void render(QByteArray &out, const char *name, const QByteArray &labels) const;
    };
    QString boundedModel(const QString &model);

    // Typed keys: a request used to build and hash five label strings.
    struct RequestKey
    {
        qint64 upstream;
        int statusClass; // 0: no status
        QString model;
        bool operator==(const RequestKey &o) const
        {
            return upstream == o.upstream && statusClass == o.statusClass && model == o.model;
        }
        friend size_t qHash(const RequestKey &k, size_t seed = 0)
        {
            return qHashMulti(seed, k.upstream, k.statusClass, k.model);
        }
    };
    struct AttemptCounts
    {
        quint64 ok = 0;
        quint64 failed = 0;
    };
    struct TokenCounts
    {
        quint64 prompt = 0;
        quint64 completion = 0;
        quint64 cached = 0;
        quint64 cacheWrite = 0;
        quint64 reasoning = 0;
    };

    mutable QMutex m_mutex;
    QSet<QString> m_models;
    QHash<RequestKey, quint64> m_requests;
    QHash<qint64, AttemptCounts> m_attempts;
    QHash<qint64, TokenCounts> m_tokens;
    quint64 m_sessionRequests[2] = {0, 0}; // placed by the policy, kept by the binding
    AffinityTable *m_affinity = nullptr;
    std::array<quint64, Vocabulary::outcomeCount> m_outcomes{};
    QHash<qint64, Histogram> m_ttfb;
    QHash<qint64, Histogram> m_duration;
    quint64 m_failovers = 0;
};

} // namespace route
