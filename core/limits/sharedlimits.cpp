#include "limits/sharedlimits.h"

#include "util/logging.h"

#include <QSqlError>
#include <QSqlQuery>

namespace route {

namespace {

// The first key of the advisory lock of a token's RPM window ("rpm" + 0).
constexpr int rpmLockSpace = 0x72706d00;

} // namespace

SharedLimits::SharedLimits(const DatabaseConfig &database, AppLimits *local) : m_database(database), m_local(local)
{
    m_thread.setObjectName(QStringLiteral("route-limits"));
}

SharedLimits::~SharedLimits()
{
    if (m_thread.isRunning()) {
        QMetaObject::invokeMethod(
            m_worker, [this] { m_conn.reset(); }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    delete m_worker;
}

bool SharedLimits::start(QString *error)
{
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    m_thread.start();
    QString why;
    QMetaObject::invokeMethod(
        m_worker,
        [this, &why] {
            auto conn = DbConnection::open(m_database, QStringLiteral("limits-shared"));
            if (conn)
                m_conn = conn.take();
            else
                why = conn.error();
        },
        Qt::BlockingQueuedConnection);
    if (!why.isEmpty() && error)
        *error = why;
    return why.isEmpty();
}

void SharedLimits::admit(const AppToken &token, const QString &model, bool free, QObject *context, Done done)
{
    if (!token.allowsModel(model)) {
        done({AppLimits::Verdict::ModelNotAllowed, 0});
        return;
    }
    QMetaObject::invokeMethod(
        m_worker,
        [this, token, model, free, context, done = std::move(done)] {
            const AppLimits::Admission a = check(token, model, free);
            QMetaObject::invokeMethod(
                context, [done, a] { done(a); }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void SharedLimits::spent(qint64 token, qint64 tokens, double costUsd)
{
    QMetaObject::invokeMethod(
        m_worker, [this, token, tokens, costUsd] { add(token, tokens, costUsd); }, Qt::QueuedConnection);
}

// One transaction: the day's tokens and the month's cost as every instance
// added them, then the RPM window (admissions of the last minute by the
// database's clock) under the token's advisory lock, so that two instances
// cannot both take the last place.
AppLimits::Admission SharedLimits::check(const AppToken &token, const QString &model, bool free)
{
    const auto fallBack = [&](const QString &why) {
        qCWarning(lcProxy) << "app token limits counted here only:" << why;
        return m_local->admit(token, model, free, QDateTime::currentDateTimeUtc());
    };
    if (!m_conn || !m_conn->ensureOpen())
        return fallBack(QStringLiteral("the database is away"));
    QSqlDatabase &db = m_conn->db();
    if (!db.transaction())
        return fallBack(db.lastError().text());
    const auto finish = [&db](AppLimits::Admission a) {
        db.commit();
        return a;
    };
    QSqlQuery q(db);
    if (token.dailyTokenLimit > 0 || (token.monthlyBudgetUsd > 0 && !free)) {
        q.prepare(
            QStringLiteral("SELECT COALESCE(SUM(tokens) FILTER (WHERE day = (now() AT TIME ZONE 'UTC')::date), 0), "
                           "COALESCE(SUM(cost_usd), 0) FROM route_token_spend WHERE token_id = ? "
                           "AND day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date"));
        q.addBindValue(token.id);
        if (!q.exec() || !q.next()) {
            db.rollback();
            return fallBack(q.lastError().text());
        }
        if (token.dailyTokenLimit > 0 && q.value(0).toLongLong() >= token.dailyTokenLimit)
            return finish({AppLimits::Verdict::TokensExhausted, 0});
        if (token.monthlyBudgetUsd > 0 && !free && q.value(1).toDouble() >= token.monthlyBudgetUsd)
            return finish({AppLimits::Verdict::BudgetExhausted, 0});
    }
    if (token.rpm > 0) {
        const bool counted = q.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1, %2)")
                                        .arg(rpmLockSpace)
                                        .arg(qint32(token.id & 0x7fffffff)))
            && q.exec(QStringLiteral("DELETE FROM route_token_admissions WHERE token_id = %1 "
                                     "AND at <= now() - interval '1 minute'")
                          .arg(token.id))
            && q.exec(QStringLiteral("SELECT count(*), COALESCE(EXTRACT(EPOCH FROM (min(at) + interval '1 minute' - "
                                     "now())) * 1000, 0) FROM route_token_admissions WHERE token_id = %1")
                          .arg(token.id))
            && q.next();
        if (!counted) {
            db.rollback();
            return fallBack(q.lastError().text());
        }
        if (q.value(0).toLongLong() >= token.rpm)
            return finish({AppLimits::Verdict::RpmExceeded, qMax<qint64>(0, qint64(q.value(1).toDouble()))});
        if (!q.exec(
                QStringLiteral("INSERT INTO route_token_admissions (token_id, at) VALUES (%1, now())").arg(token.id))) {
            db.rollback();
            return fallBack(q.lastError().text());
        }
    }
    return finish({});
}

void SharedLimits::add(qint64 token, qint64 tokens, double costUsd)
{
    if (!m_conn || !m_conn->ensureOpen())
        return; // the record still has it; the count here is this instance's
    QSqlQuery q(m_conn->db());
    q.prepare(QStringLiteral(
        "INSERT INTO route_token_spend (token_id, day, tokens, cost_usd) VALUES (?, (now() AT TIME ZONE 'UTC')::date, "
        "?, ?) ON CONFLICT (token_id, day) DO UPDATE SET tokens = route_token_spend.tokens + excluded.tokens, "
        "cost_usd = route_token_spend.cost_usd + excluded.cost_usd"));
    q.addBindValue(token);
    q.addBindValue(tokens);
    q.addBindValue(costUsd);
    if (!q.exec())
        qCWarning(lcProxy) << "cannot add the spend of app token" << token << q.lastError().text();
}

} // namespace route
