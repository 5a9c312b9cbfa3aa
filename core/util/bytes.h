#pragma once

#include <QByteArrayView>

#include <cstring>

// Searches on the request path. Qt 6.4's QByteArrayView::indexOf goes through
// a general search with ~200 instructions of setup per call, even for one
// character; a request header block needs a dozen of them. These go straight
// to the C library's memchr/memmem.
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
    if (needle.isEmpty())
        return from;
    const void *at = ::memmem(hay.data() + from, size_t(hay.size() - from), needle.data(), size_t(needle.size()));
    return at ? static_cast<const char *>(at) - hay.data() : -1;
}

// The last occurrence, by forward searches: memmem is fast enough that a
// pass over the whole text beats Qt's backward search by far.
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

} // namespace Bytes
