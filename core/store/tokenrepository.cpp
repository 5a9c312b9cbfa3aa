#include "store/tokenrepository.h"

#include "store/database.h"

#include <QSqlError>
#include <QSqlQuery>

namespace route {

namespace {

const char selectColumns[] = "SELECT id, name, token_hash, prefix, enabled, expires_at, allow, rpm, "
                             "daily_token_limit, monthly_budget_usd, created_at, last_used_at FROM client_tokens";

AppToken fromQuery(const QSqlQuery &q)
{
    AppToken t;
    t.id = q.value(0).toLongLong();
    t.name = q.value(1).toString();
    t.hash = q.value(2).toString().toLatin1();
    t.prefix = q.value(3).toString();
    t.enabled = q.value(4).toInt() != 0;
    t.expiresAt = DbTime::parse(q.value(5));
    t.allow = UpstreamRepository::splitList(q.value(6).toString());
    t.rpm = q.value(7).toInt();
    t.dailyTokenLimit = q.value(8).toLongLong();
    t.monthlyBudgetUsd = q.value(9).toDouble();
    t.createdAt = DbTime::parse(q.value(10));
    t.lastUsedAt = DbTime::parse(q.value(11));
    return t;
}

QVariant timeOrNull(const QDateTime &t)
{
    return t.isValid() ? QVariant(DbTime::format(t)) : QVariant(QMetaType(QMetaType::QString));
}

StoreOutcome failed(const QSqlQuery &q)
{
    return {StoreError::Failed, q.lastError().text(), 0};
}

} // namespace

std::optional<QList<AppToken>> TokenRepository::list(QString *error) const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    if (!q.exec(QString::fromLatin1(selectColumns) + QStringLiteral(" ORDER BY id"))) {
        if (error)
            *error = q.lastError().text();
        return std::nullopt;
    }
    QList<AppToken> out;
    while (q.next())
        out << fromQuery(q);
    return out;
}

std::optional<AppToken> TokenRepository::get(qint64 id) const
{
    QSqlQuery q(m_db);
    q.prepare(QString::fromLatin1(selectColumns) + QStringLiteral(" WHERE id = ?"));
    q.addBindValue(id);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return fromQuery(q);
}

StoreOutcome TokenRepository::create(const AppToken &t)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("INSERT INTO client_tokens (name, token_hash, prefix, enabled, expires_at, allow, rpm, "
                             "daily_token_limit, monthly_budget_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                             "RETURNING id"));
    q.addBindValue(notNull(t.name));
    q.addBindValue(QString::fromLatin1(t.hash));
    q.addBindValue(notNull(t.prefix));
    q.addBindValue(t.enabled ? 1 : 0);
    q.addBindValue(timeOrNull(t.expiresAt));
    q.addBindValue(notNull(UpstreamRepository::joinList(t.allow)));
    q.addBindValue(t.rpm);
    q.addBindValue(t.dailyTokenLimit);
    q.addBindValue(t.monthlyBudgetUsd);
    q.addBindValue(DbTime::now());
    if (!q.exec() || !q.next())
        return failed(q);
    const qint64 id = q.value(0).toLongLong();
    q.finish();
    return {StoreError::None, QString(), id};
}

StoreOutcome TokenRepository::update(qint64 id, const AppTokenPatch &patch)
{
    std::optional<AppToken> t = get(id);
    if (!t)
        return {StoreError::NotFound, QString(), id};
    patch.applyTo(*t);
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("UPDATE client_tokens SET name = ?, enabled = ?, expires_at = ?, allow = ?, rpm = ?, "
                             "daily_token_limit = ?, monthly_budget_usd = ? WHERE id = ?"));
    q.addBindValue(notNull(t->name));
    q.addBindValue(t->enabled ? 1 : 0);
    q.addBindValue(timeOrNull(t->expiresAt));
    q.addBindValue(notNull(UpstreamRepository::joinList(t->allow)));
    q.addBindValue(t->rpm);
    q.addBindValue(t->dailyTokenLimit);
    q.addBindValue(t->monthlyBudgetUsd);
    q.addBindValue(id);
    if (!q.exec())
        return failed(q);
    return {StoreError::None, QString(), id};
}

StoreOutcome TokenRepository::remove(qint64 id)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("DELETE FROM client_tokens WHERE id = ?"));
    q.addBindValue(id);
    if (!q.exec())
        return failed(q);
    if (q.numRowsAffected() == 0)
        return {StoreError::NotFound, QString(), id};
    return {StoreError::None, QString(), id};
}

bool TokenRepository::touch(const QHash<qint64, QDateTime> &lastUsed)
{
    if (lastUsed.isEmpty())
        return true;
    m_db.transaction();
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("UPDATE client_tokens SET last_used_at = ? WHERE id = ?"));
    for (auto it = lastUsed.cbegin(); it != lastUsed.cend(); ++it) {
        q.addBindValue(DbTime::format(it.value()));
        q.addBindValue(it.key());
        if (!q.exec()) {
            m_db.rollback();
            return false;
        }
    }
    return m_db.commit();
}

QHash<qint64, TokenSpend> TokenRepository::spend(const QDateTime &now) const
{
    const QDateTime utc = now.toUTC();
    const QDateTime dayStart(utc.date(), QTime(0, 0), Qt::UTC);
    const QDateTime monthStart(QDate(utc.date().year(), utc.date().month(), 1), QTime(0, 0), Qt::UTC);
    QHash<qint64, TokenSpend> out;
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT app_token_id, SUM(CASE WHEN created_at >= ? THEN total_tokens ELSE 0 END), "
                             "SUM(cost_usd) FROM records WHERE app_token_id > 0 AND created_at >= ? "
                             "GROUP BY app_token_id"));
    q.addBindValue(DbTime::format(dayStart));
    q.addBindValue(DbTime::format(monthStart));
    if (!q.exec())
        return out;
    while (q.next())
        out.insert(q.value(0).toLongLong(), TokenSpend{q.value(1).toLongLong(), q.value(2).toDouble()});
    return out;
}

} // namespace route
