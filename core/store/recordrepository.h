#pragma once

#include "domain/pricetable.h"
#include "records/requestrecord.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>

#include <memory>
#include <optional>

namespace route {

class SqliteRecordInsert;

// Which records to read, newest first.
struct RecordFilter
{
    int limit = 100;
    qint64 beforeId = 0; // cursor: only records older than this id
    qint64 upstreamId = 0;
    int status = 0;
    QString model;
    QDateTime since;
};

// Per-upstream totals over a time window (GET /admin/stats).
struct UpstreamStats
{
    qint64 upstreamId = 0;
    qint64 requests = 0;
    qint64 errors = 0; // status >= 400 or not complete
    QHash<QString, qint64> outcomes;
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 ttfbP50Ms = 0;
    qint64 ttfbP95Ms = 0;
};

// One row of GET /admin/usage (SPEC §11).
struct UsageRow
{
    QString day; // with usagePerDay: the UTC day of the row
    QString key; // the day (YYYY-MM-DD, UTC), app token ID, app, upstream ID or model
    qint64 requests = 0;
    qint64 errors = 0;
    qint64 promptTokens = 0;
    qint64 cachedTokens = 0;
    qint64 completionTokens = 0;
    double costUsd = 0;
};
enum class UsageBy { Day, Token, App, Upstream, Model };

// SQL for `records`: batched inserts, newest-first reads, statistics, pruning.
class RecordRepository
{
public:
    explicit RecordRepository(QSqlDatabase db);
    ~RecordRepository(); // before the connection closes: it finalizes the kept insert
    RecordRepository(const RecordRepository &) = delete;
    RecordRepository &operator=(const RecordRepository &) = delete;

    bool insert(const QList<RequestRecord> &records, QString *error = nullptr);
    std::optional<QList<RequestRecord>> recent(const RecordFilter &filter) const;
    std::optional<QList<UpstreamStats>> stats(const QDateTime &since) const;
    // Totals per KEY of the records from FROM to TO (UTC days, both included).
    std::optional<QList<UsageRow>> usage(
        const QDate &from, const QDate &to, UsageBy by, QString *error = nullptr) const;
    // The same per UTC day and KEY, for charts: rows ordered by day, then key.
    std::optional<QList<UsageRow>> usagePerDay(
        const QDate &from, const QDate &to, UsageBy by, QString *error = nullptr) const;
    // Every record's cost again by PRICES; how many records were read.
    qint64 recomputeCosts(const PriceTable &prices, QString *error = nullptr);
    // Deletes records older than maxAgeDays and beyond the newest maxRows.
    int prune(int maxAgeDays, qint64 maxRows);

private:
    std::optional<QList<UsageRow>> usageRows(
        const QDate &from, const QDate &to, UsageBy by, bool perDay, QString *error) const;
    bool insertRows(const QList<RequestRecord> &records, QString *error);

    QSqlDatabase m_db;
    // SQLite's insert, prepared on the first batch and kept: preparing it
    // cost as much as inserting 6 records, once per batch, and at a few
    // requests a second every batch is one record.
    std::unique_ptr<SqliteRecordInsert> m_insert;
};

} // namespace route
