#include "store/snapshot.h"

#include "store/configrepository.h"
#include "store/database.h"
#include "store/upstreamrepository.h"

SnapshotHolder::SnapshotHolder(QObject *parent) : QObject(parent), m_current(std::make_shared<Snapshot>())
{ }

std::shared_ptr<const Snapshot> SnapshotHolder::current() const
{
    QMutexLocker lock(&m_mutex);
    return m_current;
}

bool SnapshotHolder::reload(DbConnection &conn, QString *error)
{
    Snapshot next;
    auto upstreams = UpstreamRepository(conn.db()).list(error);
    if (!upstreams)
        return false;
    auto settings = ConfigRepository(conn.db()).load(error);
    if (!settings)
        return false;
    next.upstreams = std::move(*upstreams);
    next.settings = std::move(*settings);
    publish(std::move(next));
    return true;
}

void SnapshotHolder::publish(Snapshot snapshot)
{
    {
        QMutexLocker lock(&m_mutex);
        snapshot.generation = ++m_generation;
        m_current = std::make_shared<const Snapshot>(std::move(snapshot));
    }
    Q_EMIT changed();
}
