#include "fakemodel.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

namespace FakeModel {

namespace {

QByteArray event(const QByteArray &name, const QJsonObject &data)
{
    return "event: " + name + "\ndata: " + QJsonDocument(data).toJson(QJsonDocument::Compact) + "\n\n";
}

QJsonObject messagesUsage(const Usage &u)
{
    return QJsonObject{{"input_tokens", u.input}, {"cache_creation_input_tokens", u.cacheWrite},
        {"cache_read_input_tokens", u.cached}, {"output_tokens", 1}};
}

QList<QByteArray> messagesStream(
    const QJsonObject &block, const QList<QJsonObject> &deltas, const QByteArray &stopReason, const Usage &usage)
{
    QList<QByteArray> out;
    out << event("message_start",
        {{"type", "message_start"},
            {"message",
                QJsonObject{{"id", "msg_fake1"}, {"type", "message"}, {"role", "assistant"}, {"model", "fake-model"},
                    {"content", QJsonArray()}, {"stop_reason", QJsonValue::Null}, {"stop_sequence", QJsonValue::Null},
                    {"usage", messagesUsage(usage)}}}});
    out << event("content_block_start", {{"type", "content_block_start"}, {"index", 0}, {"content_block", block}});
    for (const QJsonObject &d : deltas)
        out << event("content_block_delta", {{"type", "content_block_delta"}, {"index", 0}, {"delta", d}});
    out << event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
    out << event("message_delta",
        {{"type", "message_delta"},
            {"delta", QJsonObject{{"stop_reason", QString::fromUtf8(stopReason)}, {"stop_sequence", QJsonValue::Null}}},
            {"usage", QJsonObject{{"output_tokens", usage.output}}}});
    out << event("message_stop", {{"type", "message_stop"}});
    return out;
}

QJsonObject responsesUsage(const Usage &u)
{
    return QJsonObject{{"input_tokens", u.input}, {"input_tokens_details", QJsonObject{{"cached_tokens", u.cached}}},
        {"output_tokens", u.output}, {"output_tokens_details", QJsonObject{{"reasoning_tokens", u.reasoning}}},
        {"total_tokens", u.input + u.output}};
}

QJsonObject response(const QByteArray &id, const QString &status, const QJsonArray &output, const Usage *usage)
{
    QJsonObject r{{"id", QString::fromUtf8(id)}, {"object", "response"}, {"created_at", 1700000000}, {"status", status},
        {"model", "fake-model"}, {"output", output}};
    r.insert("usage", usage ? QJsonValue(responsesUsage(*usage)) : QJsonValue(QJsonValue::Null));
    return r;
}

QList<QByteArray> responsesStream(
    const QJsonObject &item, const QList<QByteArray> &middle, const QByteArray &id, const Usage &usage)
{
    QJsonObject added = item;
    added.insert("status", "in_progress");
    QList<QByteArray> out;
    int seq = 0;
    out << event("response.created",
        {{"type", "response.created"}, {"sequence_number", seq++},
            {"response", response(id, "in_progress", QJsonArray(), nullptr)}});
    out << event("response.output_item.added",
        {{"type", "response.output_item.added"}, {"sequence_number", seq++}, {"output_index", 0}, {"item", added}});
    out << middle;
    out << event("response.output_item.done",
        {{"type", "response.output_item.done"}, {"sequence_number", seq++}, {"output_index", 0}, {"item", item}});
    out << event("response.completed",
        {{"type", "response.completed"}, {"sequence_number", seq++},
            {"response", response(id, "completed", QJsonArray{item}, &usage)}});
    return out;
}

QJsonObject textItem(const QByteArray &text)
{
    return QJsonObject{{"id", "msg_fake1"}, {"type", "message"}, {"status", "completed"}, {"role", "assistant"},
        {"content",
            QJsonArray{QJsonObject{
                {"type", "output_text"}, {"text", QString::fromUtf8(text)}, {"annotations", QJsonArray()}}}}};
}

// Every text the user wrote, in order (Messages and Responses shapes alike).
QString userText(const QJsonArray &turns)
{
    QString all;
    for (const QJsonValue &t : turns) {
        const QJsonObject o = t.toObject();
        if (o.value("role").toString() != QLatin1String("user"))
            continue;
        const QJsonValue content = o.value("content");
        if (content.isString())
            all += content.toString() + QLatin1Char('\n');
        for (const QJsonValue &part : content.toArray()) {
            const QString type = part.toObject().value("type").toString();
            if (type == QLatin1String("text") || type == QLatin1String("input_text"))
                all += part.toObject().value("text").toString() + QLatin1Char('\n');
        }
    }
    return all;
}

QString firstPath(const QString &text)
{
    static const QRegularExpression path(QStringLiteral("(/[A-Za-z0-9._/-]+\\.txt)"));
    return path.match(text).captured(1);
}

// The tool's answer, when the last turn carries one.
std::optional<QString> messagesToolResult(const QJsonArray &messages)
{
    if (messages.isEmpty())
        return std::nullopt;
    for (const QJsonValue &part : messages.last().toObject().value("content").toArray()) {
        const QJsonObject o = part.toObject();
        if (o.value("type").toString() != QLatin1String("tool_result"))
            continue;
        const QJsonValue c = o.value("content");
        if (c.isString())
            return c.toString();
        QString text;
        for (const QJsonValue &b : c.toArray())
            text += b.toObject().value("text").toString();
        return text;
    }
    return std::nullopt;
}

std::optional<QString> responsesToolResult(const QJsonArray &input)
{
    for (const QJsonValue &item : input)
        if (item.toObject().value("type").toString() == QLatin1String("function_call_output"))
            return item.toObject().value("output").toString();
    return std::nullopt;
}

bool offersTool(const QJsonArray &tools, const QString &name)
{
    for (const QJsonValue &t : tools)
        if (t.toObject().value("name").toString() == name)
            return true;
    return false;
}

FakeUpstream::Behavior streamOrJson(bool stream, const QList<QByteArray> &events, const QByteArray &json)
{
    return stream ? FakeUpstream::Behavior::sse(events, 5) : FakeUpstream::Behavior::json(200, json);
}

} // namespace

QList<QByteArray> messagesText(const QByteArray &text, const Usage &usage)
{
    return messagesStream(QJsonObject{{"type", "text"}, {"text", ""}},
        {QJsonObject{{"type", "text_delta"}, {"text", QString::fromUtf8(text)}}}, "end_turn", usage);
}

QList<QByteArray> messagesToolUse(const QByteArray &tool, const QJsonObject &input, const Usage &usage)
{
    const QByteArray args = QJsonDocument(input).toJson(QJsonDocument::Compact);
    // Split in two, as servers stream arguments.
    const qsizetype half = args.size() / 2;
    return messagesStream(QJsonObject{{"type", "tool_use"}, {"id", "toolu_fake1"}, {"name", QString::fromUtf8(tool)},
                              {"input", QJsonObject()}},
        {QJsonObject{{"type", "input_json_delta"}, {"partial_json", QString::fromUtf8(args.left(half))}},
            QJsonObject{{"type", "input_json_delta"}, {"partial_json", QString::fromUtf8(args.mid(half))}}},
        "tool_use", usage);
}

QByteArray messagesJson(const QByteArray &text, const Usage &usage)
{
    QJsonObject u = messagesUsage(usage);
    u.insert("output_tokens", usage.output);
    return QJsonDocument(
        QJsonObject{{"id", "msg_fake1"}, {"type", "message"}, {"role", "assistant"}, {"model", "fake-model"},
            {"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", QString::fromUtf8(text)}}}},
            {"stop_reason", "end_turn"}, {"stop_sequence", QJsonValue::Null}, {"usage", u}})
        .toJson(QJsonDocument::Compact);
}

QList<QByteArray> responsesText(const QByteArray &text, const QByteArray &responseId, const Usage &usage)
{
    const QList<QByteArray> middle{
        event("response.output_text.delta",
            {{"type", "response.output_text.delta"}, {"item_id", "msg_fake1"}, {"output_index", 0},
                {"content_index", 0}, {"delta", QString::fromUtf8(text)}}),
        event("response.output_text.done",
            {{"type", "response.output_text.done"}, {"item_id", "msg_fake1"}, {"output_index", 0}, {"content_index", 0},
                {"text", QString::fromUtf8(text)}})};
    return responsesStream(textItem(text), middle, responseId, usage);
}

QList<QByteArray> responsesFunctionCall(
    const QByteArray &name, const QJsonObject &arguments, const QByteArray &responseId, const Usage &usage)
{
    const QString args = QString::fromUtf8(QJsonDocument(arguments).toJson(QJsonDocument::Compact));
    const QJsonObject item{{"id", "fc_fake1"}, {"type", "function_call"}, {"status", "completed"},
        {"call_id", "call_fake1"}, {"name", QString::fromUtf8(name)}, {"arguments", args}};
    const QList<QByteArray> middle{event("response.function_call_arguments.delta",
                                       {{"type", "response.function_call_arguments.delta"}, {"item_id", "fc_fake1"},
                                           {"output_index", 0}, {"delta", args}}),
        event("response.function_call_arguments.done",
            {{"type", "response.function_call_arguments.done"}, {"item_id", "fc_fake1"}, {"output_index", 0},
                {"arguments", args}})};
    return responsesStream(item, middle, responseId, usage);
}

QByteArray responsesJson(const QByteArray &text, const QByteArray &responseId, const Usage &usage)
{
    return QJsonDocument(response(responseId, "completed", QJsonArray{textItem(text)}, &usage))
        .toJson(QJsonDocument::Compact);
}

QList<QByteArray> chatText(const QByteArray &text, bool done)
{
    const auto chunk = [](const QJsonObject &delta, const QJsonValue &finish) -> QByteArray {
        return "data: "
            + QJsonDocument(
                QJsonObject{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"}, {"model", "fake-chat"},
                    {"choices", QJsonArray{QJsonObject{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}})
                  .toJson(QJsonDocument::Compact)
            + "\n\n";
    };
    QList<QByteArray> out{chunk(QJsonObject{{"role", "assistant"}, {"content", ""}}, QJsonValue::Null),
        chunk(QJsonObject{{"content", QString::fromUtf8(text)}}, QJsonValue::Null)};
    if (!done)
        return out;
    out << chunk(QJsonObject(), QStringLiteral("stop"));
    out << R"(data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39,"prompt_tokens_details":{"cached_tokens":4}}})"
           "\n\n";
    out << "data: [DONE]\n\n";
    return out;
}

QList<QByteArray> chatToolCall(const QByteArray &name, const QJsonObject &arguments)
{
    const QString args = QString::fromUtf8(QJsonDocument(arguments).toJson(QJsonDocument::Compact));
    const qsizetype half = args.size() / 2;
    const auto chunk = [](const QJsonObject &delta, const QJsonValue &finish) -> QByteArray {
        return "data: "
            + QJsonDocument(
                QJsonObject{{"id", "chatcmpl-fake"}, {"object", "chat.completion.chunk"},
                    {"choices", QJsonArray{QJsonObject{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}})
                  .toJson(QJsonDocument::Compact)
            + "\n\n";
    };
    const auto call = [](const QJsonObject &c) -> QJsonObject { return QJsonObject{{"tool_calls", QJsonArray{c}}}; };
    return {chunk(QJsonObject{{"role", "assistant"}, {"content", QJsonValue::Null}}, QJsonValue::Null),
        chunk(call(QJsonObject{{"index", 0}, {"id", "call_fake1"}, {"type", "function"},
                  {"function", QJsonObject{{"name", QString::fromUtf8(name)}, {"arguments", args.left(half)}}}}),
            QJsonValue::Null),
        chunk(call(QJsonObject{{"index", 0}, {"function", QJsonObject{{"arguments", args.mid(half)}}}}),
            QJsonValue::Null),
        chunk(QJsonObject(), QStringLiteral("tool_calls")),
        R"(data: {"id":"chatcmpl-fake","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}})"
        "\n\n",
        "data: [DONE]\n\n"};
}

QByteArray chatJson(const QByteArray &text)
{
    return QJsonDocument(
        QJsonObject{{"id", "chatcmpl-fake"}, {"object", "chat.completion"}, {"model", "fake-chat"},
            {"choices",
                QJsonArray{QJsonObject{{"index", 0},
                    {"message", QJsonObject{{"role", "assistant"}, {"content", QString::fromUtf8(text)}}},
                    {"finish_reason", "stop"}}}},
            {"usage", QJsonObject{{"prompt_tokens", 30}, {"completion_tokens", 9}, {"total_tokens", 39}}}})
        .toJson(QJsonDocument::Compact);
}

FakeUpstream::Behavior agentTurn(const FakeUpstream::Request &request)
{
    const QJsonObject body = QJsonDocument::fromJson(request.body).object();
    const bool stream = body.value("stream").toBool();
    const QByteArray path
        = request.target.left(request.target.indexOf('?') < 0 ? request.target.size() : request.target.indexOf('?'));
    if (path.endsWith("/messages")) {
        const QJsonArray messages = body.value("messages").toArray();
        if (const auto result = messagesToolResult(messages)) {
            const QByteArray answer = "The file says: " + result->trimmed().toUtf8();
            return streamOrJson(stream, messagesText(answer), messagesJson(answer));
        }
        const QString file = firstPath(userText(messages));
        if (!file.isEmpty() && offersTool(body.value("tools").toArray(), QStringLiteral("Read")))
            return FakeUpstream::Behavior::sse(messagesToolUse("Read", QJsonObject{{"file_path", file}}), 5);
        return streamOrJson(
            stream, messagesText("Hello from the fake model."), messagesJson("Hello from the fake model."));
    }
    if (path.endsWith("/responses")) {
        static std::atomic<int> counter{0};
        const QByteArray id = "resp_fake" + QByteArray::number(++counter);
        const QJsonArray input = body.value("input").toArray();
        if (const auto result = responsesToolResult(input)) {
            const QByteArray answer = "The file says: " + result->trimmed().toUtf8();
            return streamOrJson(stream, responsesText(answer, id), responsesJson(answer, id));
        }
        const QString file = firstPath(userText(input));
        if (!file.isEmpty() && offersTool(body.value("tools").toArray(), QStringLiteral("exec_command")))
            return FakeUpstream::Behavior::sse(
                responsesFunctionCall("exec_command", QJsonObject{{"cmd", QString(QStringLiteral("cat ") + file)}}, id),
                5);
        return streamOrJson(
            stream, responsesText("Hello from the fake model.", id), responsesJson("Hello from the fake model.", id));
    }
    if (path.endsWith("/chat/completions")) {
        const QJsonArray messages = body.value("messages").toArray();
        const QJsonObject last = messages.isEmpty() ? QJsonObject() : messages.last().toObject();
        if (last.value("role").toString() == QLatin1String("tool")) {
            const QByteArray answer = "The file says: " + last.value("content").toString().trimmed().toUtf8();
            return streamOrJson(stream, chatText(answer), chatJson(answer));
        }
        const QString file = firstPath(userText(messages));
        const QJsonArray tools = body.value("tools").toArray();
        for (const QJsonValue &t : tools) {
            const QString name = t.toObject().value("function").toObject().value("name").toString();
            if (!file.isEmpty() && name == QLatin1String("Read"))
                return FakeUpstream::Behavior::sse(chatToolCall("Read", QJsonObject{{"file_path", file}}), 5);
            if (!file.isEmpty() && name == QLatin1String("exec_command"))
                return FakeUpstream::Behavior::sse(
                    chatToolCall("exec_command", QJsonObject{{"cmd", QString(QStringLiteral("cat ") + file)}}), 5);
        }
        if (stream)
            return FakeUpstream::Behavior::sse(chatText("Hello from the fake model."), 5);
    }
    if (path.endsWith("/models"))
        return FakeUpstream::Behavior::json(200, R"({"object":"list","data":[{"id":"fake-model","object":"model"}]})");
    return FakeUpstream::Behavior::json(200,
        R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fake model."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}})");
}

FakeUpstream::Behavior catalogTurn(const FakeUpstream::Request &request, const QStringList &models, const QString &name)
{
    const QByteArray path
        = request.target.left(request.target.indexOf('?') < 0 ? request.target.size() : request.target.indexOf('?'));
    if (path.endsWith("/models")) {
        QJsonArray data;
        for (const QString &m : models)
            data.append(QJsonObject{{"id", m}, {"object", "model"}, {"owned_by", name}});
        return FakeUpstream::Behavior::json(
            200, QJsonDocument(QJsonObject{{"object", "list"}, {"data", data}}).toJson(QJsonDocument::Compact));
    }
    const QString model = QJsonDocument::fromJson(request.body).object().value("model").toString();
    const QJsonObject message{{"role", "assistant"}, {"content", QString(name + QLatin1Char(':') + model)}};
    const QJsonObject answer{{"id", "chatcmpl-catalog"}, {"object", "chat.completion"}, {"model", model},
        {"choices", QJsonArray{QJsonObject{{"index", 0}, {"message", message}, {"finish_reason", "stop"}}}},
        {"usage", QJsonObject{{"prompt_tokens", 5}, {"completion_tokens", 2}, {"total_tokens", 7}}}};
    return FakeUpstream::Behavior::json(200, QJsonDocument(answer).toJson(QJsonDocument::Compact));
}

} // namespace FakeModel
