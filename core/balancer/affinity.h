#pragma once

#include "util/clock.h"

#include <QByteArray>
#include <QHash>
#include <QMutex>

#include <functional>

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
    // Team mode (SPEC §12): told of every new or moved binding made by
    // bind(), outside the lock, on the binding worker's thread; set once,
    // before requests come. adopt() binds what another instance bound,
    // without telling.
    using BindListener = std::function<void(const QByteArray &key, qint64 upstreamId)>;
    void setBindListener(BindListener listener) { m_listener = std::move(listener); }
    void adopt(const QByteArray &key, qint64 upstreamId);
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
    bool store(const QByteArray &key, qint64 upstreamId); // true: new or moved

    BindListener m_listener;
    const Clock *m_clock;
    const qsizetype m_capacity;
    std::atomic<qint64> m_ttlMs{3600 * 1000};
    mutable QMutex m_mutex;
    QHash<QByteArray, Entry> m_entries;
};

} // namespace route
