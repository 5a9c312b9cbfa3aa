#pragma once

#include "domain/apptoken.h"
#include "store/upstreamrepository.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>

#include <optional>

namespace route {

// SQL for `client_tokens`, portable between SQLite and PostgreSQL.
class TokenRepository
{
public:
    explicit TokenRepository(QSqlDatabase db) : m_db(std::move(db)) { }

    std::optional<QList<AppToken>> list(QString *error = nullptr) const;
    std::optional<AppToken> get(qint64 id) const;
    // Stores T (its hash, never a token); the new ID in the outcome.
    StoreOutcome create(const AppToken &t);
    StoreOutcome update(qint64 id, const AppTokenPatch &patch);
    StoreOutcome remove(qint64 id);
    // last_used_at of many tokens in one transaction.
    bool touch(const QHash<qint64, QDateTime> &lastUsed);
    // From the records: each token's spend since the start of the UTC day
    // and of the UTC month that contain NOW.
    QHash<qint64, TokenSpend> spend(const QDateTime &now) const;

private:
    QSqlDatabase m_db;
};

} // namespace route
