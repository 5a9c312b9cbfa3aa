#include "store/configrepository.h"

#include <QJsonArray>
#include <QJsonDocument>

#include "store/database.h"
#include "util/logging.h"

#include <QSqlError>
#include <QSqlQuery>

namespace route {

std::optional<Settings> ConfigRepository::load(QString *error) const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT \"key\", value FROM config_kvs WHERE deleted_at IS NULL"))) {
        if (error)
            *error = q.lastError().text();
        return std::nullopt;
    }
    Settings s;
    while (q.next()) {
        const QString key = q.value(0).toString();
        const QString value = q.value(1).toString();
        bool isNumber = false;
        const int number = value.trimmed().toInt(&isNumber);
        if (key == QLatin1String(ConfigKey::authorization)) {
            s.tokens.clear();
            for (const QString &t : value.split(QLatin1Char(','), Qt::SkipEmptyParts))
                if (!t.trimmed().isEmpty())
                    s.tokens << t.trimmed();
        } else if (key == QLatin1String(ConfigKey::policy) && Vocabulary::parsePolicy(value.trimmed())) {
            s.policy = *Vocabulary::parsePolicy(value.trimmed());
        } else if (key == QLatin1String(ConfigKey::timeout) && isNumber && number > 0) {
            s.timeoutSec = number;
        } else if (key == QLatin1String(ConfigKey::streamTimeout) && isNumber && number > 0) {
            s.streamTimeoutSec = number;
        } else if (key == QLatin1String(ConfigKey::idleTimeout) && isNumber && number > 0) {
            s.idleTimeoutSec = number;
        } else if (key == QLatin1String(ConfigKey::recordRetentionDays) && isNumber && number >= 0) {
            s.recordRetentionDays = number;
        } else if (key == QLatin1String(ConfigKey::recordMaxRows) && isNumber && number >= 0) {
            s.recordMaxRows = number;
        } else if (key == QLatin1String(ConfigKey::allowedHosts)) {
            s.allowedHosts = value.split(QLatin1Char(','), Qt::SkipEmptyParts);
            for (QString &h : s.allowedHosts)
                h = h.trimmed().toLower();
        } else if (key == QLatin1String(ConfigKey::allowedOrigins)) {
            s.allowedOrigins = value.split(QLatin1Char(','), Qt::SkipEmptyParts);
            for (QString &o : s.allowedOrigins)
                o = o.trimmed();
        } else if (key == QLatin1String(ConfigKey::metricsPublic)) {
            s.metricsPublic = value == QLatin1String("1") || value == QLatin1String("true");
        } else if (key == QLatin1String(ConfigKey::keysInKeychain)) {
            s.keysInKeychain = value == QLatin1String("1");
        } else if (key == QLatin1String(ConfigKey::affinityTtl) && isNumber && number >= 0) {
            s.affinityTtlSec = number;
        } else if (key == QLatin1String(ConfigKey::prices)) {
            auto table = PriceTable::fromJson(QJsonDocument::fromJson(value.toUtf8()).array());
            if (table && !table->isEmpty()) // empty: the shipped table
                s.prices = std::move(*table);
        } else if (key == QLatin1String(ConfigKey::modelsRefreshMinutes) && isNumber && number >= 0) {
            s.modelsRefreshMinutes = number;
        } else if (key == QLatin1String(ConfigKey::webhookUrl)) {
            s.webhookUrl = value.trimmed();
        } else if (key == QLatin1String(ConfigKey::webhookFormat) && !value.trimmed().isEmpty()) {
            s.webhookFormat = value.trimmed();
        } else if (key == QLatin1String(ConfigKey::recordBodies)) {
            s.recordBodies = value == QLatin1String("1") || value == QLatin1String("true");
        }
    }
    return s;
}

std::optional<QString> ConfigRepository::value(const char *key) const
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT value FROM config_kvs WHERE \"key\" = ? AND deleted_at IS NULL"));
    q.addBindValue(QString::fromLatin1(key));
    if (q.exec() && q.next())
        return q.value(0).toString();
    return std::nullopt;
}

bool ConfigRepository::setValue(const char *key, const QString &value)
{
    // Update, then insert: a Go-era table may lack the unique constraint an
    // upsert would need.
    const QVariant now = DbTime::now();
    QSqlQuery q(m_db);
    q.prepare(
        QStringLiteral("UPDATE config_kvs SET value = ?, updated_at = ? WHERE \"key\" = ? AND deleted_at IS NULL"));
    q.addBindValue(notNull(value));
    q.addBindValue(now);
    q.addBindValue(QString::fromLatin1(key));
    if (q.exec() && q.numRowsAffected() > 0)
        return true;
    QSqlQuery purge(m_db);
    purge.prepare(QStringLiteral("DELETE FROM config_kvs WHERE \"key\" = ?"));
    purge.addBindValue(QString::fromLatin1(key));
    purge.exec();
    q.prepare(QStringLiteral("INSERT INTO config_kvs (created_at, updated_at, \"key\", value) VALUES (?, ?, ?, ?)"));
    q.addBindValue(now);
    q.addBindValue(now);
    q.addBindValue(QString::fromLatin1(key));
    q.addBindValue(notNull(value));
    if (!q.exec()) {
        qCWarning(lcStore) << "cannot store setting" << key << ":" << q.lastError().text();
        return false;
    }
    return true;
}

bool ConfigRepository::save(const Settings &s)
{
    m_db.transaction();
    const bool ok = setValue(ConfigKey::policy, QString(Vocabulary::name(s.policy)))
        && setValue(ConfigKey::timeout, QString::number(s.timeoutSec))
        && setValue(ConfigKey::streamTimeout, QString::number(s.streamTimeoutSec))
        && setValue(ConfigKey::idleTimeout, QString::number(s.idleTimeoutSec))
        && setValue(ConfigKey::recordBodies, s.recordBodies ? QStringLiteral("1") : QStringLiteral("0"))
        && setValue(ConfigKey::recordRetentionDays, QString::number(s.recordRetentionDays))
        && setValue(ConfigKey::recordMaxRows, QString::number(s.recordMaxRows))
        && setValue(ConfigKey::affinityTtl, QString::number(s.affinityTtlSec))
        && setValue(ConfigKey::modelsRefreshMinutes, QString::number(s.modelsRefreshMinutes))
        && setValue(ConfigKey::allowedHosts, s.allowedHosts.join(QLatin1Char(',')))
        && setValue(ConfigKey::allowedOrigins, s.allowedOrigins.join(QLatin1Char(',')))
        && setValue(ConfigKey::metricsPublic, s.metricsPublic ? QStringLiteral("1") : QStringLiteral("0"))
        && setValue(ConfigKey::keysInKeychain, s.keysInKeychain ? QStringLiteral("1") : QStringLiteral("0"))
        && setValue(ConfigKey::webhookUrl, s.webhookUrl) && setValue(ConfigKey::webhookFormat, s.webhookFormat);
    if (!ok) {
        m_db.rollback();
        return false;
    }
    return m_db.commit();
}

} // namespace route
