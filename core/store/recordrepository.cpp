#include "store/recordrepository.h"

#include "store/database.h"

#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include <sqlite3.h>

namespace route {

namespace {

const char insertSql[]
    = "INSERT INTO records (upstream_id, created_at, ip, body, response, elapsed_time, status, method, path, model, "
      "stream, ttfb_ms, duration_ms, attempts, attempt_log, request_bytes, response_bytes, prompt_tokens, "
      "completion_tokens, total_tokens, outcome, error, user_agent, client_token, cached_tokens, "
      "cache_write_tokens, reasoning_tokens, session, converted, upstream_model, app_token_id, client_app, cost_usd) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// The SQLite connection under Qt's driver, or null for other databases.
sqlite3 *sqliteHandle(const QSqlDatabase &db)
{
    if (db.driverName() != QLatin1String("QSQLITE") || !db.driver())
        return nullptr;
    const QVariant handle = db.driver()->handle();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "sqlite3*") != 0)
        return nullptr;
    return *static_cast<sqlite3 *const *>(handle.constData());
}

// The values of one row in insertSql's column order, handed to BINDER's
// integer() and text(): one list for both ways of inserting.
template <typename Binder>
void bindRecord(const RequestRecord &r, Binder &b)
{
    b.integer(r.upstreamId);
    b.time(r.createdAt);
    b.text(r.clientIp);
    b.text(r.body);
    b.text(r.response);
    b.integer(r.durationMs * 1000000); // the Go tool's time.Duration, in ns
    b.integer(r.status);
    b.text(r.method);
    b.text(r.path);
    b.text(r.model);
    b.integer(r.stream ? 1 : 0);
    b.integer(r.ttfbMs);
    b.integer(r.durationMs);
    b.integer(r.attempts);
    b.text(r.attemptLog);
    b.integer(r.requestBytes);
    b.integer(r.responseBytes);
    b.integer(r.promptTokens);
    b.integer(r.completionTokens);
    b.integer(r.totalTokens);
    b.text(QString(Vocabulary::name(r.outcome)));
    b.text(r.error);
    b.text(r.userAgent);
    b.integer(r.clientTokenId);
    b.integer(r.cachedTokens);
    b.integer(r.cacheWriteTokens);
    b.integer(r.reasoningTokens);
    b.text(r.session);
    b.integer(r.converted ? 1 : 0);
    b.text(r.upstreamModel);
    b.integer(r.appTokenId);
    b.text(r.clientApp);
    b.real(r.costUsd);
}

// Writes one row of PostgreSQL literals, for a multi-row INSERT. Through
// QSqlQuery each bound value costs ~2 µs and each row a round trip to the
// server (QPSQL sends one EXECUTE per exec()); a batch as one statement of
// literals is one round trip. Texts are E'…' strings, whose escapes mean the
// same whatever standard_conforming_strings says: only ' and \ need one.
struct PgLiteralRow
{
    QString &sql;
    bool first = true;

    void separate()
    {
        if (!first)
            sql += QLatin1Char(',');
        first = false;
    }
    void integer(qint64 v)
    {
        separate();
        sql += QString::number(v);
    }
    void real(double v)
    {
        separate();
        sql += std::isfinite(v) ? QString::number(v, 'g', 17) : QStringLiteral("0");
    }
    void text(QStringView v)
    {
        separate();
        sql += QLatin1String("E'");
        for (const QChar c : v) {
            if (c == QLatin1Char('\'') || c == QLatin1Char('\\'))
                sql += c;
            // PostgreSQL's text has no NUL; the record keeps a visible stand-in.
            sql += c.unicode() == 0 ? QChar(QChar::ReplacementCharacter) : c;
        }
        sql += QLatin1Char('\'');
    }
    void time(const QDateTime &t) { text(DbTime::format(t)); }
};

// Rows per INSERT statement on PostgreSQL: a batch of the store thread is
// sent as few statements, none of which grows without bound.
constexpr int kRowsPerStatement = 256;

} // namespace

// Binds through SQLite itself: QSqlResult spends ~2 µs on every bound value
// (it names each placeholder with QString::arg), 33 per record, on the thread
// that shares the cores with the proxy.
class SqliteRecordInsert
{
public:
    explicit SqliteRecordInsert(sqlite3 *db) : m_db(db)
    {
        m_ok = sqlite3_prepare_v3(db, insertSql, -1, SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr) == SQLITE_OK;
    }
    ~SqliteRecordInsert() { sqlite3_finalize(m_stmt); }
    SqliteRecordInsert(const SqliteRecordInsert &) = delete;
    SqliteRecordInsert &operator=(const SqliteRecordInsert &) = delete;

    bool isFor(sqlite3 *db) const { return m_ok && db == m_db; }
    bool run(const RequestRecord &r)
    {
        if (!m_ok)
            return false;
        m_index = 0;
        m_textCount = 0;
        bindRecord(r, *this);
        const bool done = sqlite3_step(m_stmt) == SQLITE_DONE;
        sqlite3_reset(m_stmt);
        return done;
    }
    QString error() const { return QString::fromUtf8(sqlite3_errmsg(m_db)); }

    void integer(qint64 v) { sqlite3_bind_int64(m_stmt, ++m_index, v); }
    void real(double v) { sqlite3_bind_double(m_stmt, ++m_index, v); }
    // Empty rather than NULL, as notNull() does for the Qt path. Each text
    // has a buffer of its own that is reused row after row (most are short
    // ASCII: copied without the UTF-8 encoder or an allocation), so SQLite
    // need not copy them.
    void text(QStringView v)
    {
        if (v.isEmpty()) {
            sqlite3_bind_text(m_stmt, ++m_index, "", 0, SQLITE_STATIC);
            return;
        }
        QByteArray &utf8 = m_texts[m_textCount++];
        if (!copyAscii(v, utf8))
            utf8 = v.toUtf8();
        sqlite3_bind_text(m_stmt, ++m_index, utf8.constData(), int(utf8.size()), SQLITE_STATIC);
    }
    void time(const QDateTime &t)
    {
        char text[DbTime::maxFormatted];
        const int size = DbTime::formatTo(t, text);
        if (size < 0) {
            this->text(DbTime::format(t));
            return;
        }
        // SQLITE_TRANSIENT: the text lives on this stack only.
        sqlite3_bind_text(m_stmt, ++m_index, text, size, SQLITE_TRANSIENT);
    }

private:
    static bool copyAscii(QStringView v, QByteArray &out)
    {
        out.resize(v.size());
        char *to = out.data();
        const char16_t *from = v.utf16();
        char16_t any = 0;
        for (qsizetype i = 0; i < v.size(); ++i) {
            any |= from[i];
            to[i] = char(from[i]);
        }
        return any < 0x80;
    }

    sqlite3 *m_db;
    sqlite3_stmt *m_stmt = nullptr;
    bool m_ok = false;
    int m_index = 0;
    std::array<QByteArray, 14> m_texts; // one per text() in bindRecord
    int m_textCount = 0;
};

RecordRepository::RecordRepository(QSqlDatabase db) : m_db(std::move(db))
{ }

RecordRepository::~RecordRepository() = default;

bool RecordRepository::insert(const QList<RequestRecord> &records, QString *error)
{
    if (records.isEmpty())
        return true;
    if (!m_db.transaction()) {
        if (error)
            *error = m_db.lastError().text();
        return false;
    }
    const bool inserted = insertRows(records, error);
    if (!inserted || !m_db.commit()) {
        if (inserted && error)
            *error = m_db.lastError().text();
        m_db.rollback();
        return false;
    }
    return true;
}

bool RecordRepository::insertRows(const QList<RequestRecord> &records, QString *error)
{
    if (sqlite3 *handle = sqliteHandle(m_db)) {
        if (!m_insert || !m_insert->isFor(handle))
            m_insert = std::make_unique<SqliteRecordInsert>(handle);
        for (const RequestRecord &r : records) {
            if (!m_insert->run(r)) {
                if (error)
                    *error = m_insert->error();
                m_insert.reset(); // prepared again next time, in case it was the statement
                return false;
            }
        }
        return true;
    }
    // PostgreSQL (and any other driver): multi-row statements of literals.
    const QLatin1String head(insertSql, qsizetype(std::strchr(insertSql, '?') - insertSql));
    QSqlQuery q(m_db);
    for (qsizetype from = 0; from < records.size(); from += kRowsPerStatement) {
        QString sql = head; // "INSERT INTO records (…) VALUES ("
        sql.chop(1);
        const qsizetype to = std::min(records.size(), from + kRowsPerStatement);
        for (qsizetype i = from; i < to; ++i) {
            sql += i == from ? QLatin1String("(") : QLatin1String(",(");
            PgLiteralRow row{sql};
            bindRecord(records.at(i), row);
            sql += QLatin1Char(')');
        }
        if (!q.exec(sql)) {
            if (error)
                *error = q.lastError().text();
            return false;
        }
    }
    return true;
}

std::optional<QList<RequestRecord>> RecordRepository::recent(const RecordFilter &f) const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral(
        "SELECT id, created_at, ip, method, path, model, stream, COALESCE(upstream_id, 0), COALESCE(status, 0), "
        "ttfb_ms, "
        "duration_ms, COALESCE(elapsed_time, 0), attempts, attempt_log, request_bytes, response_bytes, prompt_tokens, "
        "completion_tokens, total_tokens, outcome, error, user_agent, body, response, client_token, cached_tokens, "
        "cache_write_tokens, reasoning_tokens, session, converted, upstream_model, app_token_id, client_app, cost_usd "
        "FROM records WHERE (? = 0 OR id < ?) AND (? = 0 OR upstream_id = ?) AND (? = 0 OR status = ?) "
        "AND (? = '' OR model = ?) ORDER BY id DESC LIMIT ?"));
    q.addBindValue(f.beforeId);
    q.addBindValue(f.beforeId);
    q.addBindValue(f.upstreamId);
    q.addBindValue(f.upstreamId);
    q.addBindValue(f.status);
    q.addBindValue(f.status);
    q.addBindValue(notNull(f.model));
    q.addBindValue(notNull(f.model));
    q.addBindValue(f.limit);
    if (!q.exec())
        return std::nullopt;
    QList<RequestRecord> out;
    while (q.next()) {
        RequestRecord r;
        r.id = q.value(0).toLongLong();
        r.createdAt = DbTime::parse(q.value(1));
        r.clientIp = q.value(2).toString();
        r.method = q.value(3).toString();
        r.path = q.value(4).toString();
        r.model = q.value(5).toString();
        r.stream = q.value(6).toInt() != 0;
        r.upstreamId = q.value(7).toLongLong();
        r.status = q.value(8).toInt();
        r.ttfbMs = q.value(9).toLongLong();
        r.durationMs = q.value(10).toLongLong();
        if (r.durationMs == 0) // a row of the Go tool
            r.durationMs = q.value(11).toLongLong() / 1000000;
        r.attempts = q.value(12).toInt();
        r.attemptLog = q.value(13).toString();
        r.requestBytes = q.value(14).toLongLong();
        r.responseBytes = q.value(15).toLongLong();
        r.promptTokens = q.value(16).toInt();
        r.completionTokens = q.value(17).toInt();
        r.totalTokens = q.value(18).toInt();
        r.outcome = Vocabulary::parseOutcome(q.value(19).toString()).value_or(Outcome::Failed);
        r.error = q.value(20).toString();
        r.userAgent = q.value(21).toString();
        r.body = q.value(22).toString();
        r.response = q.value(23).toString();
        r.clientTokenId = q.value(24).toInt();
        r.cachedTokens = q.value(25).toInt();
        r.cacheWriteTokens = q.value(26).toInt();
        r.reasoningTokens = q.value(27).toInt();
        r.session = q.value(28).toString();
        r.converted = q.value(29).toInt() != 0;
        r.upstreamModel = q.value(30).toString();
        r.appTokenId = q.value(31).toLongLong();
        r.clientApp = q.value(32).toString();
        r.costUsd = q.value(33).toDouble();
        out << r;
    }
    return out;
}

std::optional<QList<UpstreamStats>> RecordRepository::stats(const QDateTime &since) const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT COALESCE(upstream_id, 0), COALESCE(status, 0), outcome, ttfb_ms, prompt_tokens, "
                             "completion_tokens FROM records WHERE created_at >= ?"));
    q.addBindValue(DbTime::format(since));
    if (!q.exec())
        return std::nullopt;
    QHash<qint64, UpstreamStats> byUpstream;
    QHash<qint64, QList<qint64>> ttfbs;
    while (q.next()) {
        const qint64 id = q.value(0).toLongLong();
        UpstreamStats &s = byUpstream[id];
        s.upstreamId = id;
        ++s.requests;
        const int status = q.value(1).toInt();
        const QString outcome = q.value(2).toString();
        if (status >= 400 || (!outcome.isEmpty() && outcome != QLatin1String("complete")))
            ++s.errors;
        ++s.outcomes[outcome.isEmpty() ? QStringLiteral("unknown") : outcome];
        if (status > 0 && status < 400)
            ttfbs[id] << q.value(3).toLongLong();
        s.promptTokens += q.value(4).toLongLong();
        s.completionTokens += q.value(5).toLongLong();
    }
    QList<UpstreamStats> out;
    for (auto it = byUpstream.begin(); it != byUpstream.end(); ++it) {
        QList<qint64> &t = ttfbs[it.key()];
        std::sort(t.begin(), t.end());
        if (!t.isEmpty()) {
            // Nearest rank.
            it->ttfbP50Ms = t[qMin<qsizetype>(t.size() - 1, (t.size() * 50 + 99) / 100 - 1)];
            it->ttfbP95Ms = t[qMin<qsizetype>(t.size() - 1, (t.size() * 95 + 99) / 100 - 1)];
        }
        out << *it;
    }
    std::sort(out.begin(), out.end(),
        [](const UpstreamStats &a, const UpstreamStats &b) { return a.upstreamId < b.upstreamId; });
    return out;
}

int RecordRepository::prune(int maxAgeDays, qint64 maxRows)
{
    int removed = 0;
    QSqlQuery q(m_db);
    if (maxAgeDays > 0) {
        q.prepare(QStringLiteral("DELETE FROM records WHERE created_at < ?"));
        q.addBindValue(DbTime::format(QDateTime::currentDateTimeUtc().addDays(-maxAgeDays)));
        if (q.exec())
            removed += q.numRowsAffected();
    }
    if (maxRows > 0) {
        q.prepare(QStringLiteral(
            "DELETE FROM records WHERE id <= (SELECT id FROM records ORDER BY id DESC LIMIT 1 OFFSET ?)"));
        q.addBindValue(maxRows);
        if (q.exec())
            removed += q.numRowsAffected();
    }
    return removed;
}

std::optional<QList<UsageRow>> RecordRepository::usage(
    const QDate &from, const QDate &to, UsageBy by, QString *error) const
{
    return usageRows(from, to, by, false, error);
}

std::optional<QList<UsageRow>> RecordRepository::usagePerDay(
    const QDate &from, const QDate &to, UsageBy by, QString *error) const
{
    return usageRows(from, to, by, true, error);
}

std::optional<QList<UsageRow>> RecordRepository::usageRows(
    const QDate &from, const QDate &to, UsageBy by, bool perDay, QString *error) const
{
    const QString day = QStringLiteral("substr(CAST(created_at AS TEXT), 1, 10)");
    // The day is the first ten characters of the stored time, which is UTC
    // in both databases' text form.
    QString key;
    switch (by) {
    case UsageBy::Day: key = day; break;
    case UsageBy::Token: key = QStringLiteral("CAST(app_token_id AS TEXT)"); break;
    case UsageBy::App: key = QStringLiteral("client_app"); break;
    case UsageBy::Upstream: key = QStringLiteral("CAST(COALESCE(upstream_id, 0) AS TEXT)"); break;
    case UsageBy::Model:
        key = QStringLiteral("CASE WHEN upstream_model <> '' THEN upstream_model ELSE model END");
        break;
    }
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT %1 AS k, COUNT(*), "
                       "SUM(CASE WHEN COALESCE(status, 0) >= 400 OR outcome <> 'complete' THEN 1 ELSE 0 END), "
                       "SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens), SUM(cost_usd), %2 AS d "
                       "FROM records WHERE created_at >= ? AND created_at < ? GROUP BY %3 ORDER BY %3")
            .arg(key, perDay ? day : QStringLiteral("''"), perDay ? QStringLiteral("d, k") : QStringLiteral("k")));
    q.addBindValue(DbTime::format(QDateTime(from, QTime(0, 0), Qt::UTC)));
    q.addBindValue(DbTime::format(QDateTime(to.addDays(1), QTime(0, 0), Qt::UTC)));
    if (!q.exec()) {
        if (error)
            *error = q.lastError().text();
        return std::nullopt;
    }
    QList<UsageRow> out;
    while (q.next())
        out << UsageRow{q.value(7).toString(), q.value(0).toString(), q.value(1).toLongLong(), q.value(2).toLongLong(),
            q.value(3).toLongLong(), q.value(4).toLongLong(), q.value(5).toLongLong(), q.value(6).toDouble()};
    return out;
}

qint64 RecordRepository::recomputeCosts(const PriceTable &prices, QString *error)
{
    // In batches by id, each in one transaction, so a million records do
    // not hold one lock for the whole run.
    constexpr int batch = 5000;
    qint64 lastId = 0;
    qint64 read = 0;
    QSqlQuery select(m_db);
    QSqlQuery update(m_db);
    update.prepare(QStringLiteral("UPDATE records SET cost_usd = ? WHERE id = ?"));
    for (;;) {
        select.prepare(QStringLiteral(
            "SELECT id, CASE WHEN upstream_model <> '' THEN upstream_model ELSE model END, prompt_tokens, "
            "cached_tokens, cache_write_tokens, completion_tokens, cost_usd FROM records WHERE id > ? ORDER BY id "
            "LIMIT ?"));
        select.addBindValue(lastId);
        select.addBindValue(batch);
        if (!select.exec()) {
            if (error)
                *error = select.lastError().text();
            return -1;
        }
        QList<std::pair<qint64, double>> changes;
        int rows = 0;
        while (select.next()) {
            ++rows;
            lastId = select.value(0).toLongLong();
            const double cost
                = prices
                      .cost(select.value(1).toString(), select.value(2).toLongLong(), select.value(3).toLongLong(),
                          select.value(4).toLongLong(), select.value(5).toLongLong())
                      .value_or(0);
            if (qAbs(cost - select.value(6).toDouble()) > 1e-12)
                changes.append({lastId, cost});
        }
        select.finish();
        read += rows;
        if (!changes.isEmpty()) {
            m_db.transaction();
            for (const auto &[id, cost] : std::as_const(changes)) {
                update.addBindValue(cost);
                update.addBindValue(id);
                if (!update.exec()) {
                    if (error)
                        *error = update.lastError().text();
                    m_db.rollback();
                    return -1;
                }
            }
            m_db.commit();
        }
        if (rows < batch)
            return read;
    }
}

} // namespace route
