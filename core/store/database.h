#pragma once

#include "util/result.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlError>
#include <QString>
#include <QVariant>

#include <memory>

namespace route {

// Where the data lives: a SQLite file or a PostgreSQL server.
struct DatabaseConfig
{
    enum class Kind { Sqlite, Postgres };
    Kind kind = Kind::Sqlite;
    QString path; // SQLite file
    QString host;
    int port = 5432;
    QString user;
    QString password;
    QString name;

    // "sqlite:/path" or "postgresql://user@host:port/db", never the password.
    QString describe() const;
    static Result<DatabaseConfig> fromDsn(const QString &dsn);
};

// A database connection owned by one thread (Qt SQL connections are per
// thread); removed from Qt's registry when it goes out of scope.
class DbConnection
{
public:
    static Result<std::shared_ptr<DbConnection>> open(
        const DatabaseConfig &config, const QString &purpose, int busyTimeoutMs = 5000);
    ~DbConnection();
    DbConnection(const DbConnection &) = delete;
    DbConnection &operator=(const DbConnection &) = delete;

    QSqlDatabase &db() { return m_db; }
    bool isPostgres() const;
    // PostgreSQL: opens the connection again when the server dropped it
    // (a restart, an outage); a round trip, so for the rare callers (the
    // admin API, catalog saves), not for every record. False: still away.
    bool ensureOpen();
    // The last error of this connection, as oneLine() puts it.
    QString lastError() const;

private:
    DbConnection() = default;
    QString m_name;
    QSqlDatabase m_db;
};

// Qt binds a null QString as SQL NULL; our text columns are NOT NULL.
inline QString notNull(const QString &s)
{
    return s.isNull() ? QStringLiteral("") : s;
}

// An SQL error on one line: libpq's messages span lines (a hint, then Qt's
// own words); "the connection is closed" when the driver said nothing.
QString oneLine(const QSqlError &error);

// PostgreSQL's LISTEN/NOTIFY channels of team mode (SPEC §12).
namespace Notify {
// The configuration changed (upstreams, settings, app tokens); the payload is the table.
constexpr const char *configChannel = "route_config";
// An instance found an upstream resting or well again: "ID STATE RESTMS REASON…".
constexpr const char *healthChannel = "route_health";
// An instance bound a conversation to an upstream: "ID KEY" (the key in base64).
constexpr const char *sessionChannel = "route_session";
} // namespace Notify

namespace DbTime {
// gorm's SQLite layout: "2006-01-02 15:04:05.999-07:00", always written in UTC.
QString format(const QDateTime &t);
// The same into OUT as ASCII, without a QString: its length, or -1 when T is
// invalid or outside years 0–9999 (format() handles those).
constexpr int maxFormatted = 29;
int formatTo(const QDateTime &t, char (&out)[maxFormatted]);
QDateTime parse(const QVariant &v);
QVariant now();
} // namespace DbTime

} // namespace route
