#pragma once

#include "domain/apptoken.h"
#include "domain/settings.h"
#include "domain/upstream.h"

#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>

#include <memory>

namespace route {

// What the proxy needs from the database, read once and shared immutably so
// the request path never touches SQL.
struct Snapshot
{
    QList<Upstream> upstreams; // in the order of the `order` policy
    Settings settings;
    QList<AppToken> appTokens;
    quint64 generation = 0;
    // An app token by the hash of its text, or null (indexes made by publish).
    const AppToken *appTokenByHash(const QByteArray &hash) const;
    const AppToken *appToken(qint64 id) const;
    QHash<QByteArray, qsizetype> appTokenIndex;
    // False when no upstream has a model catalog or aliases (found by
    // SnapshotHolder::publish): routing then skips looking at models.
    bool mayKnowModels = true;
};

// The current Snapshot, swapped atomically on every change. Readable from any
// thread; published by whoever changed the database, or by the change watcher
// (store/snapshotloader.h reads one from the database).
class SnapshotHolder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SnapshotHolder)
public:
    explicit SnapshotHolder(QObject *parent = nullptr);

    std::shared_ptr<const Snapshot> current() const;
    void publish(Snapshot snapshot);

Q_SIGNALS:
    void changed();

private:
    mutable QMutex m_mutex;
    std::shared_ptr<const Snapshot> m_current;
    quint64 m_generation = 0;
};

} // namespace route
