#include "balancer/balancer.h"
#include "domain/upstream.h"
#include "http/errorbody.h"
#include "proxy/proxyrules.h"
#include "proxy/tokenestimate.h"
#include "records/usagescanner.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <QTest>

using namespace route; // test code reads like code inside the project

class TestProxyRules : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void urlMapping_data()
    {
        QTest::addColumn<QString>("endpoint");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("query");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("openai") << QStringLiteral("https://api.openai.com/v1") << QByteArray("/v1/chat/completions")
                                << QByteArray() << QByteArray("https://api.openai.com/v1/chat/completions");
        QTest::newRow("own base path") << QStringLiteral("https://openrouter.ai/api/v1") << QByteArray("/v1/models")
                                       << QByteArray() << QByteArray("https://openrouter.ai/api/v1/models");
        QTest::newRow("trailing slash") << QStringLiteral("http://127.0.0.1:11434/v1/") << QByteArray("/v1/models")
                                        << QByteArray() << QByteArray("http://127.0.0.1:11434/v1/models");
        QTest::newRow("query kept") << QStringLiteral("http://h:1/v1") << QByteArray("/v1/files")
                                    << QByteArray("purpose=batch&limit=2")
                                    << QByteArray("http://h:1/v1/files?purpose=batch&limit=2");
        QTest::newRow("encoded path kept") << QStringLiteral("http://h/v1") << QByteArray("/v1/files/a%2Fb")
                                           << QByteArray() << QByteArray("http://h/v1/files/a%2Fb");
        QTest::newRow("bare v1") << QStringLiteral("http://h/base") << QByteArray("/v1") << QByteArray()
                                 << QByteArray("http://h/base");
        QTest::newRow("no path on endpoint")
            << QStringLiteral("http://h") << QByteArray("/v1/models") << QByteArray() << QByteArray("http://h/models");
    }

    void urlMapping()
    {
        QFETCH(QString, endpoint);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, query);
        QFETCH(QByteArray, expected);
        QCOMPARE(ProxyRules::upstreamTarget(endpoint, path, query).toUrl().toEncoded(), expected);
    }

    void invalidEndpoints()
    {
        for (const char *bad : {"", "ftp://h/v1", "api.openai.com/v1", "http://", "http://h/v1?x=1"}) {
            QVERIFY2(!isValidEndpoint(QLatin1String(bad)), bad);
            QVERIFY(!ProxyRules::upstreamTarget(QLatin1String(bad), "/v1/x", {}).isValid());
        }
    }

    void requestHeaders()
    {
        HttpHeaders client;
        client.append("Host", "127.0.0.1:8888");
        client.append("Authorization", "Bearer client-token");
        client.append("Connection", "keep-alive, X-Hop");
        client.append("X-Hop", "1");
        client.append("Keep-Alive", "timeout=5");
        client.append("Transfer-Encoding", "chunked");
        client.append("Content-Length", "12");
        client.append("Content-Type", "application/json");
        client.append("OpenAI-Organization", "org-1");
        client.append("Expect", "100-continue");
        const HttpHeaders up = ProxyRules::upstreamRequestHeaders(client, QStringLiteral("sk-upstream"));
        QCOMPARE(up.value("authorization"), QByteArray("Bearer sk-upstream"));
        QVERIFY(!up.contains("host"));
        QVERIFY(!up.contains("connection"));
        QVERIFY(!up.contains("x-hop"));
        QVERIFY(!up.contains("keep-alive"));
        QVERIFY(!up.contains("transfer-encoding"));
        QVERIFY(!up.contains("content-length"));
        QVERIFY(!up.contains("expect"));
        QCOMPARE(up.value("content-type"), QByteArray("application/json"));
        QCOMPARE(up.value("openai-organization"), QByteArray("org-1"));
        QCOMPARE(up.value("accept-encoding"), QByteArray("identity"));
        for (const auto &[name, value] : up)
            QVERIFY(!value.contains("client-token"));
    }

    void keylessUpstreamGetsNoAuthorization()
    {
        HttpHeaders client;
        client.append("Authorization", "Bearer client-token");
        client.append("Accept-Encoding", "gzip");
        const HttpHeaders up = ProxyRules::upstreamRequestHeaders(client, QString());
        QVERIFY(!up.contains("authorization"));
        QCOMPARE(up.value("accept-encoding"), QByteArray("gzip"));
    }

    void responseHeaders()
    {
        const QList<std::pair<QByteArray, QByteArray>> upstream{{"Content-Type", "text/event-stream"},
            {"Transfer-Encoding", "chunked"}, {"Connection", "close"}, {"Content-Length", "5"},
            {"X-Request-Id", "req-1"}, {"X-Echo", "Bearer sk-secretkey-123"}, {"Set-Cookie", "a=1"}};
        const HttpHeaders out = ProxyRules::clientResponseHeaders(upstream, QStringLiteral("sk-secretkey-123"));
        QCOMPARE(out.value("content-type"), QByteArray("text/event-stream"));
        QCOMPARE(out.value("x-request-id"), QByteArray("req-1"));
        QCOMPARE(out.value("set-cookie"), QByteArray("a=1"));
        QVERIFY(!out.contains("transfer-encoding"));
        QVERIFY(!out.contains("connection"));
        QVERIFY(!out.contains("content-length"));
        QVERIFY(!out.contains("x-echo"));
    }

    void inspectJson()
    {
        auto t = ProxyRules::inspectBody("application/json", R"({"model":"gpt-4o","stream":true,"messages":[]})");
        QCOMPARE(t.model, QStringLiteral("gpt-4o"));
        QVERIFY(t.stream);
        t = ProxyRules::inspectBody("application/x-www-form-urlencoded", R"(  {"model":"m2"})");
        QCOMPARE(t.model, QStringLiteral("m2"));
        QVERIFY(!t.stream);
        t = ProxyRules::inspectBody("application/json", "not json");
        QVERIFY(t.model.isEmpty());
        t = ProxyRules::inspectBody("application/octet-stream", "{\"model\":\"x\"}");
        QCOMPARE(t.model, QStringLiteral("x"));
        t = ProxyRules::inspectBody("text/plain", "hello");
        QVERIFY(t.model.isEmpty());
    }

    void inspectJsonReadsOnlyTheTopLevel()
    {
        // A model or stream inside the messages is not the request's.
        auto t = ProxyRules::inspectBody("application/json",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"say \\\"}\\\" "
            "{\\\"model\\\":\\\"x\\\"}\",\"model\":\"inner\","
            "\"stream\":true}],\"tools\":{\"a\":[1,2,{\"b\":\"]}\"}]},\"model\" : \"gpt-4o-mini\" "
            ",\n\t\"stream\":false}");
        QCOMPARE(t.model, QStringLiteral("gpt-4o-mini"));
        QVERIFY(!t.stream);
        // Escapes in the value and in keys, unicode, repeated keys (the last counts).
        t = ProxyRules::inspectBody("application/json",
            "{\"model\":\"first\",\"m\\u006fdel\":\"caf\\u00e9\\\"x\\\"\",\"stream\":true,\"temperature\":0.5,\"n\":"
            "null}");
        QCOMPARE(t.model, QString::fromUtf8("caf\xc3\xa9\"x\""));
        QVERIFY(t.stream);
        // Not a string / not a boolean: as a JSON parser would read them.
        t = ProxyRules::inspectBody("application/json", "{\"model\":42,\"stream\":\"true\"}");
        QVERIFY(t.model.isEmpty());
        QVERIFY(!t.stream);
        // Broken or truncated bodies give nothing.
        for (const char *bad :
            {"{\"model\":\"x\"", "{\"model\":\"x\",}", "{\"model\" \"x\"}", "{\"model\":\"x\"} trailing",
                "[{\"model\":\"x\"}]", "{\"messages\":[1,2}", "{\"model\":\"unterminated}"}) {
            t = ProxyRules::inspectBody("application/json", bad);
            QVERIFY2(t.model.isEmpty() && !t.stream, bad);
        }
        // A large body costs a pass over its bytes, nothing more.
        QByteArray big = "{\"messages\":[";
        for (int i = 0; i < 20000; ++i)
            big += "{\"role\":\"user\",\"content\":\"lorem [ipsum] {dolor} \\\"sit\\\" amet\"},";
        big += "{}],\"stream\":true,\"model\":\"big\"}";
        t = ProxyRules::inspectBody("application/json", big);
        QCOMPARE(t.model, QStringLiteral("big"));
        QVERIFY(t.stream);
    }

    void inspectMultipart()
    {
        const QByteArray body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                                "Content-Type: audio/wav\r\n\r\nname=\"model\"\r\n\x01\x02\r\n--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--XyZ--\r\n";
        const auto t = ProxyRules::inspectBody("multipart/form-data; boundary=XyZ", body);
        QCOMPARE(t.model, QStringLiteral("whisper-1"));
        QCOMPARE(
            ProxyRules::inspectBody("multipart/form-data; boundary=\"XyZ\"", body).model, QStringLiteral("whisper-1"));
    }

    void usageOfTheAgentFormats()
    {
        // Responses: input counts the cached tokens already.
        TokenUsage u = UsageScanner::scan("event: response.completed\n"
                                          "data: "
                                          "{\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":"
                                          "30,\"input_tokens_details\":{\"cached_tokens\":12},\"output_tokens\":8,"
                                          "\"output_tokens_details\":{\"reasoning_tokens\":3},\"total_tokens\":38}}}\n"
                                          "\n",
            UsageScanner::Shape::Responses);
        QCOMPARE(u.prompt, 30);
        QCOMPARE(u.cached, 12);
        QCOMPARE(u.completion, 8);
        QCOMPARE(u.reasoning, 3);
        QCOMPARE(u.total, 38);
        // Messages stream: input in message_start, output in message_delta.
        UsageScanner messages(UsageScanner::Shape::Messages);
        messages.feed("event: message_start\n"
                      "data: "
                      "{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":20,\"cache_creation_input_"
                      "tokens\":5,\"cache_read_input_tokens\":100,\"output_tokens\":1}}}\n"
                      "\n");
        messages.feed(QByteArray(20000, ' ')); // a long answer: message_start leaves the tail
        messages.feed(
            "event: message_delta\n"
            "data: "
            "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n"
            "\n"
            "event: message_stop\n"
            "data: {\"type\":\"message_stop\"}\n"
            "\n");
        u = messages.result();
        QCOMPARE(u.prompt, 125); // input + cache read + cache write
        QCOMPARE(u.cached, 100);
        QCOMPARE(u.cacheWrite, 5);
        QCOMPARE(u.completion, 42);
        QCOMPARE(u.total, 167);
        // Chat with the cached detail.
        u = UsageScanner::scan(
            R"({"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55,"prompt_tokens_details":{"cached_tokens":40}}})");
        QCOMPARE(u.cached, 40);
        QCOMPARE(u.prompt, 50);
    }

    void affinityKeysInTheirOrder()
    {
        HttpHeaders h;
        ProxyRules::BodyTraits body;
        QVERIFY(ProxyRules::affinityKey(h, body).isEmpty());
        body.metadataUserId = QStringLiteral("user");
        QCOMPARE(ProxyRules::affinityKey(h, body), QByteArray("user"));
        body.previousResponseId = QStringLiteral("resp_1");
        QCOMPARE(ProxyRules::affinityKey(h, body), QByteArray("resp:resp_1"));
        body.promptCacheKey = QStringLiteral("pck");
        QCOMPARE(ProxyRules::affinityKey(h, body), QByteArray("pck"));
        h.append("conversation_id", "conv");
        QCOMPARE(ProxyRules::affinityKey(h, body), QByteArray("conv"));
        h.append("session_id", "sess");
        QCOMPARE(ProxyRules::affinityKey(h, body), QByteArray("sess"));
        h.append("X-Claude-Code-Session-Id", "claude");
        QCOMPARE(ProxyRules::affinityKey(h, body), QByteArray("claude"));

        const ProxyRules::BodyTraits read = ProxyRules::inspectBody("application/json",
            "{\"model\":\"m\",\"metadata\":{\"user_id\":\"u\\\"1\"},\"prompt_cache_key\":\"k\",\"previous_response_"
            "id\":\"resp_9\"}");
        QCOMPARE(read.metadataUserId, QStringLiteral("u\"1"));
        QCOMPARE(read.promptCacheKey, QStringLiteral("k"));
        QCOMPARE(read.previousResponseId, QStringLiteral("resp_9"));
        QCOMPARE(read.model, QStringLiteral("m"));
    }

    void quotaHeaders()
    {
        const QDateTime now = QDateTime::fromString(QStringLiteral("2026-12-01T10:00:00Z"), Qt::ISODate);
        HttpHeaders h;
        QCOMPARE(ProxyRules::quotaExhaustedForMs(h, now), qint64(-1));
        h.append("x-ratelimit-remaining-requests", "3");
        h.append("x-ratelimit-reset-requests", "1s");
        QCOMPARE(ProxyRules::quotaExhaustedForMs(h, now), qint64(-1)); // some left
        h.append("x-ratelimit-remaining-tokens", "0");
        h.append("x-ratelimit-reset-tokens", "6m0.5s");
        QCOMPARE(ProxyRules::quotaExhaustedForMs(h, now), qint64(360500));
        HttpHeaders ms;
        ms.append("x-ratelimit-remaining-requests", "0");
        ms.append("x-ratelimit-reset-requests", "20ms");
        QCOMPARE(ProxyRules::quotaExhaustedForMs(ms, now), qint64(20));
        HttpHeaders anthropic;
        anthropic.append("anthropic-ratelimit-output-tokens-remaining", "0");
        anthropic.append("anthropic-ratelimit-output-tokens-reset", "2026-12-01T10:00:30Z");
        QCOMPARE(ProxyRules::quotaExhaustedForMs(anthropic, now), qint64(30000));
        HttpHeaders unknown;
        unknown.append("anthropic-ratelimit-requests-remaining", "0");
        QCOMPARE(ProxyRules::quotaExhaustedForMs(unknown, now), qint64(1000)); // no reset given: a second
    }

    void errorEnvelopes()
    {
        const QJsonObject anthropic = QJsonDocument::fromJson(
            errorBodyFor("/v1/messages/count_tokens", QStringLiteral("nope"), QStringLiteral("service_unavailable")))
                                          .object();
        QCOMPARE(anthropic.value("type").toString(), QStringLiteral("error"));
        QCOMPARE(anthropic.value("error").toObject().value("type").toString(), QStringLiteral("api_error"));
        QCOMPARE(anthropic.value("error").toObject().value("message").toString(), QStringLiteral("nope"));
        const QJsonObject openai = QJsonDocument::fromJson(
            errorBodyFor("/v1/messagesx", QStringLiteral("nope"), QStringLiteral("invalid_request_error")))
                                       .object();
        QCOMPARE(openai.value("error").toObject().value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(ProxyRules::endpointOf("/v1/messages"), ProxyRules::Endpoint::Messages);
        QCOMPARE(ProxyRules::endpointOf("/v1/messages/count_tokens"), ProxyRules::Endpoint::CountTokens);
        QCOMPARE(ProxyRules::endpointOf("/v1/responses/resp_1"), ProxyRules::Endpoint::Responses);
        QCOMPARE(ProxyRules::formatOf(ProxyRules::endpointOf("/v1/messagesx")), ApiFormat::OpenAI);
    }

    void tokenEstimate()
    {
        QCOMPARE(TokenEstimate::messagesInput("not json"), 1);
        // Built, not a raw literal: moc's scanner counts the braces in raw strings.
        const QByteArray longText = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + QByteArray(400, 'x') + "\"}]}";
        const int latin = TokenEstimate::messagesInput(longText);
        QVERIFY2(latin >= 100 && latin <= 110, qPrintable(QString::number(latin)));
        const int cjk = TokenEstimate::messagesInput(
            QStringLiteral("{\"messages\":[{\"role\":\"user\",\"content\":\"你好世界你好世界\"}]}").toUtf8());
        QVERIFY2(cjk >= 8 && cjk <= 14, qPrintable(QString::number(cjk)));
        const int image = TokenEstimate::messagesInput(
            R"({"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]}]})");
        QVERIFY(image >= 1600);
    }

    // Found by fuzz_usage: counts of ten digits and more overflowed an int
    // on their way to a total. They are held at 500 million each.
    void absurdCountsDoNotOverflow()
    {
        const TokenUsage u
            = UsageScanner::scan(R"({"usage":{"input_tokens":10999999999,"cache_read_input_tokens":99999999999999,)"
                                 R"("cache_creation_input_tokens":4000000000,"output_tokens":19999999999998}})",
                UsageScanner::Shape::Messages);
        QVERIFY(u.found);
        QCOMPARE(u.cached, 500000000);
        QCOMPARE(u.completion, 500000000);
        QCOMPARE(u.prompt, 1500000000);
        QCOMPARE(u.total, 2000000000);
    }

    void usageFromTails()
    {
        TokenUsage u
            = UsageScanner::scan(R"({"id":"x","usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})");
        QVERIFY(u.found);
        QCOMPARE(u.prompt, 12);
        QCOMPARE(u.completion, 3);
        QCOMPARE(u.total, 15);
        u = UsageScanner::scan("data: {\"usage\":null}\n\ndata: [DONE]\n\n");
        QVERIFY(!u.found);
        u = UsageScanner::scan(
            R"({"usage": {"prompt_tokens": 4, "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens": 1}})");
        QCOMPARE(u.prompt, 4);
        QCOMPARE(u.total, 5);
        UsageScanner s;
        s.feed(R"(data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})");
        s.feed(QByteArray(40000, ' '));
        QVERIFY(!s.result().found); // only the tail is kept
        s.feed(R"(data: {"usage":{"prompt_tokens":9,)");
        s.feed(R"("completion_tokens":8,"total_tokens":17}})");
        QCOMPARE(s.result().total, 17);

        // Far from the end (the near window holds none), and across the
        // window's edge: the last `usage` still counts.
        const QByteArray usage = "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}";
        const QByteArray far = "{" + usage + ",\"pad\":\"" + QByteArray(6000, 'x') + "\"}";
        QCOMPARE(UsageScanner::scan(far).total, 5);
        for (int inside = 0; inside <= 7; ++inside) {
            // `inside` bytes of the last key lie within the last 2048 bytes.
            const QByteArray earlier = "{\"usage\":{\"total_tokens\":1},\"pad\":\"" + QByteArray(3000, 'x') + "\",";
            const QByteArray last = "\"usage\":{\"total_tokens\":7}";
            const QByteArray text = earlier + last + QByteArray(2048 + 6 - inside - last.size(), ' ') + "}";
            QCOMPARE(text.size() - text.lastIndexOf("\"usage\""), 2048 + 7 - inside);
            QCOMPARE(UsageScanner::scan(text).total, 7);
        }
    }

    void retryAfter()
    {
        const QDateTime now(QDate(2026, 1, 1), QTime(12, 0, 0), Qt::UTC);
        QCOMPARE(ProxyRules::retryAfterMs("2", now), 2000);
        QCOMPARE(ProxyRules::retryAfterMs(" 0.5 ", now), 500);
        QCOMPARE(ProxyRules::retryAfterMs("Thu, 01 Jan 2026 12:00:30 GMT", now), 30000);
        QCOMPARE(ProxyRules::retryAfterMs("", now), -1);
        QCOMPARE(ProxyRules::retryAfterMs("soon", now), -1);
    }

    void modelRouting()
    {
        Snapshot s;
        Upstream a;
        a.id = 1;
        a.allow = {QStringLiteral("gpt-4*")};
        Upstream b;
        b.id = 2;
        b.deny = {QStringLiteral("gpt-4o"), QStringLiteral("/v1/audio/*")};
        Upstream c;
        c.id = 3;
        c.enabled = false;
        s.upstreams = {a, b, c};
        auto ids = [&](const QString &model, const QString &path) {
            QList<qint64> out;
            Balancer balancer;
            for (const Upstream *u : balancer.candidates(s, RequestTraits{model, path, ApiFormat::OpenAI, {}}))
                out << u->id;
            return out;
        };
        QCOMPARE(ids(QStringLiteral("gpt-4o"), QStringLiteral("/v1/chat/completions")), (QList<qint64>{1}));
        QCOMPARE(ids(QStringLiteral("gpt-4.1"), QStringLiteral("/v1/chat/completions")), (QList<qint64>{1, 2}));
        QCOMPARE(ids(QStringLiteral("o3"), QStringLiteral("/v1/chat/completions")), (QList<qint64>{2}));
        QCOMPARE(ids(QString(), QStringLiteral("/v1/audio/speech")), (QList<qint64>{}));
    }
};

QTEST_GUILESS_MAIN(TestProxyRules)
#include "tst_proxyrules.moc"
