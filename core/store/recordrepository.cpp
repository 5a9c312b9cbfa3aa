#include "store/recordrepository.h"

#include "store/database.h"

#include <QSqlError>
#include <QSqlQuery>

bool RecordRepository::insert(const QList<RequestRecord> &records, QString *error)
{
    if (records.isEmpty())
        return true;
    if (!m_db.transaction()) {
        if (error)
            *error = m_db.lastError().text();
        return false;
    }
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral(
        "INSERT INTO records (upstream_id, created_at, ip, body, response, elapsed_time, status, method, path, model, "
        "stream, ttfb_ms, duration_ms, attempts, attempt_log, request_bytes, response_bytes, prompt_tokens, "
        "completion_tokens, total_tokens, outcome, error, user_agent) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const RequestRecord &r : records) {
        q.addBindValue(r.upstreamId);
        q.addBindValue(DbTime::format(r.createdAt));
        q.addBindValue(notNull(r.clientIp));
        q.addBindValue(notNull(r.body));
        q.addBindValue(notNull(r.response));
        q.addBindValue(r.durationMs * 1000000); // the Go tool's time.Duration, in ns
        q.addBindValue(r.status);
        q.addBindValue(notNull(r.method));
        q.addBindValue(notNull(r.path));
        q.addBindValue(notNull(r.model));
        q.addBindValue(r.stream ? 1 : 0);
        q.addBindValue(r.ttfbMs);
        q.addBindValue(r.durationMs);
        q.addBindValue(r.attempts);
        q.addBindValue(notNull(r.attemptLog));
        q.addBindValue(r.requestBytes);
        q.addBindValue(r.responseBytes);
        q.addBindValue(r.promptTokens);
        q.addBindValue(r.completionTokens);
        q.addBindValue(r.totalTokens);
        q.addBindValue(notNull(r.outcome));
        q.addBindValue(notNull(r.error));
        q.addBindValue(notNull(r.userAgent));
        if (!q.exec()) {
            if (error)
                *error = q.lastError().text();
            m_db.rollback();
            return false;
        }
    }
    if (!m_db.commit()) {
        if (error)
            *error = m_db.lastError().text();
        m_db.rollback();
        return false;
    }
    return true;
}

std::optional<QList<RequestRecord>> RecordRepository::recent(int limit, qint64 beforeId) const
{
    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral(
        "SELECT id, created_at, ip, method, path, model, stream, COALESCE(upstream_id, 0), COALESCE(status, 0), "
        "ttfb_ms, "
        "duration_ms, COALESCE(elapsed_time, 0), attempts, attempt_log, request_bytes, response_bytes, prompt_tokens, "
        "completion_tokens, total_tokens, outcome, error, user_agent, body, response "
        "FROM records WHERE (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?"));
    q.addBindValue(beforeId);
    q.addBindValue(beforeId);
    q.addBindValue(limit);
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
        r.outcome = q.value(19).toString();
        r.error = q.value(20).toString();
        r.userAgent = q.value(21).toString();
        r.body = q.value(22).toString();
        r.response = q.value(23).toString();
        out << r;
    }
    return out;
}
