#include "convert/messageschat.h"
#include "convert/responseschat.h"
#include "fakemodel.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace route; // test code reads like code inside the project

// Messages <-> Chat Completions, as tables of payloads written from the two
// public API references: each request shape and each answer shape.
class TestConvert : public QObject
{
    Q_OBJECT

    static QJsonObject json(const QByteArray &bytes) { return QJsonDocument::fromJson(bytes).object(); }

    // The Messages events of a converted chat stream, as (name, data) pairs.
    static QList<std::pair<QByteArray, QJsonObject>> events(const QByteArray &sse)
    {
        QList<std::pair<QByteArray, QJsonObject>> out;
        QByteArray name;
        for (const QByteArray &line : sse.split('\n')) {
            if (line.startsWith("event: "))
                name = line.mid(7);
            else if (line.startsWith("data: "))
                out << std::make_pair(name, json(line.mid(6)));
        }
        return out;
    }

    static QByteArray convertStream(const QList<QByteArray> &chunks, bool *ended = nullptr)
    {
        MessagesChat::Stream s(QStringLiteral("claude-x"));
        QByteArray out;
        for (const QByteArray &c : chunks)
            out += s.feed(c);
        out += s.finish();
        if (ended)
            *ended = s.ended();
        return out;
    }

private Q_SLOTS:
    void requests_data();
    void requests();
    void refusedRequests_data();
    void refusedRequests();
    void answers();
    void errors_data();
    void errors();
    void streamOfText();
    void streamOfToolCalls();
    void streamOfThinking();
    void cutStreamsStayCut();
    void streamSplitAnywhere();
    void responsesRequests_data();
    void responsesRequests();
    void responsesRefused();
    void responsesAnswers();
    void responsesStreams();
};

void TestConvert::requests_data()
{
    QTest::addColumn<QByteArray>("messages");
    QTest::addColumn<QByteArray>("chat");
    QTest::newRow("system string, text")
        << QByteArray(R"({"model":"m","max_tokens":9,"system":"S","messages":[{"role":"user","content":"hi"}]})")
        << QByteArray(
               R"({"max_tokens":9,"messages":[{"content":"S","role":"system"},{"content":"hi","role":"user"}],"model":"m"})");
    QTest::newRow("system blocks, text blocks")
        << QByteArray(
               R"({"model":"m","system":[{"type":"text","text":"A"},{"type":"text","text":"B","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]}]})")
        << QByteArray(
               R"({"messages":[{"content":"A\nB","role":"system"},{"content":"x\ny","role":"user"}],"model":"m"})");
    QTest::newRow("images, base64 and url")
        << QByteArray(
               R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA"}},{"type":"image","source":{"type":"url","url":"https://e/x.png"}}]}]})")
        << QByteArray(
               R"({"messages":[{"content":[{"text":"what?","type":"text"},{"image_url":{"url":"data:image/png;base64,AAA"},"type":"image_url"},{"image_url":{"url":"https://e/x.png"},"type":"image_url"}],"role":"user"}],"model":"m"})");
    QTest::newRow("tools, two calls in a turn, results with an error")
        << QByteArray(
               R"({"model":"m","tools":[{"name":"Read","description":"reads","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any","disable_parallel_tool_use":true},"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"ok"},{"type":"tool_use","id":"t1","name":"Read","input":{"p":1}},{"type":"tool_use","id":"t2","name":"Read","input":{"p":2}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"one"},{"type":"tool_result","tool_use_id":"t2","is_error":true,"content":[{"type":"text","text":"no such file"}]},{"type":"text","text":"and?"}]}]})")
        << QByteArray(
               R"({"messages":[{"content":"go","role":"user"},{"content":"ok","role":"assistant","tool_calls":[{"function":{"arguments":"{\"p\":1}","name":"Read"},"id":"t1","type":"function"},{"function":{"arguments":"{\"p\":2}","name":"Read"},"id":"t2","type":"function"}]},{"content":"one","role":"tool","tool_call_id":"t1"},{"content":"Error: no such file","role":"tool","tool_call_id":"t2"},{"content":"and?","role":"user"}],"model":"m","parallel_tool_calls":false,"tool_choice":"required","tools":[{"function":{"description":"reads","name":"Read","parameters":{"type":"object"}},"type":"function"}]})");
    QTest::newRow("a system turn in the conversation")
        << QByteArray(
               R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"system","content":[{"type":"text","text":"be brief"}]}]})")
        << QByteArray(
               R"({"messages":[{"content":"a","role":"user"},{"content":"be brief","role":"system"}],"model":"m"})");
    QTest::newRow("a named tool")
        << QByteArray(
               R"({"model":"m","tools":[{"name":"T","input_schema":{}}],"tool_choice":{"type":"tool","name":"T"},"messages":[{"role":"user","content":"x"}]})")
        << QByteArray(
               R"({"messages":[{"content":"x","role":"user"}],"model":"m","tool_choice":{"function":{"name":"T"},"type":"function"},"tools":[{"function":{"name":"T","parameters":{}},"type":"function"}]})");
    QTest::newRow("sampling, stop, user, stream; thinking dropped")
        << QByteArray(
               R"({"model":"m","max_tokens":5,"temperature":0.5,"top_p":0.9,"top_k":3,"stop_sequences":["END"],"metadata":{"user_id":"u1"},"thinking":{"type":"enabled","budget_tokens":1024},"stream":true,"messages":[{"role":"user","content":"x"}]})")
        << QByteArray(
               R"({"max_tokens":5,"messages":[{"content":"x","role":"user"}],"model":"m","stop":["END"],"stream":true,"stream_options":{"include_usage":true},"temperature":0.5,"top_p":0.9,"user":"u1"})");
}

void TestConvert::requests()
{
    QFETCH(QByteArray, messages);
    QFETCH(QByteArray, chat);
    const MessagesChat::Request r = MessagesChat::toChat(messages);
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(json(r.body), json(chat));
}

void TestConvert::refusedRequests_data()
{
    QTest::addColumn<QByteArray>("messages");
    QTest::newRow("not json") << QByteArray("{");
    QTest::newRow("no messages") << QByteArray(R"({"model":"m"})");
    QTest::newRow("messages not a list") << QByteArray(R"({"model":"m","messages":"x"})");
    QTest::newRow("an unknown role") << QByteArray(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})");
}

void TestConvert::refusedRequests()
{
    QFETCH(QByteArray, messages);
    const MessagesChat::Request r = MessagesChat::toChat(messages);
    QVERIFY(!r.error.isEmpty());
    QVERIFY(r.body.isEmpty());
}

void TestConvert::answers()
{
    const QJsonObject text = json(MessagesChat::fromChat(
        R"({"id":"c1","model":"gpt-x","choices":[{"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}})",
        QStringLiteral("claude-x")));
    QCOMPARE(text.value("type").toString(), QStringLiteral("message"));
    QCOMPARE(text.value("id").toString(), QStringLiteral("msg_c1"));
    QCOMPARE(text.value("content").toArray().first().toObject().value("text").toString(), QStringLiteral("hello"));
    QCOMPARE(text.value("stop_reason").toString(), QStringLiteral("end_turn"));
    QCOMPARE(text.value("usage").toObject().value("input_tokens").toInt(), 6); // cached apart, as Anthropic counts
    QCOMPARE(text.value("usage").toObject().value("cache_read_input_tokens").toInt(), 4);
    QCOMPARE(text.value("usage").toObject().value("output_tokens").toInt(), 2);

    const QJsonObject tools = json(MessagesChat::fromChat(
        R"({"choices":[{"message":{"role":"assistant","content":null,"reasoning_content":"think","tool_calls":[{"id":"a","type":"function","function":{"name":"Read","arguments":"{\"p\":1}"}},{"id":"b","type":"function","function":{"name":"Ls","arguments":"{}"}}]},"finish_reason":"tool_calls"}]})",
        QStringLiteral("claude-x")));
    const QJsonArray content = tools.value("content").toArray();
    QCOMPARE(content.size(), 3);
    QCOMPARE(content.at(0).toObject().value("type").toString(), QStringLiteral("thinking"));
    QCOMPARE(content.at(1).toObject().value("input").toObject().value("p").toInt(), 1);
    QCOMPARE(content.at(2).toObject().value("name").toString(), QStringLiteral("Ls"));
    QCOMPARE(tools.value("stop_reason").toString(), QStringLiteral("tool_use"));
    QCOMPARE(tools.value("model").toString(), QStringLiteral("claude-x"));

    QCOMPARE(MessagesChat::stopReason(QStringLiteral("length")), QStringLiteral("max_tokens"));
    QCOMPARE(MessagesChat::stopReason(QStringLiteral("content_filter")), QStringLiteral("refusal"));
}

void TestConvert::errors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("message");
    QTest::newRow("openai 400") << 400 << QByteArray(R"({"error":{"message":"bad","type":"invalid_request_error"}})")
                                << "invalid_request_error"
                                << "bad";
    QTest::newRow("401") << 401 << QByteArray(R"({"error":{"message":"key"}})") << "authentication_error"
                         << "key";
    QTest::newRow("429") << 429 << QByteArray(R"({"error":{"message":"slow"}})") << "rate_limit_error"
                         << "slow";
    QTest::newRow("503") << 503 << QByteArray(R"({"error":"busy"})") << "overloaded_error"
                         << "busy";
    QTest::newRow("plain text 502") << 502 << QByteArray("Bad Gateway") << "api_error"
                                    << "Bad Gateway";
    QTest::newRow("empty 500") << 500 << QByteArray() << "api_error"
                               << "the upstream answered HTTP 500";
}

void TestConvert::errors()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    const QJsonObject e = json(MessagesChat::errorFromChat(status, body));
    QCOMPARE(e.value("type").toString(), QStringLiteral("error"));
    QTEST(e.value("error").toObject().value("type").toString(), "type");
    QTEST(e.value("error").toObject().value("message").toString(), "message");
}

void TestConvert::streamOfText()
{
    bool ended = false;
    const auto ev = events(convertStream(FakeModel::chatText("hello"), &ended));
    QVERIFY(ended);
    QStringList names;
    for (const auto &[name, data] : ev)
        names << QString::fromLatin1(name);
    QCOMPARE(names,
        (QStringList{"message_start", "content_block_start", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop"}));
    QCOMPARE(ev.at(2).second.value("delta").toObject().value("text").toString(), QStringLiteral("hello"));
    const QJsonObject usage = ev.at(4).second.value("usage").toObject();
    QCOMPARE(usage.value("input_tokens").toInt(), 26); // 30 less 4 cached
    QCOMPARE(usage.value("cache_read_input_tokens").toInt(), 4);
    QCOMPARE(usage.value("output_tokens").toInt(), 9);
    QCOMPARE(ev.at(4).second.value("delta").toObject().value("stop_reason").toString(), QStringLiteral("end_turn"));
}

void TestConvert::streamOfToolCalls()
{
    // Two calls in one turn, the second's arguments in pieces.
    const QList<QByteArray> chunks{R"(data: {"choices":[{"delta":{"role":"assistant","content":"Let me look."}}]})"
                                   "\n\n",
        R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"Read","arguments":"{\"p\":"}}]}}]})"
        "\n\n",
        R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]})"
        "\n\n",
        R"(data: {"choices":[{"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"Ls","arguments":""}}]}}]})"
        "\n\n",
        R"(data: {"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}}]})"
        "\n\n",
        R"(data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}]})"
        "\n\n",
        "data: [DONE]\n\n"};
    const auto ev = events(convertStream(chunks));
    QList<QJsonObject> starts;
    QMap<int, QString> arguments;
    for (const auto &[name, data] : ev) {
        if (name == "content_block_start")
            starts << data.value("content_block").toObject();
        if (name == "content_block_delta"
            && data.value("delta").toObject().value("type") == QLatin1String("input_json_delta"))
            arguments[data.value("index").toInt()] += data.value("delta").toObject().value("partial_json").toString();
    }
    QCOMPARE(starts.size(), 3);
    QCOMPARE(starts.at(0).value("type").toString(), QStringLiteral("text"));
    QCOMPARE(starts.at(1).value("id").toString(), QStringLiteral("c1"));
    QCOMPARE(starts.at(1).value("name").toString(), QStringLiteral("Read"));
    QCOMPARE(starts.at(2).value("name").toString(), QStringLiteral("Ls"));
    QCOMPARE(arguments.value(1), QStringLiteral("{\"p\":1}"));
    QCOMPARE(arguments.value(2), QStringLiteral("{}"));
    QCOMPARE(ev.at(ev.size() - 2).second.value("delta").toObject().value("stop_reason").toString(),
        QStringLiteral("tool_use"));
}

void TestConvert::streamOfThinking()
{
    const QList<QByteArray> chunks{R"(data: {"choices":[{"delta":{"reasoning_content":"Hmm."}}]})"
                                   "\n\n",
        R"(data: {"choices":[{"delta":{"content":"Yes."},"finish_reason":"stop"}]})"
        "\n\n"};
    bool ended = false;
    const auto ev = events(convertStream(chunks, &ended));
    QVERIFY(ended); // a finish_reason without [DONE] ends it too
    QCOMPARE(ev.at(1).second.value("content_block").toObject().value("type").toString(), QStringLiteral("thinking"));
    QCOMPARE(ev.at(2).second.value("delta").toObject().value("thinking").toString(), QStringLiteral("Hmm."));
    QCOMPARE(ev.at(3).second.value("delta").toObject().value("type").toString(), QStringLiteral("signature_delta"));
}

void TestConvert::cutStreamsStayCut()
{
    bool ended = true;
    const QByteArray out = convertStream(FakeModel::chatText("half", false), &ended);
    QVERIFY(!ended);
    QVERIFY(out.contains("text_delta"));
    QVERIFY(!out.contains("message_stop"));
    QVERIFY(!out.contains("message_delta"));
}

void TestConvert::streamSplitAnywhere()
{
    QByteArray whole;
    for (const QByteArray &c : FakeModel::chatToolCall("Read", QJsonObject{{"file_path", "/tmp/a.txt"}}))
        whole += c;
    const QByteArray expected = convertStream({whole});
    for (qsizetype size : {1, 7, 64}) {
        QList<QByteArray> pieces;
        for (qsizetype at = 0; at < whole.size(); at += size)
            pieces << whole.mid(at, size);
        QCOMPARE(convertStream(pieces), expected);
    }
    QVERIFY(expected.contains("/tmp/a.txt"));
}

void TestConvert::responsesRequests_data()
{
    QTest::addColumn<QByteArray>("responses");
    QTest::addColumn<QByteArray>("chat");
    QTest::newRow("text input, instructions, max_output_tokens")
        << QByteArray(
               R"({"model":"m","instructions":"I","input":"hi","max_output_tokens":7,"store":false,"reasoning":{"effort":"low"}})")
        << QByteArray(
               R"({"max_tokens":7,"messages":[{"content":"I","role":"system"},{"content":"hi","role":"user"}],"model":"m"})");
    QTest::newRow("items: developer, user, a call and its output, tools")
        << QByteArray(
               R"({"model":"m","stream":true,"tool_choice":"auto","parallel_tool_calls":false,"tools":[{"type":"function","name":"exec_command","description":"runs","parameters":{"type":"object"}},{"type":"web_search"},{"type":"namespace","name":"x"}],"input":[{"type":"message","role":"developer","content":[{"type":"input_text","text":"D"}]},{"type":"message","role":"user","content":[{"type":"input_text","text":"go"}]},{"type":"reasoning","summary":[],"encrypted_content":"e"},{"type":"function_call","call_id":"c1","name":"exec_command","arguments":"{\"cmd\":\"ls\"}"},{"type":"function_call_output","call_id":"c1","output":"a.txt"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"done"}]}]})")
        << QByteArray(
               R"({"messages":[{"content":"D","role":"system"},{"content":"go","role":"user"},{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"cmd\":\"ls\"}","name":"exec_command"},"id":"c1","type":"function"}]},{"content":"a.txt","role":"tool","tool_call_id":"c1"},{"content":"done","role":"assistant"}],"model":"m","parallel_tool_calls":false,"stream":true,"stream_options":{"include_usage":true},"tool_choice":"auto","tools":[{"function":{"description":"runs","name":"exec_command","parameters":{"type":"object"}},"type":"function"}]})");
    QTest::newRow("an image")
        << QByteArray(
               R"({"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"what?"},{"type":"input_image","image_url":"data:image/png;base64,AA"}]}]})")
        << QByteArray(
               R"({"messages":[{"content":[{"text":"what?","type":"text"},{"image_url":{"url":"data:image/png;base64,AA"},"type":"image_url"}],"role":"user"}],"model":"m"})");
}

void TestConvert::responsesRequests()
{
    QFETCH(QByteArray, responses);
    QFETCH(QByteArray, chat);
    const ResponsesChat::Request r = ResponsesChat::toChat(responses);
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(json(r.body), json(chat));
}

void TestConvert::responsesRefused()
{
    QVERIFY(ResponsesChat::toChat(R"({"model":"m","input":"x","previous_response_id":"resp_1"})")
                .error.contains(QStringLiteral("previous_response_id")));
    QVERIFY(!ResponsesChat::toChat(R"({"model":"m","input":7})").error.isEmpty());
    QVERIFY(!ResponsesChat::toChat("[]").error.isEmpty());
    const QJsonObject e = json(ResponsesChat::errorFromChat(502, "Bad Gateway"));
    QCOMPARE(e.value("error").toObject().value("message").toString(), QStringLiteral("Bad Gateway"));
    const QByteArray openAi = R"({"error":{"message":"bad","type":"invalid_request_error"}})";
    QCOMPARE(ResponsesChat::errorFromChat(400, openAi), openAi);
}

void TestConvert::responsesAnswers()
{
    const QJsonObject r = json(ResponsesChat::fromChat(
        R"({"model":"gpt-x","choices":[{"message":{"role":"assistant","content":"hi","tool_calls":[{"id":"c1","type":"function","function":{"name":"exec_command","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}})",
        QStringLiteral("m"), "resp_x"));
    QCOMPARE(r.value("id").toString(), QStringLiteral("resp_x"));
    QCOMPARE(r.value("object").toString(), QStringLiteral("response"));
    QCOMPARE(r.value("status").toString(), QStringLiteral("completed"));
    const QJsonArray output = r.value("output").toArray();
    QCOMPARE(output.size(), 2);
    QCOMPARE(output.at(0).toObject().value("content").toArray().first().toObject().value("text").toString(),
        QStringLiteral("hi"));
    QCOMPARE(output.at(1).toObject().value("type").toString(), QStringLiteral("function_call"));
    QCOMPARE(output.at(1).toObject().value("call_id").toString(), QStringLiteral("c1"));
    const QJsonObject usage = r.value("usage").toObject();
    QCOMPARE(usage.value("input_tokens").toInt(), 10);
    QCOMPARE(usage.value("input_tokens_details").toObject().value("cached_tokens").toInt(), 2);
    QCOMPARE(usage.value("output_tokens_details").toObject().value("reasoning_tokens").toInt(), 1);
    QCOMPARE(usage.value("total_tokens").toInt(), 13);
    const QJsonObject cut = json(ResponsesChat::fromChat(
        R"({"choices":[{"message":{"content":"x"},"finish_reason":"length"}]})", QStringLiteral("m"), "resp_y"));
    QCOMPARE(cut.value("status").toString(), QStringLiteral("incomplete"));
}

void TestConvert::responsesStreams()
{
    const auto run = [](const QList<QByteArray> &chunks, bool *ended) {
        ResponsesChat::Stream s(QStringLiteral("m"), "resp_s");
        QByteArray out;
        for (const QByteArray &c : chunks)
            out += s.feed(c);
        out += s.finish();
        *ended = s.ended();
        return out;
    };
    bool ended = false;
    auto ev = events(run(FakeModel::chatText("hello"), &ended));
    QVERIFY(ended);
    QStringList names;
    for (const auto &[name, data] : ev)
        names << QString::fromLatin1(name);
    QCOMPARE(names,
        (QStringList{"response.created", "response.in_progress", "response.output_item.added",
            "response.content_part.added", "response.output_text.delta", "response.output_text.done",
            "response.content_part.done", "response.output_item.done", "response.completed"}));
    for (int i = 0; i < ev.size(); ++i)
        QCOMPARE(ev.at(i).second.value("sequence_number").toInt(), i);
    const QJsonObject completed = ev.last().second.value("response").toObject();
    QCOMPARE(completed.value("id").toString(), QStringLiteral("resp_s"));
    QCOMPARE(completed.value("usage").toObject().value("input_tokens").toInt(), 30);
    QCOMPARE(completed.value("output").toArray().first().toObject().value("content").toArray().first().toObject().value(
                 "text"),
        QJsonValue(QStringLiteral("hello")));

    ev = events(run(FakeModel::chatToolCall("exec_command", QJsonObject{{"cmd", "cat a.txt"}}), &ended));
    QVERIFY(ended);
    QString arguments;
    QJsonObject done;
    for (const auto &[name, data] : ev) {
        if (name == "response.function_call_arguments.delta")
            arguments += data.value("delta").toString();
        if (name == "response.output_item.done")
            done = data.value("item").toObject();
    }
    QCOMPARE(json(arguments.toUtf8()).value("cmd").toString(), QStringLiteral("cat a.txt"));
    QCOMPARE(done.value("call_id").toString(), QStringLiteral("call_fake1"));
    QCOMPARE(done.value("name").toString(), QStringLiteral("exec_command"));
    QCOMPARE(done.value("arguments").toString(), arguments);

    const QByteArray cut = run(FakeModel::chatText("half", false), &ended);
    QVERIFY(!ended);
    QVERIFY(!cut.contains("response.completed"));
}

QTEST_APPLESS_MAIN(TestConvert)
#include "tst_convert.moc"
