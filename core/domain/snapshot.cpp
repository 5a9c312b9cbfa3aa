#include "domain/snapshot.h"

#include <algorithm>

namespace route {

SnapshotHolder::SnapshotHolder(QObject *parent) : QObject(parent), m_current(std::make_shared<Snapshot>())
{ }

std::shared_ptr<const Snapshot> SnapshotHolder::current() const
{
    QMutexLocker lock(&m_mutex);
    return m_current;
}

void SnapshotHolder::publish(Snapshot snapshot)
{
    snapshot.mayKnowModels = std::any_of(snapshot.upstreams.cbegin(), snapshot.upstreams.cend(),
        [](const Upstream &u) { return !u.models.isEmpty() || !u.modelMap.isEmpty(); });
    {
        QMutexLocker lock(&m_mutex);
        snapshot.generation = ++m_generation;
        m_current = std::make_shared<const Snapshot>(std::move(snapshot));
    }
    Q_EMIT changed();
}

} // namespace route
