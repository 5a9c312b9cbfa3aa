// Fault scenarios (README, Failover and Health): each asserts the outcome, the
// number of upstream attempts and the time bound.
#include "domain/settings.h"
#include "fakeupstream.h"
#include "rawhttp.h"
#include "testengine.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QTcpSocket>
#include <QTest>

using namespace route; // test code reads like code inside the project

using Behavior = FakeUpstream::Behavior;

namespace {

qint64 rssKiB()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return 0;
}

HealthTuning fastHealth()
{
    HealthTuning t;
    t.baseCooldownMs = 700;
    t.maxCooldownMs = 3000;
    return t;
}

} // namespace

class TestResilience : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_a;
    std::unique_ptr<FakeUpstream> m_b;

    RawResponse post(const QByteArray &json, int timeoutMs = 15000)
    {
        return m_env->call("POST", "/v1/chat/completions", json, TestEngine::bearer(), timeoutMs);
    }

    static QList<QByteArray> events(int n, bool done = true) { return Behavior::chatEvents(n, done); }

    void twoUpstreams(const std::function<void(Upstream &)> &editA = {})
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), editA);
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        m_b->setBehavior(Behavior::json(200, R"({"from":"b"})"));
    }

private Q_SLOTS:
    void init()
    {
        m_env = std::make_unique<TestEngine>(false, HttpLimits(), fastHealth());
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

    void rateLimitedWithRetryAfterThenOk()
    {
        twoUpstreams();
        Behavior limited = Behavior::json(429, R"({"error":{"message":"Rate limit reached"}})");
        limited.headers.append(std::make_pair(QByteArray("Retry-After"), QByteArray("2")));
        m_a->setBehavior(limited);
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 1);
        m_a->setBehavior(Behavior::json(200, R"({"from":"a"})"));
        // Within Retry-After the key rests: the next request goes to b directly.
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 1);
        m_env->clock().advance(2100);
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"a"})"));
        QCOMPARE(m_a->requestCount(), 2);
    }

    void everyUpstream429IsRelayedAndKeysAreNotBenched()
    {
        twoUpstreams();
        Behavior limited = Behavior::json(429, R"({"error":{"message":"slow down"}})");
        limited.headers.append(std::make_pair(QByteArray("Retry-After"), QByteArray("1")));
        m_a->setBehavior(limited);
        m_b->setBehavior(limited);
        QElapsedTimer t;
        t.start();
        const RawResponse r = post("{}");
        QCOMPARE(r.status, 429);
        QCOMPARE(r.headers.value("retry-after"), QByteArray("1"));
        QCOMPARE(m_a->requestCount(), 1);
        QCOMPARE(m_b->requestCount(), 1);
        QVERIFY(t.elapsed() < 1000);
        m_env->clock().advance(1100);
        m_a->setBehavior(Behavior::json(200, R"({"from":"a"})"));
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"a"})"));
    }

    void serverErrorOnceDoesNotBenchTheKey()
    {
        twoUpstreams();
        int calls = 0;
        m_a->setScript([&calls](const FakeUpstream::Request &) {
            return ++calls == 1 ? Behavior::json(500, "{}") : Behavior::json(200, R"({"from":"a"})");
        });
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"a"})"));
        QCOMPARE(m_a->requestCount(), 2);
    }

    void persistentFailureRestsTheKeyThenTrafficReturns()
    {
        twoUpstreams();
        m_a->setBehavior(Behavior::json(503, R"({"error":{"message":"overloaded"}})"));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 3);
        // Cooling down: a is not asked at all.
        for (int i = 0; i < 5; ++i)
            QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 3);
        // a recovers; after the cooldown one probe finds it healthy.
        m_a->setBehavior(Behavior::json(200, R"({"from":"a"})"));
        // Not yet: the rest is 700 ms on the engine's clock.
        m_env->clock().advance(600);
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        m_env->clock().advance(200);
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"a"})"));
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"a"})"));
    }

    void authDeadKeyIsSurfaced()
    {
        twoUpstreams();
        m_a->setBehavior(Behavior::json(401, R"({"error":{"message":"Incorrect API key provided"}})"));
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(m_a->requestCount(), 1);
        RawRequest r;
        r.target = "/admin/upstreams";
        r.headers.append("Authorization", TestEngine::bearer());
        const RawResponse list = rawHttp(m_env->port(), r);
        QVERIFY2(list.body.contains(R"("State":"auth_failed")"), list.body.constData());
        QVERIFY(list.body.contains("HTTP 401"));
    }

    void streamFirstByteTooLateFailsOver()
    {
        twoUpstreams([](Upstream &u) { u.streamTimeoutSec = 1; });
        Behavior late = Behavior::sse(events(2), 10);
        late.delayMs = 5000;
        m_a->setBehavior(late);
        m_b->setBehavior(Behavior::sse(events(2), 10));
        QElapsedTimer t;
        t.start();
        const RawResponse r = post(R"({"stream":true})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        QCOMPARE(r.body, events(2).join());
        QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(m_b->requestCount(), 1);
    }

    void stalledStreamEndsAbnormallyInTime()
    {
        m_env->setSetting(ConfigKey::idleTimeout, QStringLiteral("1"));
        twoUpstreams();
        Behavior stall = Behavior::sse(events(10), 20);
        stall.stallAfterEvents = 3;
        m_a->setBehavior(stall);
        QElapsedTimer t;
        t.start();
        const RawResponse r = post(R"({"stream":true})", 10000);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.closedByPeer);
        QCOMPARE(r.chunks.size(), 3);
        QVERIFY2(t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(m_b->requestCount(), 0); // never retried after the first byte
    }

    void malformedEventsPassUntouched()
    {
        twoUpstreams();
        const QList<QByteArray> odd{
            "data: {not json\n\n", ": comment\n\n", "event: x\ndata: y\n\n", "data: [DONE]\n\n"};
        m_a->setBehavior(Behavior::sse(odd, 10));
        const RawResponse r = post(R"({"stream":true})");
        QVERIFY(r.complete);
        QCOMPARE(r.body, odd.join());
    }

    void clientErrorBodiesAreRelayed_data()
    {
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("context length") << QByteArray("context_length_exceeded");
        QTest::newRow("content policy") << QByteArray("content_policy_violation");
    }

    void clientErrorBodiesAreRelayed()
    {
        QFETCH(QByteArray, code);
        twoUpstreams();
        const QByteArray body
            = "{\"error\":{\"message\":\"no\",\"type\":\"invalid_request_error\",\"code\":\"" + code + "\"}}";
        m_a->setBehavior(Behavior::json(400, body));
        const RawResponse r = post("{}");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.body, body);
        QCOMPARE(m_b->requestCount(), 0);
        // Not the key's fault: it stays first in line.
        m_a->setBehavior(Behavior::json(200, R"({"from":"a"})"));
        QCOMPARE(post("{}").body, QByteArray(R"({"from":"a"})"));
    }

    void weightedSpreadThroughTheProxy()
    {
        m_env->setSetting(ConfigKey::policy, QStringLiteral("weighted"));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.weight = 3; });
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"), [](Upstream &u) { u.weight = 1; });
        for (int i = 0; i < 400; ++i)
            QCOMPARE(post("{}").status, 200);
        const double share = m_a->requestCount() / 400.0;
        QVERIFY2(qAbs(share - 0.75) < 0.06, qPrintable(QString::number(share)));
        QCOMPARE(m_a->requestCount() + m_b->requestCount(), 400);
    }

    void roundRobinSpreadThroughTheProxy()
    {
        m_env->setSetting(ConfigKey::policy, QStringLiteral("round_robin"));
        twoUpstreams();
        for (int i = 0; i < 100; ++i)
            QCOMPARE(post("{}").status, 200);
        QCOMPARE(m_a->requestCount(), 50);
        QCOMPARE(m_b->requestCount(), 50);
    }

    void slowReaderKeepsMemoryBounded()
    {
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        const qint64 total = 96ll * 1024 * 1024;
        Behavior flood = Behavior::of(Behavior::Kind::Flood);
        flood.floodBytes = total;
        flood.headers = {{"Content-Type", "application/octet-stream"}};
        m_a->setBehavior(flood);

        QTcpSocket s;
        s.setReadBufferSize(64 * 1024); // the client reads slowly: little room in the kernel
        s.connectToHost(QHostAddress::LocalHost, m_env->port());
        QVERIFY(s.waitForConnected(2000));
        s.write("GET /v1/files/big/content HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-token\r\n\r\n");
        QVERIFY(s.waitForReadyRead(3000));
        const qint64 before = rssKiB();
        QTest::qWait(1500); // not reading
        const qint64 during = rssKiB();
#if defined(__SANITIZE_ADDRESS__)
        // ASan keeps freed blocks in quarantine, so RSS counts what flowed
        // through, not what is held; the bound still catches buffering the
        // whole 96 MB flood. (A normal build grows by ~2 MiB here.)
        constexpr qint64 budgetKiB = 64 * 1024;
#else
        constexpr qint64 budgetKiB = 24 * 1024;
#endif
        QVERIFY2(during - before < budgetKiB, qPrintable(QStringLiteral("RSS grew by %1 KiB").arg(during - before)));
        // Then everything arrives, intact.
        qint64 received = 0;
        QByteArray head;
        QElapsedTimer t;
        t.start();
        while (received < total && t.elapsed() < 30000) {
            if (s.bytesAvailable() == 0 && !s.waitForReadyRead(2000))
                break;
            const QByteArray data = s.readAll();
            if (head.isEmpty() || !head.contains("\r\n\r\n")) {
                head += data;
                const qsizetype end = head.indexOf("\r\n\r\n");
                if (end >= 0)
                    received += head.size() - end - 4;
                continue;
            }
            received += data.size();
        }
        QCOMPARE(received, total);
    }
};

QTEST_GUILESS_MAIN(TestResilience)
#include "tst_resilience.moc"
