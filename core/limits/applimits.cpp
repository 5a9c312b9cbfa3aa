#include "limits/applimits.h"

#include "util/clock.h"

namespace route {

namespace {

constexpr qint64 minuteMs = 60 * 1000;

int monthOf(const QDate &d)
{
    return d.year() * 12 + d.month();
}

} // namespace

AppLimits::AppLimits(const Clock *clock) : m_clock(clock ? clock : &Clock::system())
{ }

void AppLimits::rollOver(Counter &c, const QDateTime &nowUtc) const
{
    // The UTC day as a number first: the calendar date (and so the month)
    // is worked out only when the day changes, not twice per request.
    constexpr qint64 msPerDay = 24 * 3600 * 1000;
    const qint64 ms = nowUtc.toMSecsSinceEpoch();
    const qint64 day = ms >= 0 ? ms / msPerDay : -((-ms + msPerDay - 1) / msPerDay);
    if (c.dayNumber == day)
        return;
    c.dayNumber = day;
    c.tokensToday = 0;
    const int month = monthOf(QDate(1970, 1, 1).addDays(day));
    if (c.month != month) {
        c.month = month;
        c.costThisMonth = 0;
    }
}

AppLimits::Admission AppLimits::admit(const AppToken &token, const QString &model, bool free, const QDateTime &nowUtc)
{
    if (!token.allowsModel(model))
        return {Verdict::ModelNotAllowed, 0};
    QMutexLocker lock(&m_mutex);
    Counter &c = m_counters[token.id];
    rollOver(c, nowUtc);
    if (token.dailyTokenLimit > 0 && c.tokensToday >= token.dailyTokenLimit)
        return {Verdict::TokensExhausted, 0};
    if (token.monthlyBudgetUsd > 0 && !free && c.costThisMonth >= token.monthlyBudgetUsd)
        return {Verdict::BudgetExhausted, 0};
    if (token.rpm > 0) {
        const qint64 now = m_clock->monotonicMs();
        while (!c.minute.empty() && c.minute.front() <= now - minuteMs)
            c.minute.pop_front();
        if (qsizetype(c.minute.size()) >= token.rpm)
            return {Verdict::RpmExceeded, c.minute.front() + minuteMs - now};
        c.minute.push_back(now);
    }
    return {};
}

void AppLimits::spent(qint64 token, qint64 tokens, double costUsd, const QDateTime &nowUtc)
{
    QMutexLocker lock(&m_mutex);
    Counter &c = m_counters[token];
    rollOver(c, nowUtc);
    c.tokensToday += tokens;
    c.costThisMonth += costUsd;
}

TokenSpend AppLimits::spendOf(qint64 token, const QDateTime &nowUtc) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_counters.find(token);
    if (it == m_counters.end())
        return {};
    rollOver(*it, nowUtc);
    return {it->tokensToday, it->costThisMonth};
}

void AppLimits::seed(const QHash<qint64, TokenSpend> &spend, const QDateTime &nowUtc)
{
    QMutexLocker lock(&m_mutex);
    for (auto it = spend.cbegin(); it != spend.cend(); ++it) {
        Counter &c = m_counters[it.key()];
        rollOver(c, nowUtc);
        c.tokensToday = it->tokensToday;
        c.costThisMonth = it->costThisMonthUsd;
    }
}

} // namespace route
