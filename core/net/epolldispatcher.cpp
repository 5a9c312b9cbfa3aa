#include "net/epolldispatcher.h"

#include "util/monotonic.h"

#include <QAbstractEventDispatcher>
#include <QThread>

#ifdef Q_OS_LINUX
#include "util/logging.h"

#include <QCoreApplication>
#include <QHash>
#include <QSocketNotifier>
#include <QTimerEvent>
#include <QVarLengthArray>

#include <atomic>
#include <cerrno>
#include <climits>
#include <set>
#include <utility>
#include <vector>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#endif

namespace route {

void useNetworkEventDispatcher(QThread *thread)
{
    if (thread->eventDispatcher())
        return;
    if (QAbstractEventDispatcher *dispatcher = createNetworkEventDispatcher())
        thread->setEventDispatcher(dispatcher);
}

#ifdef Q_OS_LINUX

namespace {

constexpr quint32 wakeTag = 0xffffffffu;
constexpr int maxEventsPerTurn = 256;

class EpollDispatcher final : public QAbstractEventDispatcher
{
public:
    EpollDispatcher(int epollFd, int wakeFd) : m_epoll(epollFd), m_wake(wakeFd) { }
    ~EpollDispatcher() override
    {
        ::close(m_wake);
        ::close(m_epoll);
    }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;
    void startingUp() override { m_owner.store(QThread::currentThreadId(), std::memory_order_release); }

private:
    // The notifiers of one descriptor and what epoll watches for it.
    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        quint32 armed = 0; // events epoll has for the descriptor now
        quint32 generation = 0; // tells events of an earlier user of the descriptor apart
        bool dirty = false;

        bool isEmpty() const { return !read && !write && !exception; }
        quint32 wanted() const
        {
            return (read ? quint32(EPOLLIN) : 0u) | (write ? quint32(EPOLLOUT) : 0u)
                | (exception ? quint32(EPOLLPRI) : 0u);
        }
    };
    struct Timer
    {
        QObject *object = nullptr;
        qint64 intervalMs = 0;
        qint64 deadlineNs = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        bool firing = false;
    };

    void applyChanges();
    bool control(int fd, Watch &watch, quint32 events);
    int waitTimeoutMs() const;
    int dispatchSockets(const epoll_event *events, int count);
    void activate(int fd, quint32 generation, QSocketNotifier *Watch::*slot);
    int activateTimers();
    void schedule(int timerId, Timer &timer, qint64 deadlineNs);
    void drainWakeUps();

    const int m_epoll;
    const int m_wake;
    std::atomic<bool> m_wakePending{false};
    std::atomic<bool> m_interrupted{false};
    std::atomic<Qt::HANDLE> m_owner{nullptr};
    bool m_postedHere = false; // owner thread only
    quint32 m_nextGeneration = 1;
    QHash<int, Watch> m_watches;
    std::vector<int> m_dirty;
    QHash<int, Timer> m_timers;
    std::set<std::pair<qint64, int>> m_queue; // (deadline, timer id), soonest first
};

bool EpollDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false, std::memory_order_relaxed);
    Q_EMIT awake();
    m_postedHere = false;
    QCoreApplication::sendPostedEvents();

    const bool mayWait
        = (flags & QEventLoop::WaitForMoreEvents) && !m_postedHere && !m_interrupted.load(std::memory_order_relaxed);
    if (mayWait)
        Q_EMIT aboutToBlock();
    if (m_interrupted.load(std::memory_order_relaxed))
        return false;

    applyChanges();
    epoll_event events[maxEventsPerTurn];
    int count = ::epoll_wait(m_epoll, events, maxEventsPerTurn, mayWait ? waitTimeoutMs() : 0);
    if (count < 0) {
        if (errno != EINTR)
            qCWarning(lcEngine, "epoll_wait failed: %s", strerror(errno));
        count = 0;
    }
    int handled = 0;
    if (!(flags & QEventLoop::ExcludeSocketNotifiers))
        handled += dispatchSockets(events, count);
    else
        for (int i = 0; i < count; ++i)
            if (events[i].data.u64 == wakeTag)
                drainWakeUps();
    if (!(flags & QEventLoop::X11ExcludeTimers))
        handled += activateTimers();
    return handled > 0;
}

void EpollDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    Watch &watch = m_watches[fd];
    switch (notifier->type()) {
    case QSocketNotifier::Read: watch.read = notifier; break;
    case QSocketNotifier::Write: watch.write = notifier; break;
    case QSocketNotifier::Exception: watch.exception = notifier; break;
    }
    // Applied just before the next wait: QAbstractSocket switches its write
    // notifier on and off around most writes, often within one turn.
    if (!watch.dirty) {
        watch.dirty = true;
        m_dirty.push_back(fd);
    }
}

void EpollDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    auto it = m_watches.find(fd);
    if (it == m_watches.end())
        return;
    for (QSocketNotifier *Watch::*slot : {&Watch::read, &Watch::write, &Watch::exception})
        if ((*it).*slot == notifier)
            (*it).*slot = nullptr;
    if (it->isEmpty()) {
        // At once, not lazily: the descriptor is likely about to be closed,
        // and a new socket may get the same number before the next wait.
        if (it->armed)
            ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
        m_watches.erase(it);
        return;
    }
    if (!it->dirty) {
        it->dirty = true;
        m_dirty.push_back(fd);
    }
}

void EpollDispatcher::applyChanges()
{
    for (int fd : m_dirty) {
        auto it = m_watches.find(fd);
        if (it == m_watches.end() || !it->dirty)
            continue;
        it->dirty = false;
        const quint32 wanted = it->wanted();
        if (wanted != it->armed && !control(fd, *it, wanted))
            qCWarning(lcEngine, "cannot watch socket %d: %s", fd, strerror(errno));
    }
    m_dirty.clear();
}

bool EpollDispatcher::control(int fd, Watch &watch, quint32 events)
{
    if (events == 0) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
        watch.armed = 0;
        return true;
    }
    if (watch.armed == 0)
        watch.generation = m_nextGeneration++ & 0x7fffffffu;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = (quint64(watch.generation) << 32) | quint32(fd);
    int rc = ::epoll_ctl(m_epoll, watch.armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (rc < 0 && errno == ENOENT) // closed and reopened behind our back
        rc = ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    else if (rc < 0 && errno == EEXIST)
        rc = ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev);
    watch.armed = rc == 0 ? events : 0;
    return rc == 0;
}

int EpollDispatcher::waitTimeoutMs() const
{
    if (m_queue.empty())
        return -1;
    const qint64 left = m_queue.begin()->first - Monotonic::nowNs();
    if (left <= 0)
        return 0;
    const qint64 ms = (left + 999999) / 1000000; // never wake before the deadline
    return ms > INT_MAX ? INT_MAX : int(ms);
}

int EpollDispatcher::dispatchSockets(const epoll_event *events, int count)
{
    int handled = 0;
    for (int i = 0; i < count; ++i) {
        const quint64 tag = events[i].data.u64;
        if (tag == wakeTag) {
            drainWakeUps();
            continue;
        }
        const int fd = int(quint32(tag));
        const quint32 generation = quint32(tag >> 32);
        const quint32 what = events[i].events;
        // Looked up again before each notifier: the one before may have
        // switched off or deleted the next.
        if (what & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
            activate(fd, generation, &Watch::read);
        if (what & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            activate(fd, generation, &Watch::write);
        if (what & EPOLLPRI)
            activate(fd, generation, &Watch::exception);
        ++handled;
    }
    return handled;
}

void EpollDispatcher::activate(int fd, quint32 generation, QSocketNotifier *Watch::*slot)
{
    const auto it = m_watches.constFind(fd);
    if (it == m_watches.cend() || it->generation != generation)
        return;
    QSocketNotifier *notifier = (*it).*slot;
    if (!notifier)
        return;
    QEvent event(QEvent::SockAct);
    QCoreApplication::sendEvent(notifier, &event);
}

void EpollDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    Timer &timer = m_timers[timerId];
    timer.object = object;
    timer.intervalMs = qMax<qint64>(0, interval);
    timer.type = timerType;
    timer.firing = false;
    timer.deadlineNs = 0;
    schedule(timerId, timer, Monotonic::nowNs() + timer.intervalMs * 1000000);
}

void EpollDispatcher::schedule(int timerId, Timer &timer, qint64 deadlineNs)
{
    if (timer.deadlineNs)
        m_queue.erase({timer.deadlineNs, timerId});
    timer.deadlineNs = deadlineNs;
    m_queue.insert({deadlineNs, timerId});
}

bool EpollDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    m_queue.erase({it->deadlineNs, timerId});
    m_timers.erase(it);
    return true;
}

bool EpollDispatcher::unregisterTimers(QObject *object)
{
    bool any = false;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (it->object == object) {
            m_queue.erase({it->deadlineNs, it.key()});
            it = m_timers.erase(it);
            any = true;
        } else {
            ++it;
        }
    }
    return any;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    for (auto it = m_timers.cbegin(); it != m_timers.cend(); ++it)
        if (it->object == object)
            list.append(TimerInfo(it.key(), int(it->intervalMs), it->type));
    return list;
}

int EpollDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.constFind(timerId);
    if (it == m_timers.cend())
        return -1;
    const qint64 left = it->deadlineNs - Monotonic::nowNs();
    return left <= 0 ? 0 : int(qMin<qint64>(INT_MAX, (left + 999999) / 1000000));
}

int EpollDispatcher::activateTimers()
{
    if (m_queue.empty())
        return 0;
    const qint64 now = Monotonic::nowNs();
    // Collected first: a timer's handler may start, stop or delete others.
    QVarLengthArray<int, 32> due;
    for (auto it = m_queue.begin(); it != m_queue.end() && it->first <= now; ++it)
        due.append(it->second);
    int fired = 0;
    for (int timerId : due) {
        auto it = m_timers.find(timerId);
        if (it == m_timers.end() || it->deadlineNs > now || it->firing)
            continue;
        qint64 next = it->deadlineNs + it->intervalMs * 1000000;
        if (next <= now)
            next = now + it->intervalMs * 1000000; // late: no burst of catch-up events
        schedule(timerId, *it, next);
        it->firing = true;
        QObject *object = it->object;
        QTimerEvent event(timerId);
        QCoreApplication::sendEvent(object, &event);
        ++fired;
        it = m_timers.find(timerId);
        if (it != m_timers.end())
            it->firing = false;
    }
    return fired;
}

void EpollDispatcher::wakeUp()
{
    if (QThread::currentThreadId() == m_owner.load(std::memory_order_acquire)) {
        // Posted by this thread (deleteLater, queued calls): it is not
        // asleep, and the next turn sends posted events before it waits.
        m_postedHere = true;
        return;
    }
    if (m_wakePending.exchange(true, std::memory_order_acq_rel))
        return; // already on its way
    const quint64 one = 1;
    while (::write(m_wake, &one, sizeof one) < 0 && errno == EINTR) { }
}

void EpollDispatcher::drainWakeUps()
{
    quint64 value = 0;
    while (::read(m_wake, &value, sizeof value) < 0 && errno == EINTR) { }
    // Cleared after the read: a wake-up between the two finds the flag set
    // and writes nothing, and the next turn sends its posted events before
    // it waits again.
    m_wakePending.store(false, std::memory_order_release);
}

void EpollDispatcher::interrupt()
{
    m_interrupted.store(true, std::memory_order_relaxed);
    wakeUp();
}

} // namespace

QAbstractEventDispatcher *createNetworkEventDispatcher()
{
    if (qEnvironmentVariableIsSet("ROUTE_NO_EPOLL"))
        return nullptr;
    const int epollFd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epollFd < 0)
        return nullptr;
    const int wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) {
        ::close(epollFd);
        return nullptr;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wakeTag;
    if (::epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &ev) < 0) {
        ::close(wakeFd);
        ::close(epollFd);
        return nullptr;
    }
    return new EpollDispatcher(epollFd, wakeFd);
}

#else

QAbstractEventDispatcher *createNetworkEventDispatcher()
{
    return nullptr;
}

#endif

} // namespace route
