#pragma once

#include "domain/apptoken.h"
#include "limits/applimits.h"
#include "store/database.h"

#include <QObject>
#include <QThread>

#include <functional>
#include <memory>

namespace route {

// App-token limits counted in PostgreSQL for a team of instances (SPEC
// §12): N instances must not allow N times a token's RPM, nor each its own
// day's tokens and month's budget. Every check is one transaction on a
// thread of its own (never on a network worker): the RPM window under an
// advisory lock per token, the day's and month's spend read from the table
// that every instance adds to with one atomic statement. The database's
// clock is the team's clock. When PostgreSQL cannot answer, the check falls
// back to this instance's own count (serving beats refusing).
class SharedLimits final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SharedLimits)
public:
    explicit SharedLimits(const DatabaseConfig &database, AppLimits *local);
    ~SharedLimits() override;

    bool start(QString *error);

    using Done = std::function<void(AppLimits::Admission)>;
    // Thread-safe. DONE runs on the thread of CONTEXT, which must outlive
    // the call (a worker's own long-lived object; DONE checks its exchange).
    void admit(const AppToken &token, const QString &model, bool free, QObject *context, Done done);
    // Thread-safe; the spend of a finished request, added atomically.
    void spent(qint64 token, qint64 tokens, double costUsd);

private:
    AppLimits::Admission check(const AppToken &token, const QString &model, bool free);
    void add(qint64 token, qint64 tokens, double costUsd);

    DatabaseConfig m_database;
    AppLimits *m_local;
    QThread m_thread;
    QObject *m_worker = nullptr; // lives on m_thread; the calls run in its context
    std::shared_ptr<DbConnection> m_conn; // m_thread's only
};

} // namespace route
