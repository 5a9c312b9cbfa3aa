#pragma once

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

namespace route {

// Background work (record batches, looking up the program behind a
// connection) under SCHED_BATCH while this object lives: it gets its fair
// share of CPU, but a waking background thread no longer preempts a network
// thread in the middle of a stream event or a burst of new connections; on
// two cores that showed as delayed events and slower first bytes.
class BatchScheduling
{
public:
    BatchScheduling()
    {
#if defined(__linux__) && defined(SCHED_BATCH)
        m_changed = pthread_getschedparam(pthread_self(), &m_policy, &m_param) == 0 && m_policy == SCHED_OTHER;
        if (m_changed) {
            sched_param batch{};
            m_changed = pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch) == 0;
        }
#endif
    }
    ~BatchScheduling()
    {
#if defined(__linux__) && defined(SCHED_BATCH)
        if (m_changed && !m_keep)
            pthread_setschedparam(pthread_self(), m_policy, &m_param);
#endif
    }
    BatchScheduling(const BatchScheduling &) = delete;
    BatchScheduling &operator=(const BatchScheduling &) = delete;

    // For a thread that does nothing else: stays in SCHED_BATCH after this object.
    void keep()
    {
        m_keep = true;
    }
    bool isActive() const
    {
        return m_changed;
    }

private:
#if defined(__linux__) && defined(SCHED_BATCH)
    int m_policy = 0;
    sched_param m_param{};
#endif
    bool m_changed = false;
    bool m_keep = false;
};

} // namespace route
