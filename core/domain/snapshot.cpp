#include "domain/snapshot.h"

#include <algorithm>

namespace route {

const AppToken *Snapshot::appTokenByHash(const QByteArray &hash) const
{
    const auto it = appTokenIndex.constFind(hash);
    return it == appTokenIndex.cend() ? nullptr : &appTokens.at(*it);
}

const AppToken *Snapshot::appToken(qint64 id) const
{
    for (const AppToken &t : appTokens)
        if (t.id == id)
            return &t;
    return nullptr;
}

SnapshotHolder::SnapshotHolder(QObject *parent) : QObject(parent), m_current(std::make_shared<Snapshot>())
{ }

std::shared_ptr<const Snapshot> SnapshotHolder::current() const
{
    QMutexLocker lock(&m_mutex);
    return m_current;
}

void SnapshotHolder::publish(Snapshot snapshot)
{
    snapshot.appTokenIndex.clear();
    for (qsizetype i = 0; i < snapshot.appTokens.size(); ++i)
        snapshot.appTokenIndex.insert(snapshot.appTokens.at(i).hash, i);
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
