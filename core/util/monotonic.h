#pragma once

#include <QtGlobal>

#include <chrono>

namespace route {

// The one monotonic clock of the engine: deadlines, health cool-downs and
// the network threads' timers all count on it.
namespace Monotonic {

inline qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

inline qint64 nowMs()
{
    return nowNs() / 1000000;
}

} // namespace Monotonic

} // namespace route
