#include "records/usagescanner.h"

#include "util/bytes.h"

namespace route {

namespace {

// The integer after "key": within `text` from `from`, or -1.
// QUOTED_KEY includes its quotes: no string is built per lookup.
int numberAfter(const QByteArray &text, qsizetype from, QByteArrayView quotedKey)
{
    qsizetype at = Bytes::indexOf(text, quotedKey, from);
    if (at < 0)
        return -1;
    at += quotedKey.size();
    while (at < text.size() && (text[at] == ' ' || text[at] == ':' || text[at] == '\t'))
        ++at;
    qint64 value = 0;
    qsizetype digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 10) {
        value = value * 10 + (text[at] - '0');
        ++at;
        ++digits;
    }
    return digits > 0 ? int(value) : -1;
}

} // namespace

void UsageScanner::feed(const QByteArray &chunk)
{
    if (chunk.size() >= keepBytes) {
        m_tail = chunk.right(keepBytes);
        return;
    }
    m_tail += chunk;
    if (m_tail.size() > 2 * keepBytes)
        m_tail.remove(0, m_tail.size() - keepBytes);
}

TokenUsage UsageScanner::scan(const QByteArray &text)
{
    TokenUsage u;
    // `usage` sits within the last few hundred bytes when it is there at
    // all: look there first, and through the rest only when it is not.
    constexpr QByteArrayView key("\"usage\"");
    constexpr qsizetype window = 2048;
    const qsizetype windowStart = qMax<qsizetype>(0, text.size() - window);
    qsizetype at = Bytes::lastIndexOf(QByteArrayView(text).sliced(windowStart), key);
    if (at >= 0)
        at += windowStart;
    else if (windowStart > 0)
        at = Bytes::lastIndexOf(QByteArrayView(text).first(windowStart + key.size() - 1), key);
    if (at < 0)
        return u;
    const int prompt = numberAfter(text, at, "\"prompt_tokens\"");
    const int completion = numberAfter(text, at, "\"completion_tokens\"");
    const int total = numberAfter(text, at, "\"total_tokens\"");
    if (prompt < 0 && completion < 0 && total < 0)
        return u; // "usage": null in the chunks before the last
    u.found = true;
    u.prompt = qMax(0, prompt);
    u.completion = qMax(0, completion);
    u.total = total >= 0 ? total : u.prompt + u.completion;
    return u;
}

} // namespace route
