#include "balancer/affinity.h"

#include <algorithm>
#include <vector>

namespace route {

AffinityTable::AffinityTable(const Clock *clock, qsizetype capacity)
    : m_clock(clock ? clock : &Clock::system()), m_capacity(qMax<qsizetype>(1, capacity))
{ }

qint64 AffinityTable::lookup(const QByteArray &key)
{
    if (key.isEmpty())
        return 0;
    const qint64 now = m_clock->monotonicMs();
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(key);
    if (it == m_entries.end())
        return 0;
    if (now - it->lastUsedMs > m_ttlMs.load(std::memory_order_relaxed)) {
        m_entries.erase(it);
        return 0;
    }
    it->lastUsedMs = now;
    return it->upstreamId;
}

void AffinityTable::bind(const QByteArray &key, qint64 upstreamId)
{
    if (key.isEmpty() || upstreamId <= 0)
        return;
    if (store(key, upstreamId) && m_listener)
        m_listener(key, upstreamId);
}

void AffinityTable::adopt(const QByteArray &key, qint64 upstreamId)
{
    if (!key.isEmpty() && upstreamId > 0)
        store(key, upstreamId);
}

bool AffinityTable::store(const QByteArray &key, qint64 upstreamId)
{
    const qint64 now = m_clock->monotonicMs();
    QMutexLocker lock(&m_mutex);
    const auto it = m_entries.find(key);
    if (it != m_entries.end()) {
        const bool moved = it->upstreamId != upstreamId;
        *it = Entry{upstreamId, now};
        return moved;
    }
    if (m_entries.size() >= m_capacity)
        makeRoom(now);
    m_entries.insert(key, Entry{upstreamId, now});
    return true;
}

void AffinityTable::makeRoom(qint64 now)
{
    const qint64 ttl = m_ttlMs.load(std::memory_order_relaxed);
    m_entries.removeIf([&](const QHash<QByteArray, Entry>::iterator &it) { return now - it->lastUsedMs > ttl; });
    if (m_entries.size() < m_capacity)
        return;
    // Still full of live sessions: the least recently used tenth goes, so
    // this sort runs once per tenth of the capacity, not per insert.
    std::vector<qint64> times;
    times.reserve(size_t(m_entries.size()));
    for (const Entry &e : std::as_const(m_entries))
        times.push_back(e.lastUsedMs);
    const size_t cut = std::max<size_t>(1, times.size() / 10);
    std::nth_element(times.begin(), times.begin() + qsizetype(cut - 1), times.end());
    const qint64 oldest = times[cut - 1];
    qsizetype removed = 0;
    m_entries.removeIf([&](const QHash<QByteArray, Entry>::iterator &it) {
        if (removed < qsizetype(cut) && it->lastUsedMs <= oldest) {
            ++removed;
            return true;
        }
        return false;
    });
}

void AffinityTable::forgetUpstream(qint64 upstreamId)
{
    QMutexLocker lock(&m_mutex);
    m_entries.removeIf(
        [upstreamId](const QHash<QByteArray, Entry>::iterator &it) { return it->upstreamId == upstreamId; });
}

qsizetype AffinityTable::size() const
{
    QMutexLocker lock(&m_mutex);
    return m_entries.size();
}

} // namespace route
