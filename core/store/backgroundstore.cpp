#include "store/backgroundstore.h"
#include "store/snapshotloader.h"

#include "domain/snapshot.h"
#include "net/peerprocess.h"
#include "store/recordrepository.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"
#include "util/batchscheduling.h"
#include "util/logging.h"

#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace route {

namespace {
constexpr int flushIntervalMs = 250;
constexpr int quietFlushesBeforeTrim = 8; // 2 s without a finished request
// Outside edits must be live within 2 s; checking is one cheap pragma.
constexpr int watchIntervalMs = 500;
constexpr int pruneIntervalMs = 10 * 60 * 1000;
// A change of several rows, or several changes in a row, arrive as a burst.
constexpr int reloadCoalesceMs = 20;
// Connecting again to a PostgreSQL that went away: 1 s, doubling to 30 s.
constexpr int firstRetryMs = 1000;
constexpr int maxRetryMs = 30 * 1000;
// PostgreSQL advisory lock of record pruning ("routepru" in ASCII).
constexpr qint64 pruneLockKey = 0x726f757465707275;
} // namespace

BackgroundStore::BackgroundStore(const DatabaseConfig &config, SnapshotHolder *snapshots, QObject *parent)
    : QObject(parent), m_config(config), m_snapshots(snapshots)
{ }

BackgroundStore::~BackgroundStore() = default;

void BackgroundStore::submit(RequestRecord record)
{
    QMutexLocker lock(&m_mutex);
    if (m_queue.size() >= maxQueued) {
        ++m_dropped;
        return;
    }
    m_queue.append(std::move(record));
}

void BackgroundStore::yieldToRequests()
{
    BatchScheduling batch;
    batch.keep(); // the store thread does nothing else
    if (!batch.isActive())
        qCDebug(lcStore) << "SCHED_BATCH not available for the store thread";
}

bool BackgroundStore::open()
{
    yieldToRequests();
    QString error;
    if (!openConnection(&error)) {
        qCWarning(lcStore) << error;
        return false;
    }
    m_flushTimer = new QTimer(this);
    connect(m_flushTimer, &QTimer::timeout, this, &BackgroundStore::flush);
    m_flushTimer->start(flushIntervalMs);
    if (!m_conn->isPostgres()) {
        m_lastFingerprint = fingerprint();
        m_watchTimer = new QTimer(this);
        connect(m_watchTimer, &QTimer::timeout, this, &BackgroundStore::checkForChanges);
        m_watchTimer->start(watchIntervalMs);
    }
    m_pruneTimer = new QTimer(this);
    connect(m_pruneTimer, &QTimer::timeout, this, &BackgroundStore::prune);
    m_pruneTimer->start(pruneIntervalMs);
    QTimer::singleShot(5000, this, &BackgroundStore::prune); // soon after start, not during it
    return true;
}

void BackgroundStore::flush()
{
    // The next queue is sized like the last batch, outside the lock: the
    // workers then append without growing it (and moving every record) while
    // holding the lock.
    QList<RequestRecord> batch;
    batch.reserve(m_lastBatchSize);
    {
        QMutexLocker lock(&m_mutex);
        batch.swap(m_queue);
    }
    m_lastBatchSize = qMin<qsizetype>(batch.size() + batch.size() / 4, maxQueued);
    if (batch.isEmpty()) {
        if (++m_quietFlushes >= quietFlushesBeforeTrim)
            releaseFreedMemoryOnce();
        return;
    }
    m_quietFlushes = 0;
    m_memoryReleased = false;
    if (!m_conn && !m_lost)
        return;

    nameClientApps(batch);
    if (m_lost) {
        keepUnsent(std::move(batch)); // written when the database is back
        return;
    }
    writeBatch(batch);
}

// Writes BATCH with its counters; a batch that could not be written because
// the connection to PostgreSQL is gone is kept for after the reconnect.
void BackgroundStore::writeBatch(QList<RequestRecord> &batch)
{
    QString error;
    if (!m_records->insert(batch, &error)) {
        QString why;
        if (m_conn->isPostgres() && !isConnected(&why)) {
            connectionLost(error.trimmed().isEmpty() ? why : error);
            keepUnsent(std::move(batch));
            return;
        }
        m_dropped += batch.size();
        qCWarning(lcRecords) << "dropped" << batch.size() << "records:" << error;
    }
    QHash<qint64, QPair<qint64, qint64>> counters;
    QHash<qint64, QDateTime> lastSuccess;
    QHash<qint64, QDateTime> tokenLastUsed;
    for (const RequestRecord &r : std::as_const(batch)) {
        if (r.appTokenId > 0)
            tokenLastUsed[r.appTokenId] = r.createdAt;
        for (qint64 id : r.failedUpstreams)
            counters[id].second += 1;
        if (r.upstreamSucceeded && r.upstreamId > 0) {
            counters[r.upstreamId].first += 1;
            lastSuccess[r.upstreamId] = r.createdAt.addMSecs(r.durationMs);
        }
    }
    UpstreamRepository(m_conn->db()).addCounters(counters, lastSuccess);
    TokenRepository(m_conn->db()).touch(tokenLastUsed);
    // Our own commits do not change data_version for this connection, so the
    // counters do not count as an outside edit.
    Q_EMIT recorded(batch);
}

// The store's connection with its kept insert; on PostgreSQL, listening to
// the team's channels. At start and after every outage.
bool BackgroundStore::openConnection(QString *error)
{
    // A short busy timeout: a locked database delays records, never requests.
    auto conn = DbConnection::open(m_config, QStringLiteral("background"), 1000);
    if (!conn) {
        *error = conn.error();
        return false;
    }
    m_conn = conn.take();
    m_records = std::make_unique<RecordRepository>(m_conn->db());
    if (m_conn->isPostgres() && !listenForChanges())
        qCWarning(lcStore) << "cannot listen for changes in the database; edits by other instances are missed";
    return true;
}

bool BackgroundStore::isConnected(QString *why)
{
    QSqlQuery ping(m_conn->db());
    if (ping.exec(QStringLiteral("SELECT 1")))
        return true;
    *why = oneLine(ping.lastError());
    return false;
}

// Team mode (SPEC §12): PostgreSQL went away. Requests never waited for it
// (they are served from the loaded snapshot); records wait here, up to a
// bound, while the connection is tried again with a growing pause.
void BackgroundStore::connectionLost(const QString &error)
{
    m_lost = true;
    m_databaseUp = false;
    m_lostTimer.start();
    m_retryMs = firstRetryMs;
    qCWarning(lcStore).noquote() << QStringLiteral("lost the database %1 (%2); serving from what was loaded, "
                                                   "keeping up to %3 records, connecting again in %4 s")
                                        .arg(m_config.describe(), error.trimmed())
                                        .arg(maxQueued)
                                        .arg(m_retryMs / 1000);
    QTimer::singleShot(m_retryMs, this, &BackgroundStore::reconnect);
}

void BackgroundStore::keepUnsent(QList<RequestRecord> &&batch)
{
    m_unsent.append(std::move(batch));
    if (m_unsent.size() <= maxQueued)
        return;
    const qsizetype excess = m_unsent.size() - maxQueued;
    m_unsent.remove(0, excess); // the oldest go first
    m_dropped += excess;
}

void BackgroundStore::reconnect()
{
    if (!m_lost || !m_flushTimer)
        return; // closed meanwhile
    delete m_reloadSoon;
    m_reloadSoon = nullptr;
    m_records.reset();
    m_conn.reset();
    QString error;
    if (!openConnection(&error)) {
        m_retryMs = qMin(m_retryMs * 2, maxRetryMs);
        qCDebug(lcStore) << "the database is still away:" << error;
        QTimer::singleShot(m_retryMs, this, &BackgroundStore::reconnect);
        return;
    }
    m_lost = false;
    m_databaseUp = true;
    qCWarning(lcStore).noquote() << QStringLiteral("the database is back after %1 s; writing %2 kept records")
                                        .arg(m_lostTimer.elapsed() / 1000)
                                        .arg(m_unsent.size());
    reload(); // what changed while it was away
    QList<RequestRecord> kept;
    kept.swap(m_unsent);
    if (!kept.isEmpty())
        writeBatch(kept);
}

void BackgroundStore::releaseFreedMemoryOnce()
{
    if (m_memoryReleased)
        return;
    m_memoryReleased = true;
#ifdef __GLIBC__
    // After a burst glibc keeps the freed memory of every thread's arena:
    // RSS stayed at its peak and crept up from burst to burst (heaptrack:
    // no leak). Given back once no request has finished for two seconds:
    // after a burst, malloc_trim holds each arena's lock for milliseconds,
    // and run as soon as one flush found nothing it landed in the first
    // second of the next burst of streams (their records come at their end),
    // stalling every worker's allocations there.
    malloc_trim(0);
#endif
}

void BackgroundStore::close()
{
    flush();
    if (!m_unsent.isEmpty()) {
        qCWarning(lcRecords) << "dropped" << m_unsent.size() << "records kept while the database was away";
        m_dropped += m_unsent.size();
        m_unsent.clear();
    }
    delete m_flushTimer;
    m_flushTimer = nullptr;
    delete m_watchTimer;
    m_watchTimer = nullptr;
    delete m_pruneTimer;
    m_pruneTimer = nullptr;
    delete m_reloadSoon;
    m_reloadSoon = nullptr;
    m_records.reset();
    m_conn.reset();
}

void BackgroundStore::prune()
{
    if (!m_conn || m_lost)
        return;
    // Team mode: one instance at a time prunes (the others' DELETEs would
    // only wait for its locks and find nothing left); whoever holds the
    // advisory lock does it, the others skip this round.
    QSqlQuery lock(m_conn->db());
    const bool shared = m_conn->isPostgres();
    if (shared
        && (!lock.exec(QStringLiteral("SELECT pg_try_advisory_lock(%1)").arg(pruneLockKey)) || !lock.next()
            || !lock.value(0).toBool())) {
        qCDebug(lcRecords) << "another instance is pruning the records";
        return;
    }
    const Settings settings = m_snapshots->current()->settings;
    const int removed = m_records->prune(settings.recordRetentionDays, settings.recordMaxRows);
    if (removed > 0)
        qCInfo(lcRecords) << "pruned" << removed << "old request records";
    if (shared)
        lock.exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(pruneLockKey));
}

// The program behind each request: the local executable when its lookup
// has come back (it had the whole batch interval), else the User-Agent's product.
void BackgroundStore::nameClientApps(QList<RequestRecord> &batch)
{
    for (RequestRecord &r : batch) {
        if (!r.clientApp.isEmpty())
            continue;
        if (r.peerApp)
            r.clientApp = r.peerApp->value();
        if (r.clientApp.isEmpty())
            r.clientApp = PeerProcess::productOf(r.userAgent.toUtf8());
        r.peerApp.reset();
    }
}

qint64 BackgroundStore::recomputeCosts(const PriceTable &prices, QString *error)
{
    if (!m_conn) {
        *error = QStringLiteral("the record store is closed");
        return -1;
    }
    flush(); // the records still queued are priced too
    return m_records->recomputeCosts(prices, error);
}

// SQLite's count of commits by other connections: one cheap pragma.
QString BackgroundStore::fingerprint()
{
    QSqlQuery q(m_conn->db());
    q.exec(QStringLiteral("PRAGMA data_version"));
    return q.next() ? q.value(0).toString() : QString();
}

// Team mode (SPEC §12): the triggers of migration 8 announce every change
// of configuration, whoever made it; this instance reloads within
// milliseconds, where polling would cost a query every half second on
// every instance and still miss an edit that leaves updated_at alone.
bool BackgroundStore::listenForChanges()
{
    QSqlDriver *driver = m_conn->db().driver();
    if (!driver || !driver->subscribeToNotification(QLatin1String(Notify::configChannel))
        || !driver->subscribeToNotification(QLatin1String(Notify::healthChannel))
        || !driver->subscribeToNotification(QLatin1String(Notify::sessionChannel)))
        return false;
    m_reloadSoon = new QTimer(this);
    m_reloadSoon->setSingleShot(true);
    m_reloadSoon->setInterval(reloadCoalesceMs);
    connect(m_reloadSoon, &QTimer::timeout, this, &BackgroundStore::reload);
    connect(driver, &QSqlDriver::notification, this,
        [this](const QString &channel, QSqlDriver::NotificationSource source, const QVariant &payload) {
            if (channel == QLatin1String(Notify::configChannel) && !m_reloadSoon->isActive())
                m_reloadSoon->start();
            else if (channel == QLatin1String(Notify::healthChannel) && source != QSqlDriver::SelfSource)
                receiveHealth(payload.toString());
            else if (channel == QLatin1String(Notify::sessionChannel) && source != QSqlDriver::SelfSource)
                receiveSession(payload.toString());
        });
    return true;
}

void BackgroundStore::publishHealth(qint64 upstreamId, const QString &state, qint64 restMs, const QString &reason)
{
    if (!m_conn || !m_conn->isPostgres())
        return;
    QSqlQuery q(m_conn->db());
    q.prepare(QStringLiteral("SELECT pg_notify(?, ?)"));
    q.addBindValue(QLatin1String(Notify::healthChannel));
    // NOTIFY payloads are limited to 8000 bytes; a reason is a line.
    q.addBindValue(QStringLiteral("%1 %2 %3 %4").arg(upstreamId).arg(state).arg(restMs).arg(reason.left(500)));
    if (!q.exec())
        qCWarning(lcStore) << "cannot tell the other instances about upstream" << upstreamId << q.lastError().text();
}

void BackgroundStore::publishSession(const QByteArray &key, qint64 upstreamId)
{
    if (!m_conn || !m_conn->isPostgres() || key.size() > 4000)
        return;
    QSqlQuery q(m_conn->db());
    q.prepare(QStringLiteral("SELECT pg_notify(?, ?)"));
    q.addBindValue(QLatin1String(Notify::sessionChannel));
    q.addBindValue(QStringLiteral("%1 %2").arg(upstreamId).arg(QString::fromLatin1(key.toBase64())));
    if (!q.exec())
        qCWarning(lcStore) << "cannot tell the other instances of a session:" << q.lastError().text();
}

void BackgroundStore::receiveSession(const QString &payload)
{
    const qsizetype space = payload.indexOf(QLatin1Char(' '));
    bool ok = false;
    const qint64 id = QStringView(payload).first(qMax<qsizetype>(space, 0)).toLongLong(&ok);
    const QByteArray key = QByteArray::fromBase64(payload.mid(space + 1).toLatin1());
    if (space <= 0 || !ok || key.isEmpty()) {
        qCWarning(lcStore) << "ignored a session notice that is not ours:" << payload.left(80);
        return;
    }
    Q_EMIT sessionBound(key, id);
}

void BackgroundStore::receiveHealth(const QString &payload)
{
    const QStringList parts = payload.split(QLatin1Char(' '));
    bool idOk = false, restOk = false;
    const qint64 id = parts.value(0).toLongLong(&idOk);
    const qint64 restMs = parts.value(2).toLongLong(&restOk);
    if (parts.size() < 3 || !idOk || !restOk) {
        qCWarning(lcStore) << "ignored a health notice that is not ours:" << payload.left(80);
        return;
    }
    Q_EMIT healthFound(id, parts[1], restMs, parts.mid(3).join(QLatin1Char(' ')));
}

void BackgroundStore::reload()
{
    if (!m_conn)
        return;
    QString error;
    if (!reloadSnapshot(*m_snapshots, *m_conn, &error))
        qCWarning(lcStore) << "cannot reload upstreams:" << error;
    else
        qCDebug(lcStore) << "reloaded the configuration after a change in the database";
}

void BackgroundStore::checkForChanges()
{
    if (!m_conn)
        return;
    const QString now = fingerprint();
    if (now == m_lastFingerprint)
        return;
    m_lastFingerprint = now;
    reload();
}

} // namespace route
