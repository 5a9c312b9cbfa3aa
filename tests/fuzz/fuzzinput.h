#pragma once

#include <QByteArray>

#include <cstddef>
#include <cstdint>

// What libFuzzer hands a target, with a few bytes taken off the front to
// choose a mode or where to split, the rest as the input proper.
class FuzzInput
{
public:
    FuzzInput(const uint8_t *data, size_t size) : m_data(reinterpret_cast<const char *>(data)), m_size(size) { }

    // One byte off the front (0 once nothing is left).
    uint8_t take()
    {
        if (m_size == 0)
            return 0;
        --m_size;
        return static_cast<uint8_t>(*m_data++);
    }
    // The rest, copied: targets take QByteArray as the code under test does.
    QByteArray rest() const { return QByteArray(m_data, qsizetype(m_size)); }

private:
    const char *m_data;
    size_t m_size;
};

// A failed invariant is a crash libFuzzer keeps, with the input that made it.
#define FUZZ_CHECK(condition)                                                                                          \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            __builtin_trap();                                                                                          \
    } while (false)
