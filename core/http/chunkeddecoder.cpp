#include "http/chunkeddecoder.h"

ChunkedDecoder::Result ChunkedDecoder::decode(QByteArray &in, QByteArray &out)
{
    for (;;) {
        switch (m_state) {
        case State::Size: {
            const qsizetype eol = in.indexOf("\r\n");
            if (eol < 0)
                return in.size() > 1024 ? Result::Malformed : Result::NeedMore;
            QByteArray field = in.left(eol);
            const qsizetype ext = field.indexOf(';');
            if (ext >= 0)
                field.truncate(ext); // chunk extensions mean nothing to us
            field = field.trimmed();
            bool ok = false;
            const qint64 size = field.toLongLong(&ok, 16);
            if (!ok || size < 0 || field.size() > 15)
                return Result::Malformed;
            if (m_maxBody >= 0 && m_decoded + size > m_maxBody)
                return Result::TooLarge;
            in.remove(0, eol + 2);
            m_remaining = size;
            m_state = size == 0 ? State::Trailer : State::Data;
            break;
        }
        case State::Data: {
            if (in.isEmpty())
                return Result::NeedMore;
            const qint64 take = qMin<qint64>(m_remaining, in.size());
            if (take == in.size() && out.isEmpty())
                out = in; // the common case: one whole chunk, no copy
            else
                out.append(in.constData(), take);
            in.remove(0, take);
            m_remaining -= take;
            m_decoded += take;
            if (m_remaining == 0)
                m_state = State::DataEnd;
            break;
        }
        case State::DataEnd:
            if (in.size() < 2)
                return Result::NeedMore;
            if (!in.startsWith("\r\n"))
                return Result::Malformed;
            in.remove(0, 2);
            m_state = State::Size;
            break;
        case State::Trailer: {
            const qsizetype eol = in.indexOf("\r\n");
            if (eol < 0)
                return in.size() > m_maxTrailer ? Result::TrailerTooLarge : Result::NeedMore;
            in.remove(0, eol + 2);
            if (eol == 0)
                return Result::Done; // the empty line after the trailers
            break;
        }
        }
    }
}
