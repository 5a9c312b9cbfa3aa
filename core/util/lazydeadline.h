#pragma once

#include <QBasicTimer>
#include <QObject>

#include "util/monotonic.h"

#include <climits>

namespace route {

// A deadline that moves far more often than it expires: a connection's
// header and keep-alive timeouts, an exchange's wait for headers and its
// idle gap between stream events. Moving it later only writes a field; the
// timer is restarted only when the deadline comes earlier than the timer
// would fire. When the timer fires early, it re-arms itself for the rest.
// Restarting a QBasicTimer per move cost a timer registration and
// unregistration each time, four per request.
class LazyDeadline
{
public:
    // Due in `ms` from now; the receiver gets the timer events.
    void armIn(qint64 ms, QObject *receiver)
    {
        const qint64 now = Monotonic::nowMs();
        m_dueMs = now + ms;
        if (!m_timer.isActive() || m_timerDueMs > m_dueMs)
            startUntil(m_dueMs, now, receiver);
    }
    // No deadline; the timer may still fire once, and then stops.
    void disarm() { m_dueMs = -1; }
    void stop()
    {
        m_dueMs = -1;
        m_timer.stop();
    }
    bool isArmed() const { return m_dueMs >= 0; }
    int timerId() const { return m_timer.timerId(); }

    // For the receiver's timerEvent with timerId(): true when the deadline
    // has passed (it is then disarmed), false when it moved on or was
    // disarmed (the timer re-armed or stopped).
    bool fire(QObject *receiver)
    {
        m_timer.stop();
        if (m_dueMs < 0)
            return false;
        const qint64 now = Monotonic::nowMs();
        if (m_dueMs > now) {
            startUntil(m_dueMs, now, receiver);
            return false;
        }
        m_dueMs = -1;
        return true;
    }

private:
    void startUntil(qint64 dueMs, qint64 now, QObject *receiver)
    {
        m_timer.start(int(qBound<qint64>(0, dueMs - now, qint64(INT_MAX))), receiver);
        m_timerDueMs = dueMs;
    }

    QBasicTimer m_timer;
    qint64 m_dueMs = -1;
    qint64 m_timerDueMs = -1;
};

} // namespace route
