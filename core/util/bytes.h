#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <cstring>

namespace route {

// Searches on the request path. Qt 6.4's QByteArrayView::indexOf goes through
// a general search with ~200 instructions of setup per call, even for one
// character; a request header block needs a dozen of them. These go straight
// to the C library's memchr.
namespace Bytes {

inline qsizetype indexOf(QByteArrayView hay, char c, qsizetype from = 0)
{
    if (from < 0 || from >= hay.size())
        return -1;
    const void *at = std::memchr(hay.data() + from, static_cast<unsigned char>(c), size_t(hay.size() - from));
    return at ? static_cast<const char *>(at) - hay.data() : -1;
}

inline qsizetype indexOf(QByteArrayView hay, QByteArrayView needle, qsizetype from = 0)
{
    if (from < 0 || from > hay.size())
        return -1;
    const qsizetype n = needle.size();
    if (n == 0)
        return from;
    if (n > hay.size() - from)
        return -1;
    // memchr for one byte of the needle, then a compare: on texts of a few
    // hundred bytes this beats memmem, whose setup alone costs more. A
    // leading quote (a JSON key) is too common a byte to search for.
    const qsizetype anchor = n > 1 && needle[0] == '"' ? 1 : 0;
    const char *const base = hay.data();
    const char *const last = base + hay.size() - n + anchor; // the last place the anchor can be
    for (const char *p = base + from + anchor; p <= last; ++p) {
        p = static_cast<const char *>(std::memchr(p, static_cast<unsigned char>(needle[anchor]), size_t(last - p + 1)));
        if (!p)
            return -1;
        if (std::memcmp(p - anchor, needle.data(), size_t(n)) == 0)
            return p - anchor - base;
    }
    return -1;
}

// The last occurrence, by forward searches: still far cheaper than Qt's
// backward search, which hashes every byte.
inline qsizetype lastIndexOf(QByteArrayView hay, QByteArrayView needle)
{
    qsizetype last = -1;
    for (qsizetype at = indexOf(hay, needle); at >= 0; at = indexOf(hay, needle, at + 1))
        last = at;
    return last;
}

inline bool contains(QByteArrayView hay, QByteArrayView needle)
{
    return indexOf(hay, needle) >= 0;
}

// Builds a message (a request, a response head) piece by piece into one
// buffer. QByteArray::append costs ~100 instructions per call, and a head
// is dozens of pieces; this is a bounds check and a memcpy. Sized up front
// by the caller; grows if the estimate was short.
class Writer
{
public:
    explicit Writer(qsizetype capacity) : m_buffer(qMax<qsizetype>(capacity, 64), Qt::Uninitialized) { }

    Writer &operator<<(QByteArrayView bytes)
    {
        if (bytes.isEmpty())
            return *this; // its data() may be null, which memcpy must not get
        reserve(bytes.size());
        std::memcpy(m_buffer.data() + m_size, bytes.data(), size_t(bytes.size()));
        m_size += bytes.size();
        return *this;
    }
    Writer &operator<<(char c)
    {
        reserve(1);
        m_buffer.data()[m_size++] = c;
        return *this;
    }
    // A header line: "name: value\r\n".
    Writer &line(QByteArrayView name, QByteArrayView value) { return *this << name << ": " << value << "\r\n"; }
    Writer &decimal(qint64 value)
    {
        if (value < 0)
            *this << '-';
        return digits(value < 0 ? 0 - quint64(value) : quint64(value), 10);
    }
    Writer &hex(quint64 value) { return digits(value, 16); }
    QByteArray take()
    {
        m_buffer.truncate(m_size);
        return std::move(m_buffer);
    }

private:
    Writer &digits(quint64 value, unsigned base)
    {
        char text[24];
        int n = int(sizeof text);
        do {
            text[--n] = "0123456789abcdef"[value % base];
            value /= base;
        } while (value > 0);
        return *this << QByteArrayView(text + n, qsizetype(sizeof text) - n);
    }

    void reserve(qsizetype more)
    {
        if (m_size + more > m_buffer.size())
            m_buffer.resize(qMax(2 * m_buffer.size(), m_size + more));
    }

    QByteArray m_buffer;
    qsizetype m_size = 0;
};

} // namespace Bytes

} // namespace route
