#pragma once

#include <QByteArray>

namespace route {

// Decodes `Transfer-Encoding: chunked` incrementally, for request bodies
// (server side) and response bodies (upstream side) alike.
class ChunkedDecoder
{
public:
    enum class Result { NeedMore, Done, Malformed, TooLarge, TrailerTooLarge };

    // Limits: the decoded body, and the trailer section.
    explicit ChunkedDecoder(qint64 maxBody = -1, qsizetype maxTrailer = 64 * 1024)
        : m_maxBody(maxBody), m_maxTrailer(maxTrailer)
    { }

    // Consumes what it can from `in`, appends the decoded bytes to `out`.
    Result decode(QByteArray &in, QByteArray &out);
    qint64 decodedBytes() const { return m_decoded; }
    void reset() { *this = ChunkedDecoder(m_maxBody, m_maxTrailer); }

private:
    enum class State { Size, Data, DataEnd, Trailer };
    qint64 m_maxBody;
    qsizetype m_maxTrailer;
    State m_state = State::Size;
    qint64 m_remaining = 0;
    qint64 m_decoded = 0;
    qsizetype m_trailerBytes = 0;
};

} // namespace route
