#include "store/upstreamrepository.h"

#include "store/database.h"
#include "store/keyvault.h"
#include "util/logging.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

#include <utility>

namespace route {

namespace {

const char selectColumns[]
    = "SELECT id, name, sk, endpoint, enabled, weight, allow, deny, timeout, stream_timeout, sort_order, "
      "COALESCE(success_count, 0), COALESCE(failed_count, 0), last_call_success_time, created_at, updated_at, format, "
      "responses, "
      "model_map, models, models_fetched_at, models_error, proxy "
      "FROM openai_upstreams WHERE deleted_at IS NULL";

// What the `sk` column holds: the key, or where in the keychain it is.
QString storedKey(const Upstream &u)
{
    return u.skRef.isEmpty() ? u.sk : u.skRef;
}

Upstream fromQuery(const QSqlQuery &q)
{
    Upstream u;
    u.id = q.value(0).toLongLong();
    u.name = q.value(1).toString();
    u.sk = q.value(2).toString();
    if (KeyVault::isReference(u.sk)) {
        // Only what was read before: a worker thread must not wait for
        // D-Bus. reloadSnapshot reads the ones not yet known.
        u.skRef = std::exchange(u.sk, KeyVault::cached(u.sk).value_or(QString()));
    }
    u.endpoint = q.value(3).toString();
    u.enabled = q.value(4).isNull() ? true : q.value(4).toInt() != 0;
    u.weight = q.value(5).isNull() ? 1 : q.value(5).toInt();
    u.allow = UpstreamRepository::splitList(q.value(6).toString());
    u.deny = UpstreamRepository::splitList(q.value(7).toString());
    u.timeoutSec = q.value(8).toInt();
    u.streamTimeoutSec = q.value(9).toInt();
    u.sortOrder = q.value(10).toInt();
    u.successCount = q.value(11).toLongLong();
    u.failedCount = q.value(12).toLongLong();
    u.lastCallSuccessTime = DbTime::parse(q.value(13));
    u.createdAt = DbTime::parse(q.value(14));
    u.updatedAt = DbTime::parse(q.value(15));
    u.format = Vocabulary::parseFormat(q.value(16).toString()).value_or(ApiFormat::OpenAI);
    u.responses = q.value(17).isNull() || q.value(17).toInt() != 0;
    u.modelMap = ModelMap::fromStored(q.value(18).toString());
    u.models = UpstreamRepository::modelsFromStored(q.value(19).toString());
    u.modelsFetchedAt = DbTime::parse(q.value(20));
    u.modelsError = q.value(21).toString();
    u.proxy = q.value(22).toString();
    return u;
}

StoreOutcome failed(const QSqlQuery &q)
{
    return {StoreError::Failed, q.lastError().text(), 0};
}

} // namespace

QStringList UpstreamRepository::splitList(const QString &stored)
{
    QStringList out;
    const QStringList parts = stored.split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString &p : parts) {
        const QString t = p.trimmed();
        if (!t.isEmpty())
            out << t;
    }
    return out;
}

QStringList UpstreamRepository::modelsFromStored(const QString &stored)
{
    QStringList out;
    if (stored.isEmpty())
        return out;
    for (const QJsonValue &v : QJsonDocument::fromJson(stored.toUtf8()).array())
        if (v.isString())
            out << v.toString();
    out.sort(); // the catalog is searched by halves
    out.removeDuplicates();
    return out;
}

QString UpstreamRepository::modelsToStored(const QStringList &models)
{
    if (models.isEmpty())
        return QString();
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(models)).toJson(QJsonDocument::Compact));
}

QString UpstreamRepository::joinList(const QStringList &list)
{
    QStringList clean;
    for (const QString &s : list) {
        const QString t = s.trimmed();
        if (!t.isEmpty())
            clean << t;
    }
    return clean.join(QLatin1Char(','));
}

std::optional<QList<Upstream>> UpstreamRepository::list(QString *error) const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    if (!q.exec(QString::fromLatin1(selectColumns) + QStringLiteral(" ORDER BY sort_order, id"))) {
        if (error)
            *error = q.lastError().text();
        return std::nullopt;
    }
    QList<Upstream> out;
    while (q.next())
        out << fromQuery(q);
    return out;
}

std::optional<Upstream> UpstreamRepository::get(qint64 id) const
{
    QSqlQuery q(m_db);
    q.prepare(QString::fromLatin1(selectColumns) + QStringLiteral(" AND id = ?"));
    q.addBindValue(id);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return fromQuery(q);
}

std::optional<qint64> UpstreamRepository::findActive(const QString &sk, const QString &endpoint, qint64 exceptId) const
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "SELECT id FROM openai_upstreams WHERE deleted_at IS NULL AND sk = ? AND endpoint = ? AND id <> ?"));
    q.addBindValue(sk);
    q.addBindValue(endpoint);
    q.addBindValue(exceptId);
    if (q.exec() && q.next())
        return q.value(0).toLongLong();
    return std::nullopt;
}

StoreOutcome UpstreamRepository::create(const Upstream &u)
{
    if (const auto existing = findActive(u.sk, u.endpoint, 0))
        return {StoreError::Duplicate,
            QObject::tr("an upstream with this SK and Endpoint exists already (ID %1)").arg(*existing), *existing};

    m_db.transaction();
    // A row the Go tool soft-deleted still holds the unique (sk, endpoint) pair.
    QSqlQuery purge(m_db);
    purge.prepare(
        QStringLiteral("DELETE FROM openai_upstreams WHERE deleted_at IS NOT NULL AND sk = ? AND endpoint = ?"));
    purge.addBindValue(u.sk);
    purge.addBindValue(u.endpoint);
    if (!purge.exec()) {
        m_db.rollback();
        return failed(purge);
    }

    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "INSERT INTO openai_upstreams (created_at, updated_at, sk, endpoint, success_count, failed_count, "
        "name, enabled, weight, allow, deny, timeout, stream_timeout, sort_order, format, responses, model_map, proxy) "
        "VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"));
    const QVariant now = DbTime::now();
    q.addBindValue(now);
    q.addBindValue(now);
    q.addBindValue(notNull(storedKey(u)));
    q.addBindValue(notNull(u.endpoint));
    q.addBindValue(notNull(u.name));
    q.addBindValue(u.enabled ? 1 : 0);
    q.addBindValue(u.weight);
    q.addBindValue(notNull(joinList(u.allow)));
    q.addBindValue(notNull(joinList(u.deny)));
    q.addBindValue(u.timeoutSec);
    q.addBindValue(u.streamTimeoutSec);
    q.addBindValue(u.sortOrder);
    q.addBindValue(QString(Vocabulary::name(u.format)));
    q.addBindValue(u.responses ? 1 : 0);
    q.addBindValue(notNull(u.modelMap.toStored()));
    q.addBindValue(notNull(u.proxy));
    if (!q.exec() || !q.next()) {
        StoreOutcome out = failed(q);
        q.finish();
        m_db.rollback();
        return out;
    }
    const qint64 id = q.value(0).toLongLong();
    q.finish();
    if (!m_db.commit())
        return {StoreError::Failed, m_db.lastError().text(), 0};
    return {StoreError::None, QString(), id};
}

StoreOutcome UpstreamRepository::update(qint64 id, const UpstreamPatch &patch)
{
    std::optional<Upstream> current = get(id);
    if (!current)
        return {StoreError::NotFound, QObject::tr("no upstream with ID %1").arg(id), id};
    Upstream u = *current;
    patch.applyTo(u);
    if (patch.sk) {
        // A reference moves the key into the keychain; a key moves it back.
        if (KeyVault::isReference(*patch.sk))
            u.skRef = std::exchange(u.sk, KeyVault::cached(*patch.sk).value_or(QString()));
        else
            u.skRef.clear();
    }
    if (const auto existing = findActive(u.sk, u.endpoint, id))
        return {StoreError::Duplicate,
            QObject::tr("an upstream with this SK and Endpoint exists already (ID %1)").arg(*existing), *existing};

    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "UPDATE openai_upstreams SET updated_at = ?, sk = ?, endpoint = ?, name = ?, enabled = ?, "
        "weight = ?, allow = ?, deny = ?, timeout = ?, stream_timeout = ?, sort_order = ?, format = ?, responses = ?, "
        "model_map = ?, proxy = ? WHERE id = ? AND deleted_at IS NULL"));
    q.addBindValue(DbTime::now());
    q.addBindValue(notNull(storedKey(u)));
    q.addBindValue(notNull(u.endpoint));
    q.addBindValue(notNull(u.name));
    q.addBindValue(u.enabled ? 1 : 0);
    q.addBindValue(u.weight);
    q.addBindValue(notNull(joinList(u.allow)));
    q.addBindValue(notNull(joinList(u.deny)));
    q.addBindValue(u.timeoutSec);
    q.addBindValue(u.streamTimeoutSec);
    q.addBindValue(u.sortOrder);
    q.addBindValue(QString(Vocabulary::name(u.format)));
    q.addBindValue(u.responses ? 1 : 0);
    q.addBindValue(notNull(u.modelMap.toStored()));
    q.addBindValue(notNull(u.proxy));
    q.addBindValue(id);
    if (!q.exec())
        return failed(q);
    return {StoreError::None, QString(), id};
}

StoreOutcome UpstreamRepository::remove(qint64 id)
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("DELETE FROM openai_upstreams WHERE id = ? AND deleted_at IS NULL"));
    q.addBindValue(id);
    if (!q.exec())
        return failed(q);
    if (q.numRowsAffected() == 0)
        return {StoreError::NotFound, QObject::tr("no upstream with ID %1").arg(id), id};
    return {StoreError::None, QString(), id};
}

StoreOutcome UpstreamRepository::saveCatalog(qint64 id, const std::optional<QStringList> &models, const QString &error)
{
    QSqlQuery q(m_db);
    if (models) {
        q.prepare(QStringLiteral("UPDATE openai_upstreams SET models = ?, models_fetched_at = ?, models_error = '' "
                                 "WHERE id = ? AND deleted_at IS NULL"));
        q.addBindValue(notNull(modelsToStored(*models)));
        q.addBindValue(DbTime::now());
    } else {
        q.prepare(QStringLiteral("UPDATE openai_upstreams SET models_error = ? WHERE id = ? AND deleted_at IS NULL"));
        q.addBindValue(notNull(error.left(500)));
    }
    q.addBindValue(id);
    if (!q.exec())
        return failed(q);
    if (q.numRowsAffected() == 0)
        return {StoreError::NotFound, QObject::tr("no upstream with ID %1").arg(id), id};
    return {StoreError::None, QString(), id};
}

bool UpstreamRepository::addCounters(
    const QHash<qint64, QPair<qint64, qint64>> &successFailed, const QHash<qint64, QDateTime> &lastSuccess)
{
    if (successFailed.isEmpty())
        return true;
    m_db.transaction();
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("UPDATE openai_upstreams SET success_count = COALESCE(success_count, 0) + ?, "
                             "failed_count = COALESCE(failed_count, 0) + ?, "
                             "last_call_success_time = COALESCE(?, last_call_success_time) WHERE id = ?"));
    for (auto it = successFailed.cbegin(); it != successFailed.cend(); ++it) {
        q.addBindValue(it.value().first);
        q.addBindValue(it.value().second);
        const QDateTime last = lastSuccess.value(it.key());
        q.addBindValue(last.isValid() ? QVariant(DbTime::format(last)) : QVariant(QMetaType(QMetaType::QString)));
        q.addBindValue(it.key());
        if (!q.exec()) {
            qCWarning(lcStore) << "cannot update upstream counters:" << q.lastError().text();
            m_db.rollback();
            return false;
        }
    }
    return m_db.commit();
}

} // namespace route
