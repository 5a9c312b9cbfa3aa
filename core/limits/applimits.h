#pragma once

#include "domain/apptoken.h"

#include <QDate>
#include <QHash>
#include <QMutex>

#include <deque>
#include <limits>

namespace route {

class Clock;

// The limits of app tokens (SPEC §11), counted in memory so that checking
// one costs no SQL on the request path. Thread-safe: every check and count
// is one step under one lock, so 20 parallel requests on a 10 RPM token let
// exactly 10 through. Spend is seeded from the records at start and counted
// as requests finish; a running stream is never cut, the next request is
// refused. Days and months are UTC, as the providers bill them.
class AppLimits
{
public:
    enum class Verdict { Admitted, ModelNotAllowed, RpmExceeded, TokensExhausted, BudgetExhausted };
    struct Admission
    {
        Verdict verdict = Verdict::Admitted;
        qint64 retryAfterMs = 0; // RpmExceeded: when the oldest request of the minute leaves it
        bool admitted() const { return verdict == Verdict::Admitted; }
    };

    explicit AppLimits(const Clock *clock = nullptr);

    // Whether TOKEN may send a request for MODEL now; an admitted request
    // counts toward the RPM at once. FREE: the model is priced at 0, which
    // a money budget never blocks.
    Admission admit(const AppToken &token, const QString &model, bool free, const QDateTime &nowUtc);
    // What a finished request of TOKEN cost.
    void spent(qint64 token, qint64 tokens, double costUsd, const QDateTime &nowUtc);
    // Spend so far today and this month (zero after a rollover).
    TokenSpend spendOf(qint64 token, const QDateTime &nowUtc) const;
    // The spend found in the records (replaces what is counted).
    void seed(const QHash<qint64, TokenSpend> &spend, const QDateTime &nowUtc);

private:
    struct Counter
    {
        std::deque<qint64> minute; // admission times (monotonic ms) within the last minute
        qint64 dayNumber = std::numeric_limits<qint64>::min(); // the UTC day tokensToday counts, since 1970-01-01
        int month = 0; // year * 12 + month of costThisMonth
        qint64 tokensToday = 0;
        double costThisMonth = 0;
    };
    void rollOver(Counter &c, const QDateTime &nowUtc) const;

    const Clock *m_clock;
    mutable QMutex m_mutex;
    mutable QHash<qint64, Counter> m_counters;
};

} // namespace route
