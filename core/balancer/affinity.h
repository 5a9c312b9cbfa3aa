#pragma once

#include "util/clock.h"

#include <QByteArray>
#include <QHash>
#include <QMutex>

namespace route {

// Which upstream each conversation is bound to (SPEC §9, sticky sessions):
// a coding agent's turns must reach the key that holds its prompt cache and
// its encrypted reasoning. Bounded: an entry lives `ttlMs` after its last use,
// and past `capacity` entries the expired and then the least recently used
// go. Thread-safe; every worker shares one table.
class AffinityTable
{
public:
    explicit AffinityTable(const Clock *clock = nullptr, qsizetype capacity = 100000);

    void setTtlMs(qint64 ttlMs) { m_ttlMs.store(ttlMs, std::memory_order_relaxed); }
    // The upstream KEY is bound to, or 0; a hit counts as a use.
    qint64 lookup(const QByteArray &key);
    void bind(const QByteArray &key, qint64 upstreamId);
    // Bindings to an upstream that no longer exists.
    void forgetUpstream(qint64 upstreamId);
    qsizetype size() const;
    qsizetype capacity() const { return m_capacity; }

private:
    struct Entry
    {
        qint64 upstreamId;
        qint64 lastUsedMs;
    };
    void makeRoom(qint64 now); // under m_mutex

    const Clock *m_clock;
    const qsizetype m_capacity;
    std::atomic<qint64> m_ttlMs{3600 * 1000};
    mutable QMutex m_mutex;
    QHash<QByteArray, Entry> m_entries;
};

} // namespace route
