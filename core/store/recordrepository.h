#pragma once

#include "records/requestrecord.h"

#include <QList>
#include <QSqlDatabase>

#include <optional>

// SQL for `records`: batched inserts and newest-first reads.
class RecordRepository
{
public:
    explicit RecordRepository(QSqlDatabase db) : m_db(std::move(db)) { }

    bool insert(const QList<RequestRecord> &records, QString *error = nullptr);
    std::optional<QList<RequestRecord>> recent(int limit, qint64 beforeId = 0) const;

private:
    QSqlDatabase m_db;
};
