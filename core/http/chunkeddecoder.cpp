#include "http/chunkeddecoder.h"

#include "http/headparser.h"
#include "util/bytes.h"

#include <utility>

namespace route {

namespace {

constexpr qsizetype maxSizeLine = 1024; // hex digits and extensions

// RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ),
// value a token or a quoted string. They mean nothing to us, but one that
// hides a control character or a bare LF is refused, not skipped: another
// parser may end the line there.
bool isChunkExtensions(QByteArrayView s)
{
    if (!HeadParser::isFieldValue(s))
        return false;
    qsizetype i = 0;
    const auto skipBws = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
    };
    const auto token = [&] {
        const qsizetype from = i;
        while (i < s.size() && HeadParser::isTokenChar(s[i]))
            ++i;
        return i > from;
    };
    while (true) {
        skipBws();
        if (i == s.size())
            return true;
        if (s[i] != ';')
            return false;
        ++i;
        skipBws();
        if (!token())
            return false;
        skipBws();
        if (i < s.size() && s[i] == '=') {
            ++i;
            skipBws();
            if (i < s.size() && s[i] == '"') {
                for (++i; i < s.size() && s[i] != '"'; ++i)
                    if (s[i] == '\\')
                        ++i;
                if (i >= s.size())
                    return false;
                ++i;
            } else if (!token()) {
                return false;
            }
        }
    }
}

// The hex size of a chunk-size line: 1 to 15 hex digits at its start (no
// sign, no space, no "0x"), then only extensions. -1 when it is not a size.
qint64 parseChunkSize(QByteArrayView line)
{
    qint64 size = 0;
    qsizetype digits = 0;
    for (; digits < line.size(); ++digits) {
        const char c = line[digits];
        int digit = 0;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            digit = c - 'A' + 10;
        else
            break;
        if (digits == 15)
            return -1; // past 2^60: a size that overflows somebody's integer
        size = size * 16 + digit;
    }
    if (digits == 0 || !isChunkExtensions(line.sliced(digits)))
        return -1;
    return size;
}

} // namespace

ChunkedDecoder::Result ChunkedDecoder::decode(QByteArray &in, QByteArray &out)
{
    // Reads at an offset and drops what it consumed once, on the way out.
    qsizetype pos = 0;
    const auto leave = [&in, &pos](Result result) {
        if (pos > 0)
            in.remove(0, pos);
        return result;
    };
    for (;;) {
        switch (m_state) {
        case State::Size: {
            // A size line is short: past maxSizeLine it is refused, whether
            // its CRLF came yet or not (the verdict must not depend on how
            // the bytes were split into reads).
            const qsizetype eol = Bytes::indexOf(in, "\r\n", pos);
            if ((eol < 0 ? in.size() : eol) - pos > maxSizeLine)
                return leave(Result::Malformed);
            if (eol < 0)
                return leave(Result::NeedMore);
            const qint64 size = parseChunkSize(QByteArrayView(in).sliced(pos, eol - pos));
            if (size < 0)
                return leave(Result::Malformed);
            if (m_maxBody >= 0 && m_decoded + size > m_maxBody)
                return leave(Result::TooLarge);
            pos = eol + 2;
            m_remaining = size;
            m_state = size == 0 ? State::Trailer : State::Data;
            if (size > 0 && out.isEmpty() && pos + size + 2 == in.size() && in.endsWith("\r\n")) {
                // Exactly one chunk, the usual shape of a streamed event:
                // its bytes are handed over without a copy.
                out = std::exchange(in, QByteArray());
                out.remove(0, pos);
                out.chop(2);
                m_decoded += size;
                m_remaining = 0;
                m_state = State::Size;
                return Result::NeedMore;
            }
            break;
        }
        case State::Data: {
            const qint64 take = qMin<qint64>(m_remaining, in.size() - pos);
            if (take == 0)
                return leave(Result::NeedMore);
            if (pos == 0 && take == in.size() && out.isEmpty())
                out = std::exchange(in, QByteArray()); // a chunk's rest, whole: no copy
            else
                out.append(in.constData() + pos, take);
            pos += take;
            if (in.isEmpty())
                pos = 0;
            m_remaining -= take;
            m_decoded += take;
            if (m_remaining == 0)
                m_state = State::DataEnd;
            break;
        }
        case State::DataEnd:
            if (in.size() - pos < 2)
                return leave(Result::NeedMore);
            if (in.at(pos) != '\r' || in.at(pos + 1) != '\n')
                return leave(Result::Malformed);
            pos += 2;
            m_state = State::Size;
            break;
        case State::Trailer: {
            // The trailer section as a whole is bounded, line by line or at once.
            const qsizetype eol = Bytes::indexOf(in, "\r\n", pos);
            if (m_trailerBytes + ((eol < 0 ? in.size() : eol) - pos) > m_maxTrailer)
                return leave(Result::TrailerTooLarge);
            if (eol < 0)
                return leave(Result::NeedMore);
            m_trailerBytes += eol - pos + 2;
            const bool emptyLine = eol == pos;
            QByteArrayView name, value;
            if (!emptyLine && !HeadParser::isFieldLine(QByteArrayView(in).sliced(pos, eol - pos), &name, &value))
                return leave(Result::Malformed); // a trailer is a field line, with the same rules
            pos = eol + 2;
            if (emptyLine)
                return leave(Result::Done); // the empty line after the trailers
            break;
        }
        }
    }
}

} // namespace route
