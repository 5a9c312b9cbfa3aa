#pragma once

#include "domain/upstream.h"

#include <QList>
#include <QSqlDatabase>
#include <QString>

namespace route {

// Why a write to the store did not happen; the admin API maps these to HTTP.
enum class StoreError { None, NotFound, Duplicate, Failed };

struct StoreOutcome
{
    StoreError error = StoreError::None;
    QString message;
    qint64 id = 0;
    bool ok() const { return error == StoreError::None; }
};

// SQL for `openai_upstreams`, portable between SQLite and PostgreSQL. Rows with
// `deleted_at` set (gorm's soft delete in the Go tool) do not exist here.
class UpstreamRepository
{
public:
    explicit UpstreamRepository(QSqlDatabase db) : m_db(std::move(db)) { }

    std::optional<QList<Upstream>> list(QString *error = nullptr) const;
    std::optional<Upstream> get(qint64 id) const;
    StoreOutcome create(const Upstream &u);
    StoreOutcome update(qint64 id, const UpstreamPatch &patch);
    StoreOutcome remove(qint64 id);
    // The result of a catalog fetch: the models it found (the list, the
    // time), or, on a failure, only why (the last list stays).
    StoreOutcome saveCatalog(qint64 id, const std::optional<QStringList> &models, const QString &error);
    // Adds to the counters of many upstreams in one transaction.
    bool addCounters(
        const QHash<qint64, QPair<qint64, qint64>> &successFailed, const QHash<qint64, QDateTime> &lastSuccess);

    static QStringList splitList(const QString &stored);
    static QString joinList(const QStringList &list);
    static QStringList modelsFromStored(const QString &stored);
    static QString modelsToStored(const QStringList &models);

private:
    std::optional<qint64> findActive(const QString &sk, const QString &endpoint, qint64 exceptId) const;
    QSqlDatabase m_db;
};

} // namespace route
