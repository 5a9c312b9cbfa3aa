#include "records/usagescanner.h"

#include "util/bytes.h"

namespace route {

namespace {

// No answer counts more tokens than this; a bigger number (a broken or
// hostile upstream) is held here, so that the sums below, four of them at
// most, stay inside an int.
constexpr int maxTokens = 500'000'000;

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
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
        value = qMin<qint64>(value * 10 + (text[at] - '0'), maxTokens);
        ++at;
        ++digits;
    }
    return digits > 0 ? int(value) : -1;
}

// Where the last "usage" of TEXT starts, or -1. It sits within the last few
// hundred bytes when it is there at all: look there first, and through the
// rest only when it is not.
qsizetype lastUsage(const QByteArray &text)
{
    constexpr QByteArrayView key("\"usage\"");
    constexpr qsizetype window = 2048;
    const qsizetype windowStart = qMax<qsizetype>(0, text.size() - window);
    const qsizetype at = Bytes::lastIndexOf(QByteArrayView(text).sliced(windowStart), key);
    if (at >= 0)
        return at + windowStart;
    if (windowStart > 0)
        return Bytes::lastIndexOf(QByteArrayView(text).first(windowStart + key.size() - 1), key);
    return -1;
}

TokenUsage chatUsage(const QByteArray &text, qsizetype at)
{
    TokenUsage u;
    const int prompt = numberAfter(text, at, "\"prompt_tokens\"");
    const int completion = numberAfter(text, at, "\"completion_tokens\"");
    const int total = numberAfter(text, at, "\"total_tokens\"");
    if (prompt < 0 && completion < 0 && total < 0)
        return u; // "usage": null in the chunks before the last
    u.found = true;
    u.prompt = qMax(0, prompt);
    u.completion = qMax(0, completion);
    u.total = total >= 0 ? total : u.prompt + u.completion;
    // The details are there on OpenAI's own answers; most relays send none.
    if (Bytes::indexOf(text, QByteArrayView("_details\""), at) >= 0) {
        u.cached = qMax(0, numberAfter(text, at, "\"cached_tokens\""));
        u.reasoning = qMax(0, numberAfter(text, at, "\"reasoning_tokens\""));
    }
    return u;
}

TokenUsage responsesUsage(const QByteArray &text, qsizetype at)
{
    TokenUsage u;
    const int input = numberAfter(text, at, "\"input_tokens\"");
    const int output = numberAfter(text, at, "\"output_tokens\"");
    if (input < 0 && output < 0)
        return u;
    u.found = true;
    u.prompt = qMax(0, input);
    u.completion = qMax(0, output);
    const int total = numberAfter(text, at, "\"total_tokens\"");
    u.total = total >= 0 ? total : u.prompt + u.completion;
    u.cached = qMax(0, numberAfter(text, at, "\"cached_tokens\""));
    u.reasoning = qMax(0, numberAfter(text, at, "\"reasoning_tokens\""));
    return u;
}

// Anthropic counts cache reads and writes beside input_tokens, not in it.
struct MessagesCounts
{
    int input = -1, output = -1, cacheRead = -1, cacheWrite = -1;
};

MessagesCounts messagesCounts(const QByteArray &text, qsizetype at)
{
    MessagesCounts c;
    if (at < 0)
        return c;
    c.input = numberAfter(text, at, "\"input_tokens\"");
    c.output = numberAfter(text, at, "\"output_tokens\"");
    c.cacheRead = numberAfter(text, at, "\"cache_read_input_tokens\"");
    c.cacheWrite = numberAfter(text, at, "\"cache_creation_input_tokens\"");
    return c;
}

TokenUsage fromMessages(MessagesCounts last, const MessagesCounts &first)
{
    // message_delta carries the final output count and, from newer servers,
    // the input counts too; message_start has the input counts.
    if (last.input < 0)
        last.input = first.input;
    if (last.cacheRead < 0)
        last.cacheRead = first.cacheRead;
    if (last.cacheWrite < 0)
        last.cacheWrite = first.cacheWrite;
    if (last.output < 0)
        last.output = first.output;
    TokenUsage u;
    if (last.input < 0 && last.output < 0)
        return u;
    u.found = true;
    u.cached = qMax(0, last.cacheRead);
    u.cacheWrite = qMax(0, last.cacheWrite);
    u.prompt = qMax(0, last.input) + u.cached + u.cacheWrite;
    u.completion = qMax(0, last.output);
    u.total = u.prompt + u.completion;
    return u;
}

} // namespace

void UsageScanner::feed(const QByteArray &chunk)
{
    if (m_shape == Shape::Messages && m_head.size() < headBytes)
        m_head += chunk.left(headBytes - m_head.size());
    if (chunk.size() >= keepBytes) {
        m_tail = chunk.right(keepBytes);
        return;
    }
    m_tail += chunk;
    if (m_tail.size() > 2 * keepBytes)
        m_tail.remove(0, m_tail.size() - keepBytes);
}

TokenUsage UsageScanner::result() const
{
    if (m_shape != Shape::Messages)
        return scan(m_tail, m_shape);
    return fromMessages(messagesCounts(m_tail, lastUsage(m_tail)),
        messagesCounts(m_head, Bytes::indexOf(m_head, QByteArrayView("\"usage\""))));
}

TokenUsage UsageScanner::scan(const QByteArray &text, Shape shape)
{
    const qsizetype at = lastUsage(text);
    if (at < 0)
        return TokenUsage();
    switch (shape) {
    case Shape::Chat: return chatUsage(text, at);
    case Shape::Responses: return responsesUsage(text, at);
    case Shape::Messages: return fromMessages(messagesCounts(text, at), MessagesCounts());
    }
    return TokenUsage();
}

} // namespace route
