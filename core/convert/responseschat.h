#pragma once

#include "convert/streamconverter.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace route {

// OpenAI Responses over a Chat Completions upstream (SPEC §9, Conversion):
// Codex on keys that have no /v1/responses. Stateless: a conversation is
// carried in the request's `input` (Codex sends store: false), so a
// previous_response_id cannot be followed and is refused.
namespace ResponsesChat {

struct Request
{
    QByteArray body;
    QString error;
    QString model;
    bool stream = false;
};
Request toChat(const QByteArray &responsesBody);

// A Chat Completions answer (JSON) as a Responses object.
QByteArray fromChat(const QByteArray &chatBody, const QString &model, const QByteArray &responseId);

// A Chat upstream's error in Responses' envelope (OpenAI's).
QByteArray errorFromChat(int status, const QByteArray &chatBody);

// A Chat event stream as Responses' event stream: response.created,
// response.output_item.added, response.output_text.delta,
// response.function_call_arguments.delta, response.output_item.done, and
// response.completed (or response.incomplete at max tokens) with usage.
class Stream final : public StreamConverter
{
public:
    Stream(QString model, QByteArray responseId);

private:
    void onChunk(const QJsonObject &chunk, QByteArray &out) override;
    void onEnd(QByteArray &out) override;
    QByteArray event(const char *type, QJsonObject data);
    QJsonObject response(const QString &status) const;
    void closeItem(QByteArray &out);

    QString m_model;
    QByteArray m_id;
    int m_sequence = 0;
    bool m_started = false;
    QString m_finishReason;
    enum class Item { None, Message, Call };
    Item m_item = Item::None;
    int m_toolIndex = -1;
    QString m_text; // of the open message item
    QJsonObject m_call; // the open function_call item
    QJsonArray m_output; // the finished items, for response.completed
    QJsonObject m_usage;
};

} // namespace ResponsesChat

} // namespace route
