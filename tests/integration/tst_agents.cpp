// Coding agents on the same base URL (SPEC §9): formats, x-api-key,
// routing, count_tokens, sticky sessions, terminal events, usage and
// rate-limit headers, through the real server against fake upstreams.
#include "domain/settings.h"
#include "fakemodel.h"
#include "fakeupstream.h"
#include "rawhttp.h"
#include "testengine.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace route; // test code reads like code inside the project

using Behavior = FakeUpstream::Behavior;

class TestAgents : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_a;
    std::unique_ptr<FakeUpstream> m_b;

    static std::function<void(Upstream &)> anthropic()
    {
        return [](Upstream &u) { u.format = ApiFormat::Anthropic; };
    }

    RawResponse send(const QByteArray &path, const QByteArray &body, const HttpHeaders &extra = {},
        const QByteArray &authorization = TestEngine::bearer())
    {
        RawRequest r;
        r.method = "POST";
        r.target = path;
        if (!authorization.isEmpty())
            r.headers.append("Authorization", authorization);
        r.headers.append("Content-Type", "application/json");
        for (const auto &[name, value] : extra)
            r.headers.append(name, value);
        r.body = body;
        return rawHttp(m_env->port(), r);
    }

    static QByteArray messages(const QByteArray &extra = {})
    {
        // Built, not a raw literal: moc's scanner counts the braces in raw strings.
        return "{\"model\":\"claude-x\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" + extra
            + "}";
    }

    static int countByKey(const FakeUpstream &f, const QByteArray &header, const QByteArray &value)
    {
        int n = 0;
        for (const FakeUpstream::Request &r : f.requests())
            n += r.headers.value(header) == value ? 1 : 0;
        return n;
    }

private Q_SLOTS:
    void init()
    {
        m_env = std::make_unique<TestEngine>();
        QVERIFY(m_env->start());
        m_a = std::make_unique<FakeUpstream>();
        m_b = std::make_unique<FakeUpstream>();
    }

    void cleanup()
    {
        m_env.reset();
        m_a.reset();
        m_b.reset();
    }

    void clientsMayAuthenticateWithXApiKey()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-upstream"), anthropic());
        m_a->setBehavior(Behavior::json(200, FakeModel::messagesJson("ok")));
        HttpHeaders key;
        key.append("x-api-key", TestEngine::token());
        QCOMPARE(send("/v1/messages", messages(), key, {}).status, 200);
        // Neither header: the seed's text, in Anthropic's envelope on /v1/messages.
        const RawResponse none = send("/v1/messages", messages(), {}, {});
        QCOMPARE(none.status, 403);
        const QJsonObject error = QJsonDocument::fromJson(none.body).object();
        QCOMPARE(error.value("type").toString(), QStringLiteral("error"));
        QCOMPARE(error.value("error").toObject().value("type").toString(), QStringLiteral("authentication_error"));
        QCOMPARE(error.value("error").toObject().value("message").toString(),
            QStringLiteral("authorization header should start with 'Bearer'"));
        HttpHeaders wrong;
        wrong.append("x-api-key", "not-the-token");
        QCOMPARE(QJsonDocument::fromJson(send("/v1/messages", messages(), wrong, {}).body)
                     .object()
                     .value("error")
                     .toObject()
                     .value("message")
                     .toString(),
            QStringLiteral("wrong authorization header"));
        // Elsewhere the OpenAI envelope stays.
        const RawResponse chat = send("/v1/chat/completions", "{}", {}, {});
        QCOMPARE(chat.status, 403);
        QVERIFY(QJsonDocument::fromJson(chat.body).object().value("error").toObject().contains("code"));
        QCOMPARE(m_a->requestCount(), 1);
    }

    void eachFormatGetsItsOwnCredentials()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-upstream"), anthropic());
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai-upstream"));
        m_a->setBehavior(Behavior::json(200, FakeModel::messagesJson("ok")));
        m_b->setBehavior(Behavior::json(200, R"({"choices":[]})"));
        HttpHeaders beta;
        beta.append("anthropic-beta", "claude-code-20250219");
        beta.append("x-api-key", "client-side-key");
        QCOMPARE(send("/v1/messages?beta=true", messages(), beta).status, 200);
        const FakeUpstream::Request a = m_a->requests().first();
        QCOMPARE(a.target, QByteArray("/v1/messages?beta=true"));
        QCOMPARE(a.headers.value("x-api-key"), QByteArray("sk-ant-upstream"));
        QCOMPARE(a.headers.value("anthropic-version"), QByteArray("2023-06-01"));
        QCOMPARE(a.headers.value("anthropic-beta"), QByteArray("claude-code-20250219"));
        QVERIFY(!a.headers.contains("authorization"));

        HttpHeaders version;
        version.append("anthropic-version", "2024-01-01");
        QCOMPARE(send("/v1/messages", messages(), version).status, 200);
        QCOMPARE(m_a->requests().last().headers.value("anthropic-version"), QByteArray("2024-01-01"));

        HttpHeaders clientKey;
        clientKey.append("x-api-key", "client-side-key");
        QCOMPARE(send("/v1/chat/completions", R"({"model":"m"})", clientKey).status, 200);
        const FakeUpstream::Request b = m_b->requests().first();
        QCOMPARE(b.headers.value("authorization"), QByteArray("Bearer sk-oai-upstream"));
        QVERIFY(!b.headers.contains("x-api-key"));
        QVERIFY(!b.headers.contains("anthropic-version"));
        QCOMPARE(m_b->requestCount(), 1); // and Messages never went to the OpenAI key
    }

    void messagesWithNoUpstreamAtAllAre503InTheirEnvelope()
    {
        const RawResponse r = send("/v1/messages", messages());
        QCOMPARE(r.status, 503);
        QCOMPARE(QJsonDocument::fromJson(r.body).object().value("type").toString(), QStringLiteral("error"));
    }

    void messagesOverAChatUpstreamAreConverted()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai-upstream"));
        m_b->setBehavior(Behavior::json(200, FakeModel::chatJson("converted hello")));
        HttpHeaders beta;
        beta.append("anthropic-beta", "claude-code-20250219");
        const RawResponse r = send("/v1/messages?beta=true",
            "{\"model\":\"claude-x\",\"max_tokens\":16,\"system\":\"Be terse.\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}]}",
            beta);
        QCOMPARE(r.status, 200);
        const QJsonObject answer = QJsonDocument::fromJson(r.body).object();
        QCOMPARE(answer.value("type").toString(), QStringLiteral("message"));
        QCOMPARE(answer.value("content").toArray().first().toObject().value("text").toString(),
            QStringLiteral("converted hello"));
        QCOMPARE(answer.value("stop_reason").toString(), QStringLiteral("end_turn"));
        QCOMPARE(answer.value("usage").toObject().value("output_tokens").toInt(), 9);
        const FakeUpstream::Request sent = m_b->requests().first();
        QCOMPARE(sent.target, QByteArray("/v1/chat/completions"));
        QCOMPARE(sent.headers.value("authorization"), QByteArray("Bearer sk-oai-upstream"));
        QVERIFY(!sent.headers.contains("anthropic-beta"));
        const QJsonArray chatMessages = QJsonDocument::fromJson(sent.body).object().value("messages").toArray();
        QCOMPARE(chatMessages.first().toObject().value("role").toString(), QStringLiteral("system"));
        const QJsonObject record = m_env->records(1).first().toObject();
        QCOMPARE(record.value("Converted").toBool(), true);
        QCOMPARE(record.value("Path").toString(), QStringLiteral("/v1/messages"));
        QCOMPARE(record.value("PromptTokens").toInt(), 30);
        QCOMPARE(record.value("CompletionTokens").toInt(), 9);
    }

    void aConvertedStreamCarriesAToolCall()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai-upstream"));
        m_b->setBehavior(Behavior::sse(FakeModel::chatToolCall("Read", QJsonObject{{"file_path", "/tmp/a.txt"}}), 2));
        const RawResponse r
            = send("/v1/messages", messages(",\"stream\":true,\"tools\":[{\"name\":\"Read\",\"input_schema\":{}}]"));
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        QVERIFY(r.headers.value("content-type").startsWith("text/event-stream"));
        const QByteArray &b = r.body;
        for (const char *step : {"event: message_start", "\"type\":\"tool_use\"", "input_json_delta",
                 "\"stop_reason\":\"tool_use\"", "event: message_stop"})
            QVERIFY2(b.contains(step), step);
        QVERIFY(
            b.indexOf("message_start") < b.indexOf("tool_use") && b.indexOf("tool_use") < b.indexOf("message_stop"));
        // The arguments, pieced together, are the call's.
        QByteArray json;
        for (const QByteArray &line : b.split('\n'))
            if (line.contains("partial_json"))
                json += QJsonDocument::fromJson(line.mid(6))
                            .object()
                            .value("delta")
                            .toObject()
                            .value("partial_json")
                            .toString()
                            .toUtf8();
        QCOMPARE(QJsonDocument::fromJson(json).object().value("file_path").toString(), QStringLiteral("/tmp/a.txt"));
        QCOMPARE(m_env->records(1).first().toObject().value("Outcome").toString(), QStringLiteral("complete"));
    }

    void aCutChatStreamIsACutMessagesStream()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai-upstream"));
        Behavior cut = Behavior::sse(FakeModel::chatText("half an answer"), 2);
        cut.cutAfterEvents = 2;
        m_b->setBehavior(cut);
        const RawResponse r = send("/v1/messages", messages(",\"stream\":true"));
        QVERIFY(!r.complete);
        QVERIFY(!r.body.contains("message_stop"));
        QCOMPARE(m_env->records(1).first().toObject().value("Outcome").toString(), QStringLiteral("cut_upstream"));
        // Ended cleanly but without finish_reason or [DONE]: cut as well.
        m_b->setBehavior(Behavior::sse(FakeModel::chatText("half", false), 2));
        const RawResponse early = send("/v1/messages", messages(",\"stream\":true"));
        QVERIFY(!early.complete);
        QVERIFY(!early.body.contains("message_stop"));
    }

    void chatErrorsReachTheClientInAnthropicsEnvelope()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai-upstream"));
        m_b->setBehavior(
            Behavior::json(400, R"({"error":{"message":"max_tokens is too large","type":"invalid_request_error"}})"));
        RawResponse r = send("/v1/messages", messages());
        QCOMPARE(r.status, 400);
        QJsonObject error = QJsonDocument::fromJson(r.body).object().value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(error.value("message").toString(), QStringLiteral("max_tokens is too large"));
        Behavior limited = Behavior::json(429, R"({"error":{"message":"slow down"}})");
        limited.headers.append({QByteArray("Retry-After"), QByteArray("7")});
        m_b->setBehavior(limited);
        r = send("/v1/messages", messages());
        QCOMPARE(r.status, 429);
        QCOMPARE(r.headers.value("retry-after"), QByteArray("7"));
        error = QJsonDocument::fromJson(r.body).object().value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("rate_limit_error"));
        QCOMPARE(error.value("message").toString(), QStringLiteral("slow down"));
        // A body that is not Messages at all never reaches the upstream.
        const int before = m_b->requestCount();
        QCOMPARE(send("/v1/messages", R"({"model":"x","messages":"not a list"})").status, 400);
        QCOMPARE(m_b->requestCount(), before);
    }

    void responsesOverAChatUpstreamAreConverted()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-chat"), [](Upstream &u) { u.responses = false; });
        m_b->setBehavior(Behavior::json(200, FakeModel::chatJson("converted")));
        const RawResponse json = send("/v1/responses", R"({"model":"m","input":"hi","store":false})");
        QCOMPARE(json.status, 200);
        const QJsonObject answer = QJsonDocument::fromJson(json.body).object();
        QCOMPARE(answer.value("object").toString(), QStringLiteral("response"));
        QVERIFY(answer.value("id").toString().startsWith(QStringLiteral("resp_")));
        QCOMPARE(m_b->requests().last().target, QByteArray("/v1/chat/completions"));

        m_b->setBehavior(Behavior::sse(FakeModel::chatToolCall("exec_command", QJsonObject{{"cmd", "ls"}}), 2));
        const RawResponse stream = send("/v1/responses",
            R"({"model":"m","stream":true,"input":"list","tools":[{"type":"function","name":"exec_command","parameters":{}}]})");
        QVERIFY(stream.complete);
        for (const char *step : {"response.created", "response.output_item.added",
                 "response.function_call_arguments.delta", "response.output_item.done", "response.completed"})
            QVERIFY2(stream.body.contains(step), step);
        const QJsonArray r = m_env->records(2);
        QCOMPARE(r.at(0).toObject().value("Converted").toBool(), true);
        QCOMPARE(r.at(0).toObject().value("Outcome").toString(), QStringLiteral("complete"));
        QCOMPARE(r.at(0).toObject().value("PromptTokens").toInt(), 30);

        // Stateless: a previous response cannot be followed.
        const RawResponse previous
            = send("/v1/responses", R"({"model":"m","input":"x","previous_response_id":"resp_old"})");
        QCOMPARE(previous.status, 400);
        QVERIFY(QJsonDocument::fromJson(previous.body)
                    .object()
                    .value("error")
                    .toObject()
                    .value("message")
                    .toString()
                    .contains(QStringLiteral("previous_response_id")));
    }

    void responsesPassThroughWhereTheUpstreamHasThem()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai"));
        m_b->setBehavior(Behavior::json(200, FakeModel::responsesJson("native", "resp_native")));
        const RawResponse r = send("/v1/responses", R"({"model":"m","input":"hi"})");
        QVERIFY(r.body.contains("resp_native"));
        QCOMPARE(m_b->requests().last().target, QByteArray("/v1/responses"));
        QCOMPARE(m_env->records(1).first().toObject().value("Converted").toBool(), false);
    }

    void countTokensIsEstimatedWithoutAnUpstreamCall()
    {
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-oai-upstream"));
        const QByteArray body = "{\"model\":\"claude-x\",\"system\":\"You are terse.\",\"messages\":[{\"role\":"
                                "\"user\",\"content\":\""
            + QByteArray(400, 'a') + "\"}]}";
        for (int i = 0; i < 20; ++i) { // Claude Code's IDE extension sends dozens at start
            const RawResponse r = send("/v1/messages/count_tokens", body);
            QCOMPARE(r.status, 200);
            QCOMPARE(r.headers.value("x-route-estimated"), QByteArray("true"));
            const int n = QJsonDocument::fromJson(r.body).object().value("input_tokens").toInt();
            QVERIFY2(n > 100 && n < 130, qPrintable(QString::number(n)));
        }
        QCOMPARE(m_b->requestCount(), 0);
    }

    void countTokensFallsBackWhenTheUpstreamLacksIt()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-upstream"), anthropic());
        m_a->setScript([](const FakeUpstream::Request &r) {
            return r.target.startsWith("/v1/messages/count_tokens") ? Behavior::json(404, R"({"type":"error"})")
                                                                    : Behavior::json(200, "{}");
        });
        const RawResponse r = send("/v1/messages/count_tokens", messages());
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("x-route-estimated"), QByteArray("true"));
        QCOMPARE(m_a->requestCount(), 1);
        // An upstream that can count is asked and answers itself.
        m_a->setBehavior(Behavior::json(200, R"({"input_tokens":42})"));
        const RawResponse counted = send("/v1/messages/count_tokens", messages());
        QCOMPARE(counted.body, QByteArray(R"({"input_tokens":42})"));
        QVERIFY(!counted.headers.contains("x-route-estimated"));
    }

    void aSessionStaysOnOneKeyUnderRoundRobin()
    {
        m_env->setSetting(ConfigKey::policy, QStringLiteral("round_robin"));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-a"), anthropic());
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-b"), anthropic());
        m_a->setBehavior(Behavior::json(200, FakeModel::messagesJson("ok")));
        HttpHeaders session;
        session.append("x-claude-code-session-id", "session-one");
        for (int i = 0; i < 20; ++i)
            QCOMPARE(send("/v1/messages", messages(), session).status, 200);
        const int onA = countByKey(*m_a, "x-api-key", "sk-ant-a");
        QVERIFY2(onA == 0 || onA == 20, qPrintable(QStringLiteral("%1 of 20 turns on key a").arg(onA)));

        // Twenty sessions are spread by the policy as before.
        m_a->clear();
        for (int i = 0; i < 20; ++i) {
            HttpHeaders other;
            other.append("x-claude-code-session-id", "session-" + QByteArray::number(100 + i));
            QCOMPARE(send("/v1/messages", messages(), other).status, 200);
        }
        QCOMPARE(countByKey(*m_a, "x-api-key", "sk-ant-a"), 10);
        QCOMPARE(countByKey(*m_a, "x-api-key", "sk-ant-b"), 10);

        const QJsonArray r = m_env->records(41);
        QCOMPARE(r.at(0).toObject().value("Session").toString(), QStringLiteral("session-119"));
        QVERIFY(QString::fromUtf8(m_env->call("GET", "/metrics").body)
                    .contains(QStringLiteral("openai_route_sessions 21")));
        QVERIFY(QString::fromUtf8(m_env->call("GET", "/metrics").body)
                    .contains(QStringLiteral("openai_route_session_requests_total{placed=\"binding\"} 19")));
    }

    void sessionHintsInTheBody_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("extra");
        QTest::newRow("prompt_cache_key")
            << QByteArray("/v1/chat/completions") << QByteArray(R"(,"prompt_cache_key":"codex-thread-1")");
        QTest::newRow("metadata.user_id") << QByteArray("/v1/chat/completions")
                                          << QByteArray(R"(,"metadata":{"other":1,"user_id":"user_abc_session_1"})");
    }

    void sessionHintsInTheBody()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, extra);
        m_env->setSetting(ConfigKey::policy, QStringLiteral("round_robin"));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-b"));
        m_a->setBehavior(Behavior::json(200, R"({"choices":[]})"));
        for (int i = 0; i < 6; ++i)
            QCOMPARE(send(path, messages(extra)).status, 200);
        const int onA = countByKey(*m_a, "authorization", "Bearer sk-a");
        QVERIFY2(onA == 0 || onA == 6, qPrintable(QString::number(onA)));
    }

    void previousResponseIdFindsTheUpstreamThatMadeIt()
    {
        m_env->setSetting(ConfigKey::policy, QStringLiteral("round_robin"));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        m_a->setBehavior(Behavior::json(200, FakeModel::responsesJson("from a", "resp_made_by_a")));
        m_b->setBehavior(Behavior::json(200, FakeModel::responsesJson("from b", "resp_made_by_b")));
        const RawResponse first = send("/v1/responses", R"({"model":"m","input":"hi"})");
        const bool fromA = first.body.contains("resp_made_by_a");
        const QByteArray id = fromA ? "resp_made_by_a" : "resp_made_by_b";
        for (int i = 0; i < 4; ++i) {
            const RawResponse next = send(
                "/v1/responses", "{\"model\":\"m\",\"input\":\"again\",\"previous_response_id\":\"" + id + "\"}");
            QVERIFY(next.body.contains(fromA ? "from a" : "from b"));
        }
    }

    void aDeadBoundKeyHandsTheSessionOver()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-a"), anthropic());
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-ant-b"), anthropic());
        m_a->setBehavior(Behavior::json(200, FakeModel::messagesJson("from a")));
        m_b->setBehavior(Behavior::json(200, FakeModel::messagesJson("from b")));
        HttpHeaders session;
        session.append("x-claude-code-session-id", "long-session");
        QVERIFY(send("/v1/messages", messages(), session).body.contains("from a")); // the order policy's first
        m_a->setBehavior(Behavior::json(401, R"({"type":"error","error":{"type":"authentication_error"}})"));
        QVERIFY(send("/v1/messages", messages(), session).body.contains("from b"));
        // a is back, and first for the policy; the session stays where it went.
        m_a->setBehavior(Behavior::json(200, FakeModel::messagesJson("from a")));
        m_env->clock().advance(11 * 60 * 1000); // past the rest of a rejected key
        for (int i = 0; i < 3; ++i)
            QVERIFY(send("/v1/messages", messages(), session).body.contains("from b"));
        QVERIFY(send("/v1/messages", messages()).body.contains("from a")); // without a session: the policy
    }

    void status529FailsOver()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-ant-a"), anthropic());
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-ant-b"), anthropic());
        m_a->setBehavior(Behavior::json(529, R"({"type":"error","error":{"type":"overloaded_error"}})"));
        m_b->setBehavior(Behavior::json(200, FakeModel::messagesJson("from b")));
        QVERIFY(send("/v1/messages", messages()).body.contains("from b"));
        QCOMPARE(m_a->requestCount(), 1);
    }

    void streamsWithoutTheirTerminalEventAreCut_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("anthropicFormat");
        QTest::addColumn<QList<QByteArray>>("events");
        QTest::addColumn<bool>("cutByUpstream"); // else it ends cleanly, but early
        QList<QByteArray> messagesEvents = FakeModel::messagesText("hello");
        QList<QByteArray> responsesEvents = FakeModel::responsesText("hello", "resp_1");
        messagesEvents.removeLast(); // no message_stop
        responsesEvents.removeLast(); // no response.completed
        QTest::newRow("messages, clean end") << QByteArray("/v1/messages") << true << messagesEvents << false;
        QTest::newRow("messages, cut") << QByteArray("/v1/messages") << true << FakeModel::messagesText("hello")
                                       << true;
        QTest::newRow("responses, clean end") << QByteArray("/v1/responses") << false << responsesEvents << false;
        QTest::newRow("responses, cut") << QByteArray("/v1/responses") << false
                                        << FakeModel::responsesText("hello", "resp_1") << true;
    }

    void streamsWithoutTheirTerminalEventAreCut()
    {
        QFETCH(QByteArray, path);
        QFETCH(bool, anthropicFormat);
        QFETCH(QList<QByteArray>, events);
        QFETCH(bool, cutByUpstream);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), anthropicFormat ? anthropic() : nullptr);
        Behavior b = Behavior::sse(events, 5);
        if (cutByUpstream)
            b.cutAfterEvents = 3;
        m_a->setBehavior(b);
        const RawResponse r = send(path, "{\"model\":\"m\",\"stream\":true,\"input\":\"hi\"," + messages().mid(1));
        QCOMPARE(r.status, 200);
        QVERIFY2(!r.complete, "a stream without its terminal event must not look whole");
        const QJsonObject record = m_env->records(1).first().toObject();
        QCOMPARE(record.value("Outcome").toString(), QStringLiteral("cut_upstream"));
    }

    void tokensOfEveryFormat_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("anthropicFormat");
        QTest::addColumn<bool>("stream");
        QTest::addColumn<int>("prompt");
        QTest::addColumn<int>("cached");
        QTest::addColumn<int>("cacheWrite");
        QTest::addColumn<int>("completion");
        QTest::addColumn<int>("reasoning");
        // FakeModel::Usage: input 25, output 7, cached 10, cache write 3, reasoning 2.
        QTest::newRow("messages json") << QByteArray("/v1/messages") << true << false << 38 << 10 << 3 << 7 << 0;
        QTest::newRow("messages stream") << QByteArray("/v1/messages") << true << true << 38 << 10 << 3 << 7 << 0;
        QTest::newRow("responses json") << QByteArray("/v1/responses") << false << false << 25 << 10 << 0 << 7 << 2;
        QTest::newRow("responses stream") << QByteArray("/v1/responses") << false << true << 25 << 10 << 0 << 7 << 2;
    }

    void tokensOfEveryFormat()
    {
        QFETCH(QByteArray, path);
        QFETCH(bool, anthropicFormat);
        QFETCH(bool, stream);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), anthropicFormat ? anthropic() : nullptr);
        if (anthropicFormat)
            m_a->setBehavior(stream ? Behavior::sse(FakeModel::messagesText("hi"), 2)
                                    : Behavior::json(200, FakeModel::messagesJson("hi")));
        else
            m_a->setBehavior(stream ? Behavior::sse(FakeModel::responsesText("hi", "resp_1"), 2)
                                    : Behavior::json(200, FakeModel::responsesJson("hi", "resp_1")));
        const RawResponse r = send(path, messages(stream ? R"(,"stream":true)" : ""));
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        const QJsonObject record = m_env->records(1).first().toObject();
        QCOMPARE(record.value("Outcome").toString(), QStringLiteral("complete"));
        QTEST(record.value("PromptTokens").toInt(), "prompt");
        QTEST(record.value("CachedTokens").toInt(), "cached");
        QTEST(record.value("CacheWriteTokens").toInt(), "cacheWrite");
        QTEST(record.value("CompletionTokens").toInt(), "completion");
        QTEST(record.value("ReasoningTokens").toInt(), "reasoning");
        QCOMPARE(record.value("TotalTokens").toInt(),
            record.value("PromptTokens").toInt() + record.value("CompletionTokens").toInt());
        const QString metrics = QString::fromUtf8(m_env->call("GET", "/metrics").body);
        QVERIFY(metrics.contains(QStringLiteral("openai_route_tokens_total{upstream=\"1\",kind=\"cached\"} 10")));
    }

    void anUpstreamWithNothingLeftIsSkippedBeforeIt429s_data()
    {
        QTest::addColumn<QByteArray>("remaining");
        QTest::addColumn<QByteArray>("reset");
        QTest::addColumn<QByteArray>("resetValue");
        QTest::newRow("openai requests") << QByteArray("x-ratelimit-remaining-requests")
                                         << QByteArray("x-ratelimit-reset-requests") << QByteArray("6m0s");
        QTest::newRow("openai tokens") << QByteArray("x-ratelimit-remaining-tokens")
                                       << QByteArray("x-ratelimit-reset-tokens") << QByteArray("59.5s");
        QTest::newRow("anthropic") << QByteArray("anthropic-ratelimit-requests-remaining")
                                   << QByteArray("anthropic-ratelimit-requests-reset")
                                   << QDateTime::currentDateTimeUtc().addSecs(120).toString(Qt::ISODate).toLatin1();
    }

    void anUpstreamWithNothingLeftIsSkippedBeforeIt429s()
    {
        QFETCH(QByteArray, remaining);
        QFETCH(QByteArray, reset);
        QFETCH(QByteArray, resetValue);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        Behavior last = Behavior::json(200, R"({"from":"a"})");
        last.headers.append({remaining, "0"});
        last.headers.append({reset, resetValue});
        m_a->setBehavior(last);
        m_b->setBehavior(Behavior::json(200, R"({"from":"b"})"));
        const RawResponse relayed = send("/v1/chat/completions", "{}");
        QCOMPARE(relayed.body, QByteArray(R"({"from":"a"})"));
        QCOMPARE(relayed.headers.value(remaining), QByteArray("0")); // reaches the client unchanged
        for (int i = 0; i < 3; ++i)
            QCOMPARE(send("/v1/chat/completions", "{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 1);
        // After its reset it is asked again.
        m_env->clock().advance(6 * 60 * 1000 + 1000);
        m_a->setBehavior(Behavior::json(200, R"({"from":"a"})"));
        QCOMPARE(send("/v1/chat/completions", "{}").body, QByteArray(R"({"from":"a"})"));
    }
};

QTEST_GUILESS_MAIN(TestAgents)
#include "tst_agents.moc"
