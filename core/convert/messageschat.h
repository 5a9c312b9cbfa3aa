#pragma once

#include "convert/streamconverter.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <memory>

namespace route {

// Anthropic Messages over an OpenAI Chat Completions upstream (SPEC §9,
// Conversion): Claude Code on any OpenAI-compatible key. Pure functions and
// an incremental stream converter, table-tested in tst_convert.
namespace MessagesChat {

// A Messages request as a Chat Completions request. `error` says why it
// cannot be (then `body` is empty): the client gets a 400 with it.
struct Request
{
    QByteArray body;
    QString error;
    QString model;
    bool stream = false;
};
Request toChat(const QByteArray &messagesBody);

// A Chat Completions answer (JSON) as a Messages answer.
QByteArray fromChat(const QByteArray &chatBody, const QString &model);

// A Chat upstream's error (any status, any body) in Anthropic's envelope.
QByteArray errorFromChat(int status, const QByteArray &chatBody);

// Chat's finish_reason as Messages' stop_reason.
QString stopReason(const QString &finishReason);

// A Chat event stream, as it arrives, as Messages' event stream:
// message_start, content_block_start/delta/stop for text, thinking
// (reasoning_content) and tool_use (input_json_delta), message_delta with the
// stop reason and usage, message_stop. Only when the chat stream came to its
// end ([DONE] or a finish_reason) does finish() write message_stop: a cut
// stream stays cut. Memory: the one incomplete line.
class Stream final : public StreamConverter
{
public:
    explicit Stream(QString model);

private:
    enum class Block { None, Text, Thinking, Tool };
    void onChunk(const QJsonObject &chunk, QByteArray &out) override;
    void onEnd(QByteArray &out) override;
    void start(const QJsonObject &chunk, QByteArray &out);
    void open(Block kind, const QJsonObject &contentBlock, QByteArray &out);
    void close(QByteArray &out);

    QString m_model;
    bool m_started = false;
    Block m_block = Block::None;
    int m_index = -1; // of the open content block
    int m_toolIndex = -1; // the chat tool_calls index of the open tool block
    QString m_stopReason = QStringLiteral("end_turn");
    int m_inputTokens = 0;
    int m_cachedTokens = 0;
    int m_outputTokens = 0;
};

} // namespace MessagesChat

} // namespace route
