// The limits of app tokens (SPEC §11) on their own: UTC days and months,
// the RPM window on an injected clock, free models and seeding.
#include "limits/applimits.h"
#include "util/clock.h"

#include <QtTest>

using namespace route; // test code reads like code inside the project

class TestAppLimits : public QObject
{
    Q_OBJECT

    static QDateTime utc(int y, int m, int d, int h = 0, int min = 0, int s = 0, int ms = 0)
    {
        return QDateTime(QDate(y, m, d), QTime(h, min, s, ms), Qt::UTC);
    }
    static AppToken token(qint64 id)
    {
        AppToken t;
        t.id = id;
        t.name = QStringLiteral("t%1").arg(id);
        return t;
    }
    using V = AppLimits::Verdict;

private Q_SLOTS:
    // Daily tokens start again at 00:00 UTC, whatever the local zone; the
    // last millisecond of a day still counts toward it.
    void dailyTokensStartAgainAtUtcMidnight()
    {
        AppLimits limits;
        AppToken t = token(1);
        t.dailyTokenLimit = 100;
        limits.spent(1, 100, 0, utc(2026, 3, 1, 23, 59, 59, 999));
        QCOMPARE(
            limits.admit(t, QStringLiteral("m"), false, utc(2026, 3, 1, 23, 59, 59, 999)).verdict, V::TokensExhausted);
        // The same instant written in UTC+8 is still that UTC day.
        const QDateTime beijing = utc(2026, 3, 1, 23, 59, 59, 999).toOffsetFromUtc(8 * 3600);
        QCOMPARE(limits.admit(t, QStringLiteral("m"), false, beijing).verdict, V::TokensExhausted);
        QCOMPARE(limits.admit(t, QStringLiteral("m"), false, utc(2026, 3, 2)).verdict, V::Admitted);
        QCOMPARE(limits.spendOf(1, utc(2026, 3, 2)).tokensToday, qint64(0));
    }

    // The month's spend survives the change of day and goes at the change
    // of month, the year's too.
    void budgetLastsTheUtcMonth()
    {
        AppLimits limits;
        AppToken t = token(2);
        t.monthlyBudgetUsd = 1.0;
        limits.spent(2, 10, 0.6, utc(2026, 12, 3));
        limits.spent(2, 10, 0.5, utc(2026, 12, 30)); // a later day of the same month
        QCOMPARE(limits.spendOf(2, utc(2026, 12, 31, 23)).costThisMonthUsd, 1.1);
        QCOMPARE(limits.spendOf(2, utc(2026, 12, 31, 23)).tokensToday, qint64(0));
        QCOMPARE(limits.admit(t, QStringLiteral("m"), false, utc(2026, 12, 31, 23)).verdict, V::BudgetExhausted);
        // A model priced at 0 is never stopped by a money budget.
        QCOMPARE(limits.admit(t, QStringLiteral("free"), true, utc(2026, 12, 31, 23)).verdict, V::Admitted);
        QCOMPARE(limits.admit(t, QStringLiteral("m"), false, utc(2027, 1, 1)).verdict, V::Admitted);
        QCOMPARE(limits.spendOf(2, utc(2027, 1, 1)).costThisMonthUsd, 0.0);
    }

    // Requests per minute in a sliding window: the oldest admission leaves
    // it 60 s later, and Retry-After says when.
    void rpmIsASlidingMinute()
    {
        ManualClock clock;
        AppLimits limits(&clock);
        AppToken t = token(3);
        t.rpm = 2;
        const QDateTime now = utc(2026, 6, 1, 12);
        QVERIFY(limits.admit(t, QStringLiteral("m"), false, now).admitted());
        clock.advance(20000);
        QVERIFY(limits.admit(t, QStringLiteral("m"), false, now).admitted());
        const AppLimits::Admission third = limits.admit(t, QStringLiteral("m"), false, now);
        QCOMPARE(third.verdict, V::RpmExceeded);
        QCOMPARE(third.retryAfterMs, qint64(40000));
        clock.advance(40000); // the first one has left the minute
        QVERIFY(limits.admit(t, QStringLiteral("m"), false, now).admitted());
        QCOMPARE(limits.admit(t, QStringLiteral("m"), false, now).verdict, V::RpmExceeded);
    }

    // The allow list is checked first and counts nothing.
    void aModelOutsideTheAllowListIsRefused()
    {
        AppLimits limits;
        AppToken t = token(4);
        t.allow = {QStringLiteral("gpt-4o-mini"), QStringLiteral("claude-haiku*")};
        t.rpm = 1;
        QCOMPARE(limits.admit(t, QStringLiteral("gpt-4o"), false, utc(2026, 1, 1)).verdict, V::ModelNotAllowed);
        QVERIFY(limits.admit(t, QStringLiteral("claude-haiku-4-5"), false, utc(2026, 1, 1)).admitted());
    }

    // Seeding from the records replaces what was counted, for that day
    // and month.
    void seedingReplacesTheCount()
    {
        AppLimits limits;
        limits.spent(5, 50, 0.2, utc(2026, 5, 5));
        limits.seed({{5, TokenSpend{7, 0.03}}}, utc(2026, 5, 5));
        QCOMPARE(limits.spendOf(5, utc(2026, 5, 5)).tokensToday, qint64(7));
        QCOMPARE(limits.spendOf(5, utc(2026, 5, 5)).costThisMonthUsd, 0.03);
        QCOMPARE(limits.spendOf(6, utc(2026, 5, 5)).tokensToday, qint64(0)); // never seen
    }
};

QTEST_GUILESS_MAIN(TestAppLimits)
#include "tst_applimits.moc"
