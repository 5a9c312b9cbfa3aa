#include "store/migrations.h"

#include "store/database.h"
#include "util/logging.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QStringList>

#include <functional>
#include <vector>

namespace route {

namespace {

struct Column
{
    const char *name;
    const char *sqliteType;
    const char *postgresType;
};

class Migrator
{
public:
    explicit Migrator(DbConnection &conn) : m_conn(conn) { }

    bool exec(const QString &sql)
    {
        QSqlQuery q(m_conn.db());
        if (q.exec(sql))
            return true;
        m_error = QStringLiteral("%1 (%2)").arg(q.lastError().text(), sql.left(120));
        return false;
    }

    bool hasColumn(const QString &table, const QString &column)
    {
        return m_conn.db().record(table).indexOf(column) >= 0;
    }

    // Adds only what is missing: a Go database may already have some of them.
    bool addColumns(const QString &table, const std::vector<Column> &columns)
    {
        for (const Column &c : columns) {
            const QString name = QString::fromLatin1(c.name);
            if (hasColumn(table, name))
                continue;
            const char *type = m_conn.isPostgres() ? c.postgresType : c.sqliteType;
            if (!exec(QStringLiteral("ALTER TABLE %1 ADD COLUMN %2 %3").arg(table, name, QString::fromLatin1(type))))
                return false;
        }
        return true;
    }

    QString idColumn() const
    {
        return m_conn.isPostgres() ? QStringLiteral("id BIGSERIAL PRIMARY KEY")
                                   : QStringLiteral("id integer PRIMARY KEY AUTOINCREMENT");
    }
    QString timeType() const
    {
        return m_conn.isPostgres() ? QStringLiteral("timestamptz") : QStringLiteral("datetime");
    }

    DbConnection &m_conn;
    QString m_error;
};

// Version 1: the tables as gorm created them for the Go tool.
bool createGormTables(Migrator &m)
{
    const QString t = m.timeType();
    return m.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS openai_upstreams (%1, created_at %2, updated_at %2, "
                                 "deleted_at %2, sk text, endpoint text, success_count bigint, failed_count bigint, "
                                 "last_call_success_time %2)")
                      .arg(m.idColumn(), t))
        && m.exec(QStringLiteral("CREATE UNIQUE INDEX IF NOT EXISTS idx_sk_endpoint ON openai_upstreams(sk, endpoint)"))
        && m.exec(QStringLiteral(
            "CREATE INDEX IF NOT EXISTS idx_openai_upstreams_deleted_at ON openai_upstreams(deleted_at)"))
        && m.exec(
            QStringLiteral("CREATE TABLE IF NOT EXISTS config_kvs (%1, created_at %2, updated_at %2, deleted_at %2, "
                           "\"key\" text UNIQUE, value text)")
                .arg(m.idColumn(), t))
        && m.exec(QStringLiteral("CREATE INDEX IF NOT EXISTS idx_config_kvs_deleted_at ON config_kvs(deleted_at)"))
        && m.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS records (%1, upstream_id bigint, created_at %2, ip text, "
                                 "body text, response text, elapsed_time bigint, status bigint)")
                      .arg(m.idColumn(), t));
}

// Version 2: this project's upstream settings, with defaults so that a row
// inserted by hand with only sk and endpoint is a working upstream.
bool addUpstreamColumns(Migrator &m)
{
    return m.addColumns(QStringLiteral("openai_upstreams"),
        {{"name", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
            {"enabled", "integer NOT NULL DEFAULT 1", "integer NOT NULL DEFAULT 1"},
            {"weight", "integer NOT NULL DEFAULT 1", "integer NOT NULL DEFAULT 1"},
            {"allow", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
            {"deny", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
            {"timeout", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
            {"stream_timeout", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
            {"sort_order", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"}});
}

// Version 3: what a record says about a request beyond the Go tool's columns.
bool addRecordColumns(Migrator &m)
{
    return m.addColumns(QStringLiteral("records"),
               {{"method", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"path", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"model", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"stream", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"ttfb_ms", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"duration_ms", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"attempts", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"attempt_log", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"request_bytes", "bigint NOT NULL DEFAULT 0", "bigint NOT NULL DEFAULT 0"},
                   {"response_bytes", "bigint NOT NULL DEFAULT 0", "bigint NOT NULL DEFAULT 0"},
                   {"prompt_tokens", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"completion_tokens", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"total_tokens", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                   {"outcome", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"error", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"user_agent", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"}})
        && m.exec(QStringLiteral("CREATE INDEX IF NOT EXISTS idx_records_created_at ON records(created_at)"));
}

// Version 4: which client token (its position, never the token) sent a request.
bool addRecordClientToken(Migrator &m)
{
    return m.addColumns(
        QStringLiteral("records"), {{"client_token", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"}});
}

// Version 5: the wire format of an upstream (SPEC §9), and the token kinds
// of a record beyond prompt and completion.
bool addFormatsAndTokenKinds(Migrator &m)
{
    return m.addColumns(QStringLiteral("openai_upstreams"),
               {{"format", "text NOT NULL DEFAULT 'openai'", "text NOT NULL DEFAULT 'openai'"},
                   {"responses", "integer NOT NULL DEFAULT 1", "integer NOT NULL DEFAULT 1"}})
        && m.addColumns(QStringLiteral("records"),
            {{"cached_tokens", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                {"cache_write_tokens", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                {"reasoning_tokens", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"},
                {"session", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                {"converted", "integer NOT NULL DEFAULT 0", "integer NOT NULL DEFAULT 0"}});
}

// Version 6: model catalogs, aliases and the outbound proxy of an upstream
// (SPEC §10), and the model name a record's request was sent under.
bool addModelsAndProxy(Migrator &m)
{
    return m.addColumns(QStringLiteral("openai_upstreams"),
               {{"model_map", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"models", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"models_fetched_at", "datetime", "timestamptz"},
                   {"models_error", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                   {"proxy", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"}})
        && m.addColumns(
            QStringLiteral("records"), {{"upstream_model", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"}});
}

// Version 7: app tokens with their limits (SPEC §11), and what a record
// says about who spent what: the app token, the app, the cost.
bool addAppTokens(Migrator &m)
{
    const QString t = m.timeType();
    const QString real = m.m_conn.isPostgres() ? QStringLiteral("double precision") : QStringLiteral("real");
    return m.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS client_tokens (%1, name text NOT NULL DEFAULT '', "
                                 "token_hash text NOT NULL UNIQUE, prefix text NOT NULL DEFAULT '', "
                                 "enabled integer NOT NULL DEFAULT 1, expires_at %2, allow text NOT NULL DEFAULT '', "
                                 "rpm integer NOT NULL DEFAULT 0, daily_token_limit bigint NOT NULL DEFAULT 0, "
                                 "monthly_budget_usd %3 NOT NULL DEFAULT 0, created_at %2, last_used_at %2)")
                      .arg(m.idColumn(), t, real))
        && m.addColumns(QStringLiteral("records"),
            {{"app_token_id", "bigint NOT NULL DEFAULT 0", "bigint NOT NULL DEFAULT 0"},
                {"client_app", "text NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"},
                {"cost_usd", "real NOT NULL DEFAULT 0", "double precision NOT NULL DEFAULT 0"}});
}

// Version 8, PostgreSQL only: team mode (SPEC §12). A change to the
// configuration, made by any instance, the CLI or by hand in psql, is
// announced on the channel Notify::configChannel, which every instance
// listens to. Only the columns that are configuration fire: the counters
// and last-used times, written with every batch of records, must not make
// every instance reload four times a second. A migration that adds a
// configuration column adds it to these lists.
bool addChangeNotifications(Migrator &m)
{
    if (!m.m_conn.isPostgres())
        return true;
    const QString function
        = QStringLiteral("CREATE OR REPLACE FUNCTION route_notify_change() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$ BEGIN PERFORM pg_notify('%1', TG_TABLE_NAME); RETURN NULL; END $$")
              .arg(QLatin1String(Notify::configChannel));
    const auto trigger = [&m](const char *name, const char *table, const char *columns) {
        const QString update
            = columns ? QStringLiteral("UPDATE OF %1").arg(QLatin1String(columns)) : QStringLiteral("UPDATE");
        return m.exec(QStringLiteral("DROP TRIGGER IF EXISTS %1 ON %2").arg(QLatin1String(name), QLatin1String(table)))
            && m.exec(QStringLiteral("CREATE TRIGGER %1 AFTER INSERT OR DELETE OR TRUNCATE OR %3 ON %2 "
                                     "FOR EACH STATEMENT EXECUTE FUNCTION route_notify_change()")
                          .arg(QLatin1String(name), QLatin1String(table), update));
    };
    return m.exec(function)
        && trigger("route_upstreams_changed", "openai_upstreams",
            "deleted_at, sk, endpoint, name, enabled, weight, allow, deny, timeout, stream_timeout, sort_order, "
            "format, responses, model_map, models, models_error, proxy")
        && trigger("route_config_changed", "config_kvs", nullptr)
        && trigger("route_tokens_changed", "client_tokens",
            "name, token_hash, prefix, enabled, expires_at, allow, rpm, daily_token_limit, monthly_budget_usd");
}

// Version 9, PostgreSQL only: app-token limits for the whole team (SPEC
// §12). The admissions of the last minute per token (the RPM window), and
// each token's tokens and cost per UTC day, added to by one atomic
// statement per finished request; seeded from the records so far.
bool addSharedLimits(Migrator &m)
{
    if (!m.m_conn.isPostgres())
        return true;
    return m.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS route_token_admissions (token_id bigint NOT NULL, "
                                 "at timestamptz NOT NULL)"))
        && m.exec(QStringLiteral(
            "CREATE INDEX IF NOT EXISTS idx_route_token_admissions ON route_token_admissions(token_id, at)"))
        && m.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS route_token_spend (token_id bigint NOT NULL, "
                                 "day date NOT NULL, tokens bigint NOT NULL DEFAULT 0, "
                                 "cost_usd double precision NOT NULL DEFAULT 0, PRIMARY KEY (token_id, day))"))
        && m.exec(QStringLiteral(
            "INSERT INTO route_token_spend (token_id, day, tokens, cost_usd) SELECT app_token_id, "
            "(created_at AT TIME ZONE 'UTC')::date, SUM(CASE WHEN total_tokens > 0 THEN total_tokens "
            "ELSE prompt_tokens + completion_tokens END), SUM(cost_usd) FROM records WHERE app_token_id > 0 "
            "GROUP BY 1, 2 ON CONFLICT DO NOTHING"));
}

using Step = std::function<bool(Migrator &)>;
const std::vector<Step> &steps()
{
    static const std::vector<Step> all = {createGormTables, addUpstreamColumns, addRecordColumns, addRecordClientToken,
        addFormatsAndTokenKinds, addModelsAndProxy, addAppTokens, addChangeNotifications, addSharedLimits};
    return all;
}

} // namespace

namespace Migrations {

int latestVersion()
{
    return int(steps().size());
}

int currentVersion(DbConnection &conn)
{
    QSqlQuery q(conn.db());
    if (!q.exec(QStringLiteral("SELECT MAX(version) FROM route_schema_migrations")) || !q.next())
        return 0;
    return q.value(0).toInt();
}

Status run(DbConnection &conn)
{
    Migrator m(conn);
    if (!m.exec(QStringLiteral(
            "CREATE TABLE IF NOT EXISTS route_schema_migrations (version integer PRIMARY KEY, applied_at text)")))
        return Status::failure(m.m_error);
    const int from = currentVersion(conn);
    for (int v = from + 1; v <= latestVersion(); ++v) {
        // Each step and its version row commit together, so a crash leaves
        // the schema at a known version.
        conn.db().transaction();
        QSqlQuery mark(conn.db());
        mark.prepare(QStringLiteral("INSERT INTO route_schema_migrations (version, applied_at) VALUES (?, ?)"));
        mark.addBindValue(v);
        mark.addBindValue(DbTime::now());
        if (!steps()[size_t(v - 1)](m) || !mark.exec()) {
            const QString error = m.m_error.isEmpty() ? mark.lastError().text() : m.m_error;
            conn.db().rollback();
            return Status::failure(QObject::tr("database migration %1 failed: %2").arg(v).arg(error));
        }
        if (!conn.db().commit())
            return Status::failure(
                QObject::tr("database migration %1 failed: %2").arg(v).arg(conn.db().lastError().text()));
        qCDebug(lcStore) << "migrated database to version" << v;
    }
    return {};
}

} // namespace Migrations

} // namespace route
