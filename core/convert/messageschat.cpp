#include "convert/messageschat.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace route {

namespace MessagesChat {

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray event(const char *name, const QJsonObject &data)
{
    return QByteArray("event: ") + name + "\ndata: " + compact(data) + "\n\n";
}

// Text of a string or of an array of text blocks (system prompts, tool results).
QString textOf(const QJsonValue &v)
{
    if (v.isString())
        return v.toString();
    QStringList parts;
    for (const QJsonValue &b : v.toArray())
        if (b.toObject().value(QLatin1String("type")).toString() == QLatin1String("text"))
            parts << b.toObject().value(QLatin1String("text")).toString();
    return parts.join(QLatin1Char('\n'));
}

QJsonObject imagePart(const QJsonObject &block)
{
    const QJsonObject source = block.value(QLatin1String("source")).toObject();
    const QString type = source.value(QLatin1String("type")).toString();
    const QString url = type == QLatin1String("url")
        ? source.value(QLatin1String("url")).toString()
        : QStringLiteral("data:") + source.value(QLatin1String("media_type")).toString() + QStringLiteral(";base64,")
            + source.value(QLatin1String("data")).toString();
    return QJsonObject{{"type", "image_url"}, {"image_url", QJsonObject{{"url", url}}}};
}

// A user turn: its tool results first (Chat wants them right after the
// assistant's calls), then what the user wrote.
void addUserTurn(const QJsonValue &content, QJsonArray &out)
{
    if (content.isString()) {
        out.append(QJsonObject{{"role", "user"}, {"content", content.toString()}});
        return;
    }
    QJsonArray parts;
    for (const QJsonValue &v : content.toArray()) {
        const QJsonObject block = v.toObject();
        const QString type = block.value(QLatin1String("type")).toString();
        if (type == QLatin1String("tool_result")) {
            QString text = textOf(block.value(QLatin1String("content")));
            if (block.value(QLatin1String("is_error")).toBool())
                text = QStringLiteral("Error: ") + text;
            out.append(QJsonObject{{"role", "tool"},
                {"tool_call_id", block.value(QLatin1String("tool_use_id")).toString()}, {"content", text}});
        } else if (type == QLatin1String("text")) {
            parts.append(QJsonObject{{"type", "text"}, {"text", block.value(QLatin1String("text")).toString()}});
        } else if (type == QLatin1String("image")) {
            parts.append(imagePart(block));
        } else if (type == QLatin1String("document")) {
            parts.append(QJsonObject{{"type", "text"},
                {"text", textOf(block.value(QLatin1String("source")).toObject().value(QLatin1String("data")))}});
        }
    }
    if (parts.isEmpty())
        return;
    // Text only: a plain string, which every chat server reads.
    bool textOnly = true;
    QStringList texts;
    for (const QJsonValue &p : parts) {
        textOnly = textOnly && p.toObject().value(QLatin1String("type")).toString() == QLatin1String("text");
        texts << p.toObject().value(QLatin1String("text")).toString();
    }
    out.append(QJsonObject{
        {"role", "user"}, {"content", textOnly ? QJsonValue(texts.join(QLatin1Char('\n'))) : QJsonValue(parts)}});
}

void addAssistantTurn(const QJsonValue &content, QJsonArray &out)
{
    if (content.isString()) {
        out.append(QJsonObject{{"role", "assistant"}, {"content", content.toString()}});
        return;
    }
    QStringList texts;
    QJsonArray calls;
    for (const QJsonValue &v : content.toArray()) {
        const QJsonObject block = v.toObject();
        const QString type = block.value(QLatin1String("type")).toString();
        if (type == QLatin1String("text")) {
            texts << block.value(QLatin1String("text")).toString();
        } else if (type == QLatin1String("tool_use")) {
            calls.append(QJsonObject{{"id", block.value(QLatin1String("id")).toString()}, {"type", "function"},
                {"function",
                    QJsonObject{{"name", block.value(QLatin1String("name")).toString()},
                        {"arguments", QString::fromUtf8(compact(block.value(QLatin1String("input")).toObject()))}}}});
        }
        // thinking and redacted_thinking: the chat model cannot take them back
    }
    QJsonObject turn{{"role", "assistant"}};
    turn.insert(
        QStringLiteral("content"), texts.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(texts.join(QString())));
    if (!calls.isEmpty())
        turn.insert(QStringLiteral("tool_calls"), calls);
    out.append(turn);
}

QJsonValue toolChoice(const QJsonObject &choice, QJsonObject &chat)
{
    const QString type = choice.value(QLatin1String("type")).toString();
    if (choice.value(QLatin1String("disable_parallel_tool_use")).toBool())
        chat.insert(QStringLiteral("parallel_tool_calls"), false);
    if (type == QLatin1String("any"))
        return QStringLiteral("required");
    if (type == QLatin1String("none"))
        return QStringLiteral("none");
    if (type == QLatin1String("tool"))
        return QJsonObject{
            {"type", "function"}, {"function", QJsonObject{{"name", choice.value(QLatin1String("name")).toString()}}}};
    return QStringLiteral("auto");
}

QString anthropicErrorType(int status)
{
    switch (status) {
    case 400: return QStringLiteral("invalid_request_error");
    case 401: return QStringLiteral("authentication_error");
    case 403: return QStringLiteral("permission_error");
    case 404: return QStringLiteral("not_found_error");
    case 413: return QStringLiteral("request_too_large");
    case 429: return QStringLiteral("rate_limit_error");
    case 503:
    case 529: return QStringLiteral("overloaded_error");
    default:
        return status >= 400 && status < 500 ? QStringLiteral("invalid_request_error") : QStringLiteral("api_error");
    }
}

QJsonObject usageObject(int input, int cached, int output)
{
    return QJsonObject{{"input_tokens", qMax(0, input - cached)}, {"cache_read_input_tokens", cached},
        {"cache_creation_input_tokens", 0}, {"output_tokens", output}};
}

} // namespace

QString stopReason(const QString &finishReason)
{
    if (finishReason == QLatin1String("length"))
        return QStringLiteral("max_tokens");
    if (finishReason == QLatin1String("tool_calls") || finishReason == QLatin1String("function_call"))
        return QStringLiteral("tool_use");
    if (finishReason == QLatin1String("content_filter"))
        return QStringLiteral("refusal");
    return QStringLiteral("end_turn");
}

Request toChat(const QByteArray &messagesBody)
{
    Request r;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(messagesBody, &parseError);
    if (!doc.isObject()) {
        r.error = QStringLiteral("the body must be a JSON object");
        return r;
    }
    const QJsonObject m = doc.object();
    const QJsonValue rawMessages = m.value(QLatin1String("messages"));
    if (!rawMessages.isArray()) {
        r.error = QStringLiteral("messages: must be an array");
        return r;
    }
    r.model = m.value(QLatin1String("model")).toString();
    r.stream = m.value(QLatin1String("stream")).toBool();

    QJsonArray messages;
    const QString system = textOf(m.value(QLatin1String("system")));
    if (!system.isEmpty())
        messages.append(QJsonObject{{"role", "system"}, {"content", system}});
    for (const QJsonValue &v : rawMessages.toArray()) {
        const QJsonObject turn = v.toObject();
        const QString role = turn.value(QLatin1String("role")).toString();
        if (role == QLatin1String("assistant"))
            addAssistantTurn(turn.value(QLatin1String("content")), messages);
        else if (role == QLatin1String("user"))
            addUserTurn(turn.value(QLatin1String("content")), messages);
        else if (role == QLatin1String("system")) // Claude Code's mid-conversation instructions
            messages.append(QJsonObject{{"role", "system"}, {"content", textOf(turn.value(QLatin1String("content")))}});
        else {
            r.error = QStringLiteral("messages: role must be user, assistant or system, got '%1'").arg(role);
            return r;
        }
    }

    QJsonObject chat{{"model", r.model}, {"messages", messages}};
    if (m.contains(QLatin1String("max_tokens")))
        chat.insert(QStringLiteral("max_tokens"), m.value(QLatin1String("max_tokens")));
    for (const char *same : {"temperature", "top_p"})
        if (m.contains(QLatin1String(same)))
            chat.insert(QLatin1String(same), m.value(QLatin1String(same)));
    if (m.value(QLatin1String("stop_sequences")).isArray())
        chat.insert(QStringLiteral("stop"), m.value(QLatin1String("stop_sequences")));
    const QString user = m.value(QLatin1String("metadata")).toObject().value(QLatin1String("user_id")).toString();
    if (!user.isEmpty())
        chat.insert(QStringLiteral("user"), user.left(256));
    QJsonArray tools;
    for (const QJsonValue &t : m.value(QLatin1String("tools")).toArray()) {
        const QJsonObject tool = t.toObject();
        // Anthropic's server tools (web search, code execution) have a type
        // and no schema: a chat upstream cannot run them.
        if (!tool.contains(QLatin1String("input_schema")))
            continue;
        QJsonObject function{{"name", tool.value(QLatin1String("name")).toString()},
            {"parameters", tool.value(QLatin1String("input_schema"))}};
        if (tool.contains(QLatin1String("description")))
            function.insert(QStringLiteral("description"), tool.value(QLatin1String("description")));
        tools.append(QJsonObject{{"type", "function"}, {"function", function}});
    }
    if (!tools.isEmpty()) {
        chat.insert(QStringLiteral("tools"), tools);
        if (m.value(QLatin1String("tool_choice")).isObject())
            chat.insert(
                QStringLiteral("tool_choice"), toolChoice(m.value(QLatin1String("tool_choice")).toObject(), chat));
    }
    if (r.stream) {
        chat.insert(QStringLiteral("stream"), true);
        chat.insert(QStringLiteral("stream_options"), QJsonObject{{"include_usage", true}});
    }
    // thinking, top_k, context_management, output_config: a chat upstream has no use for them.
    r.body = compact(chat);
    return r;
}

QByteArray fromChat(const QByteArray &chatBody, const QString &model)
{
    const QJsonObject chat = QJsonDocument::fromJson(chatBody).object();
    const QJsonObject choice = chat.value(QLatin1String("choices")).toArray().first().toObject();
    const QJsonObject message = choice.value(QLatin1String("message")).toObject();
    QJsonArray content;
    const QString reasoning = message.value(QLatin1String("reasoning_content")).toString();
    if (!reasoning.isEmpty())
        content.append(QJsonObject{{"type", "thinking"}, {"thinking", reasoning}, {"signature", ""}});
    const QString text = message.value(QLatin1String("content")).toString();
    if (!text.isEmpty())
        content.append(QJsonObject{{"type", "text"}, {"text", text}});
    for (const QJsonValue &c : message.value(QLatin1String("tool_calls")).toArray()) {
        const QJsonObject call = c.toObject();
        const QJsonObject function = call.value(QLatin1String("function")).toObject();
        const QJsonObject input
            = QJsonDocument::fromJson(function.value(QLatin1String("arguments")).toString().toUtf8()).object();
        content.append(QJsonObject{{"type", "tool_use"}, {"id", call.value(QLatin1String("id")).toString()},
            {"name", function.value(QLatin1String("name")).toString()}, {"input", input}});
    }
    const QJsonObject usage = chat.value(QLatin1String("usage")).toObject();
    const int cached
        = usage.value(QLatin1String("prompt_tokens_details")).toObject().value(QLatin1String("cached_tokens")).toInt();
    const QString id = chat.value(QLatin1String("id")).toString();
    return compact(
        QJsonObject{{"id", QString(QStringLiteral("msg_") + (id.isEmpty() ? QStringLiteral("converted") : id))},
            {"type", "message"}, {"role", "assistant"}, {"model", chat.value(QLatin1String("model")).toString(model)},
            {"content", content}, {"stop_reason", stopReason(choice.value(QLatin1String("finish_reason")).toString())},
            {"stop_sequence", QJsonValue::Null},
            {"usage",
                usageObject(usage.value(QLatin1String("prompt_tokens")).toInt(), cached,
                    usage.value(QLatin1String("completion_tokens")).toInt())}});
}

QByteArray errorFromChat(int status, const QByteArray &chatBody)
{
    const QJsonObject body = QJsonDocument::fromJson(chatBody).object();
    const QJsonValue error = body.value(QLatin1String("error"));
    QString message = error.isObject() ? error.toObject().value(QLatin1String("message")).toString()
                                       : error.toString(body.value(QLatin1String("message")).toString());
    if (message.isEmpty())
        message = QString::fromUtf8(chatBody.left(500)).trimmed();
    if (message.isEmpty())
        message = QStringLiteral("the upstream answered HTTP %1").arg(status);
    return compact(QJsonObject{
        {"type", "error"}, {"error", QJsonObject{{"type", anthropicErrorType(status)}, {"message", message}}}});
}

Stream::Stream(QString model) : m_model(std::move(model))
{ }

void Stream::start(const QJsonObject &chunk, QByteArray &out)
{
    m_started = true;
    const QString id = chunk.value(QLatin1String("id")).toString();
    out += event("message_start",
        QJsonObject{{"type", "message_start"},
            {"message",
                QJsonObject{{"id", QString(QStringLiteral("msg_") + (id.isEmpty() ? QStringLiteral("converted") : id))},
                    {"type", "message"}, {"role", "assistant"},
                    {"model", chunk.value(QLatin1String("model")).toString(m_model)}, {"content", QJsonArray()},
                    {"stop_reason", QJsonValue::Null}, {"stop_sequence", QJsonValue::Null},
                    {"usage", usageObject(0, 0, 0)}}}});
}

void Stream::open(Block kind, const QJsonObject &contentBlock, QByteArray &out)
{
    close(out);
    m_block = kind;
    ++m_index;
    out += event("content_block_start",
        QJsonObject{{"type", "content_block_start"}, {"index", m_index}, {"content_block", contentBlock}});
}

void Stream::close(QByteArray &out)
{
    if (m_block == Block::None)
        return;
    if (m_block == Block::Thinking)
        out += event("content_block_delta",
            QJsonObject{{"type", "content_block_delta"}, {"index", m_index},
                {"delta", QJsonObject{{"type", "signature_delta"}, {"signature", ""}}}});
    out += event("content_block_stop", QJsonObject{{"type", "content_block_stop"}, {"index", m_index}});
    m_block = Block::None;
    m_toolIndex = -1;
}

void Stream::onChunk(const QJsonObject &chunk, QByteArray &out)
{
    if (!m_started)
        start(chunk, out);
    const QJsonObject usage = chunk.value(QLatin1String("usage")).toObject();
    if (!usage.isEmpty()) {
        m_inputTokens = usage.value(QLatin1String("prompt_tokens")).toInt();
        m_outputTokens = usage.value(QLatin1String("completion_tokens")).toInt();
        m_cachedTokens = usage.value(QLatin1String("prompt_tokens_details"))
                             .toObject()
                             .value(QLatin1String("cached_tokens"))
                             .toInt();
    }
    const QJsonObject choice = chunk.value(QLatin1String("choices")).toArray().first().toObject();
    const QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
    const QString reasoning = delta.value(QLatin1String("reasoning_content")).toString();
    if (!reasoning.isEmpty()) {
        if (m_block != Block::Thinking)
            open(Block::Thinking, QJsonObject{{"type", "thinking"}, {"thinking", ""}}, out);
        out += event("content_block_delta",
            QJsonObject{{"type", "content_block_delta"}, {"index", m_index},
                {"delta", QJsonObject{{"type", "thinking_delta"}, {"thinking", reasoning}}}});
    }
    const QString text = delta.value(QLatin1String("content")).toString();
    if (!text.isEmpty()) {
        if (m_block != Block::Text)
            open(Block::Text, QJsonObject{{"type", "text"}, {"text", ""}}, out);
        out += event("content_block_delta",
            QJsonObject{{"type", "content_block_delta"}, {"index", m_index},
                {"delta", QJsonObject{{"type", "text_delta"}, {"text", text}}}});
    }
    for (const QJsonValue &c : delta.value(QLatin1String("tool_calls")).toArray()) {
        const QJsonObject call = c.toObject();
        const int index = call.value(QLatin1String("index")).toInt(m_toolIndex < 0 ? 0 : m_toolIndex);
        const QJsonObject function = call.value(QLatin1String("function")).toObject();
        if (m_block != Block::Tool || index != m_toolIndex) {
            open(Block::Tool,
                QJsonObject{{"type", "tool_use"}, {"id", call.value(QLatin1String("id")).toString()},
                    {"name", function.value(QLatin1String("name")).toString()}, {"input", QJsonObject()}},
                out);
            m_toolIndex = index;
        }
        const QString arguments = function.value(QLatin1String("arguments")).toString();
        if (!arguments.isEmpty())
            out += event("content_block_delta",
                QJsonObject{{"type", "content_block_delta"}, {"index", m_index},
                    {"delta", QJsonObject{{"type", "input_json_delta"}, {"partial_json", arguments}}}});
    }
    const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
    if (finish.isString()) {
        noteFinished();
        m_stopReason = stopReason(finish.toString());
    }
}

void Stream::onEnd(QByteArray &out)
{
    if (!m_started)
        start(QJsonObject(), out);
    close(out);
    QJsonObject usage = usageObject(m_inputTokens, m_cachedTokens, m_outputTokens);
    out += event("message_delta",
        QJsonObject{{"type", "message_delta"},
            {"delta", QJsonObject{{"stop_reason", m_stopReason}, {"stop_sequence", QJsonValue::Null}}},
            {"usage", usage}});
    out += event("message_stop", QJsonObject{{"type", "message_stop"}});
}

} // namespace MessagesChat

} // namespace route
