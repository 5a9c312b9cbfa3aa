#pragma once

#include <QByteArray>

namespace route {

// Token counts as the upstream reported them, in the record's terms:
// `prompt` is all input (cached included), `cached` the part read from a
// prompt cache, `cacheWrite` the part written to one, `reasoning` the part
// of the completion spent thinking.
struct TokenUsage
{
    int prompt = 0;
    int completion = 0;
    int total = 0;
    int cached = 0;
    int cacheWrite = 0;
    int reasoning = 0;
    bool found = false;
};

// Reads the usage of a response without parsing it: usage comes last in
// every shape (a JSON body; a chat stream's last chunk with
// stream_options.include_usage; Responses' response.completed; Messages'
// message_delta), so the scanner keeps the last few KiB. Messages streams
// give the input counts in their first event (message_start), so the first
// KiB are kept too.
class UsageScanner
{
public:
    enum class Shape {
        Chat, // OpenAI chat and everything else of /v1: prompt_tokens, completion_tokens
        Responses, // input_tokens (cached included), output_tokens, *_details
        Messages, // input_tokens (cache excluded), cache_read_/cache_creation_input_tokens, output_tokens
    };
    static constexpr int keepBytes = 16 * 1024;
    static constexpr int headBytes = 4 * 1024;

    explicit UsageScanner(Shape shape = Shape::Chat) : m_shape(shape) { }
    void setShape(Shape shape) { m_shape = shape; }
    void feed(const QByteArray &chunk);
    TokenUsage result() const;
    // The last bytes seen: where a stream's terminal event is, if it came.
    const QByteArray &tail() const { return m_tail; }

    static TokenUsage scan(const QByteArray &text, Shape shape = Shape::Chat);

private:
    Shape m_shape;
    QByteArray m_head;
    QByteArray m_tail;
};

} // namespace route
