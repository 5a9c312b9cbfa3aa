// The proxy against in-process fake upstreams: forwarding, streaming,
// integrity, client aborts and failover.
#include "domain/settings.h"
#include "fakeupstream.h"
#include "rawhttp.h"
#include "store/database.h"
#include "store/upstreamrepository.h"
#include "testengine.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace route; // test code reads like code inside the project

using Behavior = FakeUpstream::Behavior;

class TestProxy : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_a;
    std::unique_ptr<FakeUpstream> m_b;

    RawResponse post(const QByteArray &path, const QByteArray &json) { return m_env->call("POST", path, json); }

    static QList<QByteArray> sseEvents(int n) { return Behavior::chatEvents(n); }

    static QByteArray randomBytes(int size)
    {
        QByteArray out(size, Qt::Uninitialized);
        QRandomGenerator gen(42);
        for (int i = 0; i < size; ++i)
            out[i] = char(gen.bounded(256));
        return out;
    }

    static QByteArray sha(const QByteArray &data)
    {
        return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
    }

private Q_SLOTS:
    void init()
    {
        m_env = std::make_unique<TestEngine>();
        QVERIFY(m_env->start());
        m_a = std::make_unique<FakeUpstream>();
        m_b = std::make_unique<FakeUpstream>();
        QVERIFY(m_a->port() && m_b->port());
    }

    void cleanup()
    {
        m_env.reset();
        m_a.reset();
        m_b.reset();
    }

    void forwardsWithTheUpstreamKey()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-upstream-aaaa"));
        Behavior b = Behavior::json(200, R"({"id":"chatcmpl-1","object":"chat.completion"})");
        b.headers.append(std::make_pair(QByteArray("X-Request-Id"), QByteArray("req-42")));
        m_a->setBehavior(b);
        const RawResponse resp = post("/v1/chat/completions?api-version=1", R"({"model":"gpt-4o","messages":[]})");
        QCOMPARE(resp.status, 200);
        QVERIFY(resp.complete);
        QCOMPARE(resp.body, QByteArray(R"({"id":"chatcmpl-1","object":"chat.completion"})"));
        QCOMPARE(resp.headers.value("x-request-id"), QByteArray("req-42"));
        QCOMPARE(m_a->requestCount(), 1);
        const FakeUpstream::Request got = m_a->requests().first();
        QCOMPARE(got.method, QByteArray("POST"));
        QCOMPARE(got.target, QByteArray("/v1/chat/completions?api-version=1"));
        QCOMPARE(got.headers.value("authorization"), QByteArray("Bearer sk-upstream-aaaa"));
        QCOMPARE(got.body, QByteArray(R"({"model":"gpt-4o","messages":[]})"));
        for (const auto &[name, value] : got.headers)
            QVERIFY2(!value.contains("test-token"), name.constData());
        for (const auto &[name, value] : resp.headers)
            QVERIFY2(!value.contains("sk-upstream"), name.constData());
    }

    void everyMethodAndTheEndpointsOwnPath()
    {
        m_env->addUpstream(m_a->baseUrl(QStringLiteral("/api/v1")), QStringLiteral("sk-a"));
        for (const QByteArray method : {"GET", "DELETE", "PUT", "PATCH"}) {
            RawRequest r;
            r.method = method;
            r.target = "/v1/files/file-1?limit=2";
            r.headers.append("Authorization", TestEngine::bearer());
            if (method == "PUT" || method == "PATCH")
                r.body = "{}";
            const RawResponse resp = rawHttp(m_env->port(), r);
            QCOMPARE(resp.status, 200);
            QCOMPARE(m_a->requests().last().method, method);
            QCOMPARE(m_a->requests().last().target, QByteArray("/api/v1/files/file-1?limit=2"));
        }
    }

    void clientMustAuthenticate()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        RawRequest r;
        r.target = "/v1/models";
        RawResponse resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 403);
        QVERIFY(resp.body.contains("\"message\":\"authorization header should start with 'Bearer'\""));
        r.headers.append("Authorization", "Bearer nope");
        resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 403);
        QVERIFY(resp.body.contains(R"("message":"wrong authorization header")"));
        QCOMPARE(m_a->requestCount(), 0);
    }

    void severalTokensAreAccepted()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->setSetting(ConfigKey::authorization, QStringLiteral("first,second"));
        for (const QByteArray token : {"first", "second"}) {
            RawRequest r;
            r.target = "/v1/models";
            r.headers.append("Authorization", "Bearer " + token);
            QCOMPARE(rawHttp(m_env->port(), r).status, 200);
        }
    }

    void streamEventsKeepTheirSpacing()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        const QList<QByteArray> events = sseEvents(6);
        m_a->setBehavior(Behavior::sse(events, 150));
        const RawResponse resp = post("/v1/chat/completions", R"({"model":"gpt-4o","stream":true})");
        QCOMPARE(resp.status, 200);
        QVERIFY(resp.complete);
        QCOMPARE(resp.headers.value("content-type"), QByteArray("text/event-stream"));
        QCOMPARE(resp.body, events.join());
        // One chunk per event, each as the upstream sent it: no buffering.
        QCOMPARE(resp.chunks.size(), events.size());
        QVERIFY2(resp.chunkArrivalMs.first() < 100, qPrintable(QString::number(resp.chunkArrivalMs.first())));
        for (int i = 1; i < resp.chunkArrivalMs.size(); ++i) {
            const qint64 gap = resp.chunkArrivalMs[i] - resp.chunkArrivalMs[i - 1];
            QVERIFY2(gap >= 100 && gap <= 220, qPrintable(QStringLiteral("gap %1: %2 ms").arg(i).arg(gap)));
        }
    }

    // A model that thinks before its first token: the client gets the
    // headers as they come, not with the first event.
    void streamHeadersAreNotHeldForTheFirstEvent()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        Behavior thinking = Behavior::sse(sseEvents(3), 50);
        thinking.stallAfterEvents = 0; // headers, then nothing
        m_a->setBehavior(thinking);
        const RawResponse resp = m_env->call(
            "POST", "/v1/chat/completions", R"({"model":"gpt-4o","stream":true})", TestEngine::bearer(), 1500);
        QCOMPARE(resp.status, 200);
        QVERIFY(!resp.complete);
        QVERIFY(resp.chunks.isEmpty());
        QVERIFY2(resp.headersArrivalMs >= 0 && resp.headersArrivalMs < 500,
            qPrintable(QString::number(resp.headersArrivalMs)));
    }

    void clientAbortReachesTheUpstream()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_a->setBehavior(Behavior::sse(sseEvents(50), 100));
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_env->port());
        QVERIFY(s.waitForConnected(2000));
        const QByteArray body = R"({"stream":true})";
        s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                "test-token\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(s.waitForReadyRead(2000));
        QElapsedTimer t;
        t.start();
        s.abort();
        QTRY_COMPARE_WITH_TIMEOUT(m_a->clientAborts(), 1, 2000);
        QVERIFY2(t.elapsed() < 1000, qPrintable(QString::number(t.elapsed())));
    }

    void binaryDownloadIsByteExact()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        const QByteArray audio = randomBytes(3 * 1024 * 1024 + 17);
        Behavior b;
        b.status = 200;
        b.body = audio;
        b.headers = {{"Content-Type", "audio/mpeg"}};
        m_a->setBehavior(b);
        const RawResponse resp = post("/v1/audio/speech", R"({"model":"tts-1","input":"hi","voice":"alloy"})");
        QCOMPARE(resp.status, 200);
        QVERIFY(resp.complete);
        QCOMPARE(resp.headers.value("content-type"), QByteArray("audio/mpeg"));
        QCOMPARE(resp.headers.value("content-length"), QByteArray::number(audio.size()));
        QCOMPARE(sha(resp.body), sha(audio));
    }

    void multipartUploadIsByteExact()
    {
        m_env->addUpstream(
            m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.allow = {QStringLiteral("whisper-1")}; });
        m_a->setBehavior(Behavior::json(200, R"({"text":"hello"})"));
        const QByteArray file = randomBytes(2 * 1024 * 1024);
        const QByteArray body = "--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
                                "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\n"
                                "Content-Type: audio/mpeg\r\n\r\n"
            + file + "\r\n--b0undary--\r\n";
        RawRequest r;
        r.method = "POST";
        r.target = "/v1/audio/transcriptions";
        r.headers.append("Authorization", TestEngine::bearer());
        r.headers.append("Content-Type", "multipart/form-data; boundary=b0undary");
        r.body = body;
        const RawResponse resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 200); // allowed for whisper-1: the model came from the form
        QCOMPARE(m_a->requestCount(), 1);
        QCOMPARE(sha(m_a->requests().first().body), sha(body));
        QCOMPARE(m_a->requests().first().headers.value("content-type"),
            QByteArray("multipart/form-data; boundary=b0undary"));
    }

    void failover_data()
    {
        QTest::addColumn<int>("kind"); // Behavior::Kind, or -status for an HTTP answer
        QTest::newRow("connection reset") << int(Behavior::Kind::Reset);
        QTest::newRow("closed without answer") << int(Behavior::Kind::CloseWithoutResponse);
        QTest::newRow("no answer before timeout") << int(Behavior::Kind::Hang);
        QTest::newRow("401") << -401;
        QTest::newRow("403") << -403;
        QTest::newRow("429") << -429;
        QTest::newRow("500") << -500;
        QTest::newRow("502") << -502;
        QTest::newRow("503") << -503;
    }

    void failover()
    {
        QFETCH(int, kind);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.timeoutSec = 1; });
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        m_a->setBehavior(
            kind < 0 ? Behavior::json(-kind, R"({"error":{"message":"from a"}})") : Behavior::of(Behavior::Kind(kind)));
        m_b->setBehavior(Behavior::json(200, R"({"from":"b"})"));
        QElapsedTimer t;
        t.start();
        const RawResponse resp = post("/v1/chat/completions", R"({"model":"gpt-4o"})");
        QCOMPARE(resp.status, 200);
        QCOMPARE(resp.body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 1);
        QCOMPARE(m_b->requestCount(), 1);
        QCOMPARE(m_b->requests().first().headers.value("authorization"), QByteArray("Bearer sk-b"));
        QVERIFY2(t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
    }

    void connectionRefusedFailsOver()
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const quint16 deadPort = closed.serverPort();
        closed.close();
        m_env->addUpstream(QStringLiteral("http://127.0.0.1:%1/v1").arg(deadPort), QStringLiteral("sk-dead"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        const RawResponse resp = post("/v1/chat/completions", "{}");
        QCOMPARE(resp.status, 200);
        QCOMPARE(m_b->requestCount(), 1);
    }

    void clientErrorsAreRelayedNotRetried_data()
    {
        QTest::addColumn<int>("status");
        QTest::newRow("400") << 400;
        QTest::newRow("404") << 404;
        QTest::newRow("422") << 422;
    }

    void clientErrorsAreRelayedNotRetried()
    {
        QFETCH(int, status);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        const QByteArray error = "{\"error\":{\"message\":\"This model's maximum context length is 8192 "
                                 "tokens\",\"code\":\"context_length_exceeded\"}}";
        m_a->setBehavior(Behavior::json(status, error));
        const RawResponse resp = post("/v1/chat/completions", "{}");
        QCOMPARE(resp.status, status);
        QCOMPARE(resp.body, error);
        QCOMPARE(m_b->requestCount(), 0);
    }

    void noUpstreamIs503()
    {
        const RawResponse resp = post("/v1/chat/completions", "{}");
        QCOMPARE(resp.status, 503);
        QVERIFY(resp.body.contains("\"error\""));
        QVERIFY(resp.body.contains("no upstream"));
    }

    void modelWithoutEligibleUpstreamIs503NamingIt()
    {
        m_env->addUpstream(
            m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.allow = {QStringLiteral("gpt-4o")}; });
        const RawResponse resp = post("/v1/chat/completions", R"({"model":"claude-3"})");
        QCOMPARE(resp.status, 503);
        QVERIFY(resp.body.contains("claude-3"));
        QCOMPARE(m_a->requestCount(), 0);
    }

    void disabledUpstreamIsSkipped()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.enabled = false; });
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        QCOMPARE(post("/v1/chat/completions", "{}").status, 200);
        QCOMPARE(m_a->requestCount(), 0);
        QCOMPARE(m_b->requestCount(), 1);
    }

    void allUnreachableIs502()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        m_a->setBehavior(Behavior::of(Behavior::Kind::Reset));
        m_b->setBehavior(Behavior::of(Behavior::Kind::Reset));
        const RawResponse resp = post("/v1/chat/completions", "{}");
        QCOMPARE(resp.status, 502);
        QVERIFY(resp.body.contains(R"("type":"upstream_error")"));
        QCOMPARE(m_a->requestCount(), 1);
        QCOMPARE(m_b->requestCount(), 1);
    }

    void allRefusingReturnsTheLastAnswer()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        m_a->setBehavior(Behavior::json(503, R"({"error":{"message":"a is overloaded"}})"));
        Behavior b = Behavior::json(429, R"({"error":{"message":"b rate limited"}})");
        b.headers.append(std::make_pair(QByteArray("Retry-After"), QByteArray("7")));
        m_b->setBehavior(b);
        const RawResponse resp = post("/v1/chat/completions", "{}");
        QCOMPARE(resp.status, 429);
        QCOMPARE(resp.body, QByteArray(R"({"error":{"message":"b rate limited"}})"));
        QCOMPARE(resp.headers.value("retry-after"), QByteArray("7"));
    }

    void aFailureAfterTheFirstByteIsNotRetriedAndNotHidden()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        Behavior cut = Behavior::sse(sseEvents(10), 50);
        cut.cutAfterEvents = 3;
        m_a->setBehavior(cut);
        const RawResponse resp = post("/v1/chat/completions", R"({"stream":true})");
        QCOMPARE(resp.status, 200);
        QVERIFY(!resp.complete); // the client sees the break, not a clean end
        QVERIFY(resp.closedByPeer);
        QCOMPARE(resp.chunks.size(), 3);
        QCOMPARE(m_b->requestCount(), 0);
    }

    void streamWithoutDoneIsPassedAsSent()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        QList<QByteArray> events = sseEvents(3);
        events.removeLast();
        m_a->setBehavior(Behavior::sse(events, 20));
        const RawResponse resp = post("/v1/chat/completions", R"({"stream":true})");
        QCOMPARE(resp.status, 200);
        QVERIFY(resp.complete);
        QCOMPARE(resp.body, events.join());
    }

    void countersAndRecordsAreWritten()
    {
        const qint64 a = m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        const qint64 b = m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        m_a->setBehavior(Behavior::json(500, "{}"));
        QCOMPARE(post("/v1/chat/completions", R"({"model":"gpt-4o"})").status, 200);
        auto conn = DbConnection::open(m_env->database(), QStringLiteral("check"));
        UpstreamRepository repo(conn.value()->db());
        QTRY_COMPARE_WITH_TIMEOUT(repo.get(b)->successCount, 1, 2000);
        QCOMPARE(repo.get(a)->failedCount, 1);
        QVERIFY(repo.get(b)->lastCallSuccessTime.isValid());
        RawRequest r;
        r.target = "/admin/request_records?limit=1";
        r.headers.append("Authorization", TestEngine::bearer());
        const RawResponse records = rawHttp(m_env->port(), r);
        QCOMPARE(records.status, 200);
        QVERIFY2(records.body.contains(R"("Attempts":2)"), records.body.constData());
        QVERIFY(records.body.contains(QStringLiteral(R"("UpstreamID":%1)").arg(b).toUtf8()));
        QVERIFY(records.body.contains(R"("Model":"gpt-4o")"));
    }

    void corsPreflightIsAnsweredLocally()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        RawRequest r;
        r.method = "OPTIONS";
        r.target = "/v1/chat/completions";
        r.headers.append("Origin", "https://chat.example.com");
        r.headers.append("Access-Control-Request-Method", "POST");
        r.headers.append("Access-Control-Request-Headers", "authorization, content-type");
        const RawResponse resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 204);
        QCOMPARE(resp.headers.value("access-control-allow-origin"), QByteArray("*"));
        QCOMPARE(resp.headers.value("access-control-allow-headers"), QByteArray("authorization, content-type"));
        QCOMPARE(m_a->requestCount(), 0);
    }

    void noAuthRefusesForeignOrigins()
    {
        m_env = std::make_unique<TestEngine>(true);
        QVERIFY(m_env->start());
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        RawRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.body = "{}";
        QCOMPARE(rawHttp(m_env->port(), r).status, 200); // no token needed
        r.headers.append("Origin", "https://evil.example.com");
        QCOMPARE(rawHttp(m_env->port(), r).status, 403);
        RawRequest local = r;
        local.headers = HttpHeaders();
        local.headers.append("Origin", "http://localhost:3000");
        const RawResponse ok = rawHttp(m_env->port(), local);
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.headers.value("access-control-allow-origin"), QByteArray("http://localhost:3000"));
        // The admin API still wants the token.
        RawRequest admin;
        admin.target = "/admin/upstreams";
        QCOMPARE(rawHttp(m_env->port(), admin).status, 403);
    }
};

QTEST_GUILESS_MAIN(TestProxy)
#include "tst_proxy.moc"
