#pragma once

#include <QByteArray>

namespace route {

// Token counts as OpenAI reports them in `usage`, in a JSON body or in the
// last chunk of a stream (stream_options.include_usage).
struct TokenUsage
{
    int prompt = 0;
    int completion = 0;
    int total = 0;
    bool found = false;
};

// Keeps the last few KiB of a response and reads `usage` from it at the end:
// `usage` comes last in both shapes, so the whole body never needs parsing.
class UsageScanner
{
public:
    static constexpr int keepBytes = 16 * 1024;

    void feed(const QByteArray &chunk);
    TokenUsage result() const { return scan(m_tail); }
    static TokenUsage scan(const QByteArray &text);

private:
    QByteArray m_tail;
};

} // namespace route
