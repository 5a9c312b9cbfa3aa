#include "convert/responseschat.h"

#include <QDateTime>
#include <QJsonDocument>

namespace route {

namespace ResponsesChat {

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// The text parts of a message's content (input_text, output_text, text).
QString textOf(const QJsonValue &content)
{
    if (content.isString())
        return content.toString();
    QStringList parts;
    for (const QJsonValue &p : content.toArray()) {
        const QString type = p.toObject().value(QLatin1String("type")).toString();
        if (type == QLatin1String("input_text") || type == QLatin1String("output_text")
            || type == QLatin1String("text"))
            parts << p.toObject().value(QLatin1String("text")).toString();
    }
    return parts.join(QLatin1Char('\n'));
}

QJsonValue userContent(const QJsonValue &content)
{
    if (content.isString())
        return content;
    QJsonArray parts;
    bool images = false;
    for (const QJsonValue &p : content.toArray()) {
        const QJsonObject part = p.toObject();
        const QString type = part.value(QLatin1String("type")).toString();
        if (type == QLatin1String("input_image")) {
            images = true;
            parts.append(QJsonObject{{"type", "image_url"},
                {"image_url", QJsonObject{{"url", part.value(QLatin1String("image_url")).toString()}}}});
        } else if (type == QLatin1String("input_text") || type == QLatin1String("text")) {
            parts.append(QJsonObject{{"type", "text"}, {"text", part.value(QLatin1String("text")).toString()}});
        }
    }
    return images ? QJsonValue(parts) : QJsonValue(textOf(content));
}

// Chat wants an assistant's tool calls in one message, right before their results.
void flushCalls(QJsonArray &calls, QJsonArray &messages)
{
    if (calls.isEmpty())
        return;
    messages.append(QJsonObject{{"role", "assistant"}, {"content", QJsonValue::Null}, {"tool_calls", calls}});
    calls = QJsonArray();
}

QJsonObject usageOf(const QJsonObject &chatUsage)
{
    const int input = chatUsage.value(QLatin1String("prompt_tokens")).toInt();
    const int output = chatUsage.value(QLatin1String("completion_tokens")).toInt();
    const int cached = chatUsage.value(QLatin1String("prompt_tokens_details"))
                           .toObject()
                           .value(QLatin1String("cached_tokens"))
                           .toInt();
    const int reasoning = chatUsage.value(QLatin1String("completion_tokens_details"))
                              .toObject()
                              .value(QLatin1String("reasoning_tokens"))
                              .toInt();
    return QJsonObject{{"input_tokens", input}, {"input_tokens_details", QJsonObject{{"cached_tokens", cached}}},
        {"output_tokens", output}, {"output_tokens_details", QJsonObject{{"reasoning_tokens", reasoning}}},
        {"total_tokens", input + output}};
}

QJsonObject messageItem(const QString &text, const QString &status)
{
    return QJsonObject{{"id", "msg_converted"}, {"type", "message"}, {"status", status}, {"role", "assistant"},
        {"content", QJsonArray{QJsonObject{{"type", "output_text"}, {"text", text}, {"annotations", QJsonArray()}}}}};
}

} // namespace

Request toChat(const QByteArray &responsesBody)
{
    Request r;
    const QJsonDocument doc = QJsonDocument::fromJson(responsesBody);
    if (!doc.isObject()) {
        r.error = QStringLiteral("the body must be a JSON object");
        return r;
    }
    const QJsonObject q = doc.object();
    if (q.value(QLatin1String("previous_response_id")).isString()) {
        r.error = QStringLiteral("previous_response_id cannot be followed: this upstream keeps no responses (send the "
                                 "whole conversation in input, with store: false)");
        return r;
    }
    r.model = q.value(QLatin1String("model")).toString();
    r.stream = q.value(QLatin1String("stream")).toBool();
    QJsonArray messages;
    const QString instructions = q.value(QLatin1String("instructions")).toString();
    if (!instructions.isEmpty())
        messages.append(QJsonObject{{"role", "system"}, {"content", instructions}});
    const QJsonValue input = q.value(QLatin1String("input"));
    if (input.isString()) {
        messages.append(QJsonObject{{"role", "user"}, {"content", input.toString()}});
    } else if (input.isArray()) {
        QJsonArray calls;
        for (const QJsonValue &v : input.toArray()) {
            const QJsonObject item = v.toObject();
            const QString type = item.value(QLatin1String("type")).toString(QStringLiteral("message"));
            if (type == QLatin1String("function_call")) {
                calls.append(QJsonObject{{"id", item.value(QLatin1String("call_id")).toString()}, {"type", "function"},
                    {"function",
                        QJsonObject{{"name", item.value(QLatin1String("name")).toString()},
                            {"arguments", item.value(QLatin1String("arguments")).toString()}}}});
                continue;
            }
            flushCalls(calls, messages);
            if (type == QLatin1String("function_call_output")) {
                const QJsonValue output = item.value(QLatin1String("output"));
                messages.append(
                    QJsonObject{{"role", "tool"}, {"tool_call_id", item.value(QLatin1String("call_id")).toString()},
                        {"content", output.isString() ? output.toString() : textOf(output)}});
            } else if (type == QLatin1String("message")) {
                QString role = item.value(QLatin1String("role")).toString();
                if (role == QLatin1String("developer"))
                    role = QStringLiteral("system");
                const QJsonValue content = item.value(QLatin1String("content"));
                messages.append(QJsonObject{{"role", role},
                    {"content", role == QLatin1String("user") ? userContent(content) : QJsonValue(textOf(content))}});
            }
            // reasoning items and the like: nothing a chat model can take back
        }
        flushCalls(calls, messages);
    } else {
        r.error = QStringLiteral("input: must be a string or an array of items");
        return r;
    }
    QJsonObject chat{{"model", r.model}, {"messages", messages}};
    if (q.contains(QLatin1String("max_output_tokens")))
        chat.insert(QStringLiteral("max_tokens"), q.value(QLatin1String("max_output_tokens")));
    for (const char *same : {"temperature", "top_p", "parallel_tool_calls", "user"})
        if (q.contains(QLatin1String(same)))
            chat.insert(QLatin1String(same), q.value(QLatin1String(same)));
    QJsonArray tools;
    for (const QJsonValue &t : q.value(QLatin1String("tools")).toArray()) {
        const QJsonObject tool = t.toObject();
        if (tool.value(QLatin1String("type")).toString() != QLatin1String("function"))
            continue; // web search, namespaces, custom tools: not a chat model's
        QJsonObject function{{"name", tool.value(QLatin1String("name")).toString()},
            {"parameters", tool.value(QLatin1String("parameters"))}};
        if (tool.contains(QLatin1String("description")))
            function.insert(QStringLiteral("description"), tool.value(QLatin1String("description")));
        tools.append(QJsonObject{{"type", "function"}, {"function", function}});
    }
    if (!tools.isEmpty()) {
        chat.insert(QStringLiteral("tools"), tools);
        const QJsonValue choice = q.value(QLatin1String("tool_choice"));
        if (choice.isString())
            chat.insert(QStringLiteral("tool_choice"), choice);
        else if (choice.isObject()
            && choice.toObject().value(QLatin1String("type")).toString() == QLatin1String("function"))
            chat.insert(QStringLiteral("tool_choice"),
                QJsonObject{{"type", "function"},
                    {"function", QJsonObject{{"name", choice.toObject().value(QLatin1String("name")).toString()}}}});
    }
    if (r.stream) {
        chat.insert(QStringLiteral("stream"), true);
        chat.insert(QStringLiteral("stream_options"), QJsonObject{{"include_usage", true}});
    }
    r.body = compact(chat);
    return r;
}

QByteArray fromChat(const QByteArray &chatBody, const QString &model, const QByteArray &responseId)
{
    const QJsonObject chat = QJsonDocument::fromJson(chatBody).object();
    const QJsonObject choice = chat.value(QLatin1String("choices")).toArray().first().toObject();
    const QJsonObject message = choice.value(QLatin1String("message")).toObject();
    QJsonArray output;
    const QString text = message.value(QLatin1String("content")).toString();
    if (!text.isEmpty())
        output.append(messageItem(text, QStringLiteral("completed")));
    int n = 0;
    for (const QJsonValue &c : message.value(QLatin1String("tool_calls")).toArray()) {
        const QJsonObject call = c.toObject();
        const QJsonObject function = call.value(QLatin1String("function")).toObject();
        output.append(QJsonObject{{"id", QStringLiteral("fc_converted_%1").arg(++n)}, {"type", "function_call"},
            {"status", "completed"}, {"call_id", call.value(QLatin1String("id")).toString()},
            {"name", function.value(QLatin1String("name")).toString()},
            {"arguments", function.value(QLatin1String("arguments")).toString()}});
    }
    const bool cut = choice.value(QLatin1String("finish_reason")).toString() == QLatin1String("length");
    QJsonObject r{{"id", QString::fromLatin1(responseId)}, {"object", "response"},
        {"created_at", QDateTime::currentSecsSinceEpoch()}, {"status", cut ? "incomplete" : "completed"},
        {"model", chat.value(QLatin1String("model")).toString(model)}, {"output", output},
        {"usage", usageOf(chat.value(QLatin1String("usage")).toObject())}};
    if (cut)
        r.insert(QStringLiteral("incomplete_details"), QJsonObject{{"reason", "max_output_tokens"}});
    return compact(r);
}

QByteArray errorFromChat(int status, const QByteArray &chatBody)
{
    const QJsonObject body = QJsonDocument::fromJson(chatBody).object();
    if (body.value(QLatin1String("error")).isObject())
        return chatBody; // already OpenAI's envelope
    QString message = body.value(QLatin1String("message")).toString(body.value(QLatin1String("error")).toString());
    if (message.isEmpty())
        message = QString::fromUtf8(chatBody.left(500)).trimmed();
    if (message.isEmpty())
        message = QStringLiteral("the upstream answered HTTP %1").arg(status);
    return compact(QJsonObject{{"error",
        QJsonObject{{"message", message}, {"type", status < 500 ? "invalid_request_error" : "server_error"},
            {"code", QJsonValue::Null}}}});
}

Stream::Stream(QString model, QByteArray responseId) : m_model(std::move(model)), m_id(std::move(responseId))
{ }

QByteArray Stream::event(const char *type, QJsonObject data)
{
    data.insert(QStringLiteral("type"), QLatin1String(type));
    data.insert(QStringLiteral("sequence_number"), m_sequence++);
    return QByteArray("event: ") + type + "\ndata: " + compact(data) + "\n\n";
}

QJsonObject Stream::response(const QString &status) const
{
    QJsonObject r{{"id", QString::fromLatin1(m_id)}, {"object", "response"},
        {"created_at", QDateTime::currentSecsSinceEpoch()}, {"status", status}, {"model", m_model},
        {"output", status == QLatin1String("in_progress") ? QJsonArray() : m_output}};
    r.insert(QStringLiteral("usage"), m_usage.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(usageOf(m_usage)));
    if (status == QLatin1String("incomplete"))
        r.insert(QStringLiteral("incomplete_details"), QJsonObject{{"reason", "max_output_tokens"}});
    return r;
}

void Stream::closeItem(QByteArray &out)
{
    const int index = int(m_output.size());
    if (m_item == Item::Message) {
        out += event("response.output_text.done",
            {{"item_id", "msg_converted"}, {"output_index", index}, {"content_index", 0}, {"text", m_text}});
        out += event("response.content_part.done",
            {{"item_id", "msg_converted"}, {"output_index", index}, {"content_index", 0},
                {"part", QJsonObject{{"type", "output_text"}, {"text", m_text}, {"annotations", QJsonArray()}}}});
        const QJsonObject item = messageItem(m_text, QStringLiteral("completed"));
        out += event("response.output_item.done", {{"output_index", index}, {"item", item}});
        m_output.append(item);
    } else if (m_item == Item::Call) {
        m_call.insert(QStringLiteral("status"), QStringLiteral("completed"));
        out += event("response.function_call_arguments.done",
            {{"item_id", m_call.value(QLatin1String("id"))}, {"output_index", index},
                {"arguments", m_call.value(QLatin1String("arguments"))}});
        out += event("response.output_item.done", {{"output_index", index}, {"item", m_call}});
        m_output.append(m_call);
    }
    m_item = Item::None;
    m_text.clear();
    m_toolIndex = -1;
}

void Stream::onChunk(const QJsonObject &chunk, QByteArray &out)
{
    if (!m_started) {
        m_started = true;
        out += event("response.created", {{"response", response(QStringLiteral("in_progress"))}});
        out += event("response.in_progress", {{"response", response(QStringLiteral("in_progress"))}});
    }
    const QJsonObject usage = chunk.value(QLatin1String("usage")).toObject();
    if (!usage.isEmpty())
        m_usage = usage;
    const QJsonObject choice = chunk.value(QLatin1String("choices")).toArray().first().toObject();
    const QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
    const int index = int(m_output.size());
    const QString text = delta.value(QLatin1String("content")).toString();
    if (!text.isEmpty()) {
        if (m_item != Item::Message) {
            closeItem(out);
            m_item = Item::Message;
            out += event("response.output_item.added",
                {{"output_index", int(m_output.size())},
                    {"item", messageItem(QString(), QStringLiteral("in_progress"))}});
            out += event("response.content_part.added",
                {{"item_id", "msg_converted"}, {"output_index", int(m_output.size())}, {"content_index", 0},
                    {"part", QJsonObject{{"type", "output_text"}, {"text", ""}, {"annotations", QJsonArray()}}}});
        }
        m_text += text;
        out += event("response.output_text.delta",
            {{"item_id", "msg_converted"}, {"output_index", int(m_output.size())}, {"content_index", 0},
                {"delta", text}});
    }
    Q_UNUSED(index);
    for (const QJsonValue &c : delta.value(QLatin1String("tool_calls")).toArray()) {
        const QJsonObject call = c.toObject();
        const int toolIndex = call.value(QLatin1String("index")).toInt(m_toolIndex < 0 ? 0 : m_toolIndex);
        const QJsonObject function = call.value(QLatin1String("function")).toObject();
        if (m_item != Item::Call || toolIndex != m_toolIndex) {
            closeItem(out);
            m_item = Item::Call;
            m_toolIndex = toolIndex;
            m_call = QJsonObject{{"id", QStringLiteral("fc_converted_%1").arg(m_output.size() + 1)},
                {"type", "function_call"}, {"status", "in_progress"},
                {"call_id", call.value(QLatin1String("id")).toString()},
                {"name", function.value(QLatin1String("name")).toString()}, {"arguments", ""}};
            out += event("response.output_item.added", {{"output_index", int(m_output.size())}, {"item", m_call}});
        }
        const QString arguments = function.value(QLatin1String("arguments")).toString();
        if (!arguments.isEmpty()) {
            m_call.insert(
                QStringLiteral("arguments"), QString(m_call.value(QLatin1String("arguments")).toString() + arguments));
            out += event("response.function_call_arguments.delta",
                {{"item_id", m_call.value(QLatin1String("id"))}, {"output_index", int(m_output.size())},
                    {"delta", arguments}});
        }
    }
    const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
    if (finish.isString()) {
        noteFinished();
        m_finishReason = finish.toString();
    }
}

void Stream::onEnd(QByteArray &out)
{
    if (!m_started)
        onChunk(QJsonObject(), out);
    closeItem(out);
    if (m_finishReason == QLatin1String("length"))
        out += event("response.incomplete", {{"response", response(QStringLiteral("incomplete"))}});
    else
        out += event("response.completed", {{"response", response(QStringLiteral("completed"))}});
}

} // namespace ResponsesChat

} // namespace route
