#pragma once

#include "records/requestrecord.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>

#include <optional>

namespace route {

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

// SQL for `records`: batched inserts, newest-first reads, statistics, pruning.
class RecordRepository
{
public:
    explicit RecordRepository(QSqlDatabase db) : m_db(std::move(db)) { }

    bool insert(const QList<RequestRecord> &records, QString *error = nullptr);
    std::optional<QList<RequestRecord>> recent(const RecordFilter &filter) const;
    std::optional<QList<UpstreamStats>> stats(const QDateTime &since) const;
    // Deletes records older than maxAgeDays and beyond the newest maxRows.
    int prune(int maxAgeDays, qint64 maxRows);

private:
    bool insertRows(const QList<RequestRecord> &records, QString *error);

    QSqlDatabase m_db;
};

} // namespace route
