#pragma once

#include "util/monotonic.h"

#include <QtGlobal>

#include <atomic>

namespace route {

// Where the engine's notion of "now" for rests and cool-downs comes from.
// The system clock in the product; tests pass a ManualClock and advance it
// instead of sleeping until a cool-down is over (KeePassXC's Clock and
// MockClock are the model). Thread-safe: network workers read it at once.
class Clock
{
public:
    virtual ~Clock() = default;
    // Milliseconds on a monotonic scale (only differences mean anything).
    virtual qint64 monotonicMs() const = 0;

    // The steady system clock, shared by everyone who is given no other.
    static const Clock &system();
};

class SystemClock final : public Clock
{
public:
    qint64 monotonicMs() const override { return Monotonic::nowMs(); }
};

inline const Clock &Clock::system()
{
    static const SystemClock clock;
    return clock;
}

// Stands still until told to move. Starts where the system clock is, so
// values look like real ones in logs.
class ManualClock final : public Clock
{
public:
    ManualClock() : m_nowMs(Monotonic::nowMs()) { }
    qint64 monotonicMs() const override { return m_nowMs.load(std::memory_order_relaxed); }
    void advance(qint64 ms) { m_nowMs.fetch_add(ms, std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_nowMs;
};

} // namespace route
