#pragma once

#include "domain/pricetable.h"

#include "records/recordsink.h"
#include "store/database.h"
#include "store/recordrepository.h"

#include <QElapsedTimer>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>

namespace route {

class SnapshotHolder;

// The database work that must never run on the request path, on a thread of
// its own with its own connection: batched record and counter writes, and
// watching for edits by other processes (the seed invites editing the table).
class BackgroundStore final : public QObject, public RecordSink
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackgroundStore)
public:
    BackgroundStore(const DatabaseConfig &config, SnapshotHolder *snapshots, QObject *parent = nullptr);
    ~BackgroundStore() override;

    // Thread-safe; never blocks on the database.
    void submit(RequestRecord record) override;
    qint64 droppedRecords() const { return m_dropped.load(); }
    // False while PostgreSQL is away (team mode); SQLite is always up.
    bool databaseUp() const { return m_databaseUp.load(); }

    // Run on the store thread.
    Q_INVOKABLE bool open();
    Q_INVOKABLE void flush();
    Q_INVOKABLE void close();
    Q_INVOKABLE void prune();
    // Team mode: tells the other instances what this one found about an
    // upstream (STATE as UpstreamHealth names it; RESTMS from now). A no-op on SQLite.
    Q_INVOKABLE void publishHealth(qint64 upstreamId, const QString &state, qint64 restMs, const QString &reason);
    // Team mode: tells the other instances that conversation KEY is bound to UPSTREAMID.
    Q_INVOKABLE void publishSession(const QByteArray &key, qint64 upstreamId);
    bool isShared() const { return m_config.kind == DatabaseConfig::Kind::Postgres; }
    // Every record's cost again by PRICES (SPEC §11); how many were read, -1 on an error.
    qint64 recomputeCosts(const PriceTable &prices, QString *error);

    static constexpr int maxQueued = 20000;

Q_SIGNALS:
    void recorded(const QList<RequestRecord> &records);
    // Another instance's finding, as publishHealth() sent it.
    void healthFound(qint64 upstreamId, const QString &state, qint64 restMs, const QString &reason);
    // Another instance's binding, as publishSession() sent it.
    void sessionBound(const QByteArray &key, qint64 upstreamId);

private:
    void checkForChanges();
    bool listenForChanges();
    void receiveHealth(const QString &payload);
    void receiveSession(const QString &payload);
    bool openConnection(QString *error);
    void writeBatch(QList<RequestRecord> &batch);
    bool isConnected(QString *why);
    void connectionLost(const QString &error);
    void keepUnsent(QList<RequestRecord> &&batch);
    void reconnect();
    void reload();
    static void nameClientApps(QList<RequestRecord> &batch);
    static void yieldToRequests();
    void releaseFreedMemoryOnce();
    QString fingerprint();

    DatabaseConfig m_config;
    SnapshotHolder *m_snapshots;
    std::shared_ptr<DbConnection> m_conn;
    std::unique_ptr<RecordRepository> m_records; // on m_conn, keeping its prepared insert
    QTimer *m_flushTimer = nullptr;
    QTimer *m_reloadSoon = nullptr; // PostgreSQL: a burst of notifications is one reload
    QTimer *m_watchTimer = nullptr;
    QTimer *m_pruneTimer = nullptr;
    QString m_lastFingerprint;
    QMutex m_mutex;
    QList<RequestRecord> m_queue;
    qsizetype m_lastBatchSize = 0;
    std::atomic<qint64> m_dropped{0};
    std::atomic<bool> m_databaseUp{true};
    bool m_lost = false; // store thread only, as the three below
    QList<RequestRecord> m_unsent; // records kept while the database is away
    int m_retryMs = 0;
    QElapsedTimer m_lostTimer;
    bool m_memoryReleased = true; // store thread only
    int m_quietFlushes = 0; // store thread only
};

} // namespace route
