// Records, token accounting, Prometheus metrics, stats, and secrets in logs.
#include "alerts/webhooknotifier.h"
#include "domain/settings.h"
#include "domain/snapshot.h"
#include "fakeupstream.h"
#include "rawhttp.h"
#include "store/database.h"
#include "store/recordrepository.h"
#include "testengine.h"

#include <atomic>
#include <memory>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMutex>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTest>

using namespace route; // test code reads like code inside the project

using Behavior = FakeUpstream::Behavior;

namespace {
QMutex logMutex;
QStringList logLines;
QtMessageHandler previousHandler = nullptr;

void collect(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        QMutexLocker lock(&logMutex);
        logLines << QString::fromLatin1(context.category ? context.category : "") + QLatin1Char(' ') + message;
    }
    if (type >= QtWarningMsg && previousHandler)
        previousHandler(type, context, message);
}
} // namespace

class TestObservability : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_a;
    std::unique_ptr<FakeUpstream> m_b;

    RawResponse call(const QByteArray &method, const QByteArray &target, const QByteArray &body = {})
    {
        return m_env->call(method, target, body);
    }

    QJsonArray records(int expected)
    {
        QJsonArray out;
        for (int i = 0; i < 40; ++i) {
            out = QJsonDocument::fromJson(call("GET", "/admin/request_records?limit=50").body).array();
            if (out.size() >= expected)
                break;
            QTest::qWait(100);
        }
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("route.*.debug=true"));
        previousHandler = qInstallMessageHandler(collect);
    }

    void cleanupTestCase()
    {
        qInstallMessageHandler(previousHandler);
        // Nothing any subsystem logged in this suite shows a key or a token.
        QMutexLocker lock(&logMutex);
        QVERIFY(!logLines.isEmpty());
        for (const QString &line : std::as_const(logLines)) {
            QVERIFY2(!line.contains(QLatin1String("sk-secret-a")), qPrintable(line));
            QVERIFY2(!line.contains(QLatin1String("sk-secret-b")), qPrintable(line));
            QVERIFY2(!line.contains(QLatin1String("test-token")), qPrintable(line));
        }
    }

    void init()
    {
        m_env = std::make_unique<TestEngine>();
        QVERIFY(m_env->start());
        m_a = std::make_unique<FakeUpstream>();
        m_b = std::make_unique<FakeUpstream>();
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-secret-a-000000"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-secret-b-000000"));
    }

    void cleanup()
    {
        m_env.reset();
        m_a.reset();
        m_b.reset();
    }

    void tokensFromAJsonAnswer()
    {
        m_a->setBehavior(Behavior::json(200,
            R"({"id":"x","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0}}})"));
        QCOMPARE(call("POST", "/v1/chat/completions", R"({"model":"gpt-4o"})").status, 200);
        const QJsonObject r = records(1).first().toObject();
        QCOMPARE(r.value(QLatin1String("PromptTokens")).toInt(), 11);
        QCOMPARE(r.value(QLatin1String("CompletionTokens")).toInt(), 7);
        QCOMPARE(r.value(QLatin1String("TotalTokens")).toInt(), 18);
        QCOMPARE(r.value(QLatin1String("Outcome")).toString(), QStringLiteral("complete"));
    }

    void tokensFromAStream()
    {
        const QList<QByteArray> events{"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":null}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
            "data: [DONE]\n\n"};
        m_a->setBehavior(Behavior::sse(events, 10));
        QVERIFY(call("POST", "/v1/chat/completions",
            R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}})")
                    .complete);
        const QJsonObject r = records(1).first().toObject();
        QCOMPARE(r.value(QLatin1String("PromptTokens")).toInt(), 5);
        QCOMPARE(r.value(QLatin1String("CompletionTokens")).toInt(), 2);
        QCOMPARE(r.value(QLatin1String("Stream")).toBool(), true);
    }

    void bodiesAndTheAssistantTextWhenAskedFor()
    {
        m_env->setSetting(ConfigKey::recordBodies, QStringLiteral("1"));
        const QList<QByteArray> events{"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo!\"}}]}\n\n", "data: [DONE]\n\n"};
        m_a->setBehavior(Behavior::sse(events, 10));
        QVERIFY(call("POST", "/v1/chat/completions",
            R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})")
                    .complete);
        const QJsonObject r = records(1).first().toObject();
        QCOMPARE(r.value(QLatin1String("Response")).toString(), QStringLiteral("Hello!"));
        QVERIFY(r.value(QLatin1String("Body")).toString().contains(QStringLiteral("\"content\":\"hi\"")));
        QCOMPARE(r.value(QLatin1String("ClientToken")).toInt(), 1);
    }

    void outcomesOfFailoverCutAndAbort()
    {
        m_a->setBehavior(Behavior::json(503, "{}"));
        m_b->setBehavior(Behavior::json(200, "{}"));
        QCOMPARE(call("POST", "/v1/chat/completions", "{}").status, 200);

        Behavior cut = Behavior::sse({"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"}, 20);
        cut.cutAfterEvents = 1;
        m_a->setBehavior(cut);
        QVERIFY(!call("POST", "/v1/chat/completions", R"({"stream":true})").complete);

        m_a->setBehavior(Behavior::sse({"data: 1\n\n", "data: 2\n\n", "data: 3\n\n", "data: 4\n\n"}, 300));
        {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, m_env->port());
            QVERIFY(s.waitForConnected(2000));
            s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                    "test-token\r\nContent-Length: 2\r\n\r\n{}");
            QVERIFY(s.waitForReadyRead(2000));
            s.abort();
        }
        const QJsonArray all = records(3);
        QCOMPARE(all.size(), 3);
        const QJsonObject abort = all.at(0).toObject();
        const QJsonObject cutRecord = all.at(1).toObject();
        const QJsonObject failover = all.at(2).toObject();
        QCOMPARE(abort.value(QLatin1String("Outcome")).toString(), QStringLiteral("aborted_by_client"));
        QCOMPARE(cutRecord.value(QLatin1String("Outcome")).toString(), QStringLiteral("cut_upstream"));
        QCOMPARE(failover.value(QLatin1String("Attempts")).toInt(), 2);
        QCOMPARE(failover.value(QLatin1String("AttemptLog")).toString(), QStringLiteral("1:HTTP 503 2:200"));
        QCOMPARE(failover.value(QLatin1String("UpstreamID")).toInt(), 2);
    }

    void prometheusCounters()
    {
        m_a->setBehavior(Behavior::json(500, "{}"));
        m_b->setBehavior(
            Behavior::json(200, R"({"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})"));
        QCOMPARE(call("POST", "/v1/chat/completions", R"({"model":"gpt-4o"})").status, 200);
        RawRequest anonymous;
        anonymous.target = "/metrics";
        QCOMPARE(rawHttp(m_env->port(), anonymous).status, 403);
        for (const QByteArray path : {"/metrics", "/v1/metrics"}) {
            const RawResponse r = call("GET", path);
            QCOMPARE(r.status, 200);
            QVERIFY(r.headers.value("content-type").startsWith("text/plain"));
            const QByteArray text = r.body;
            QVERIFY2(text.contains("openai_route_requests_total{upstream=\"2\",status=\"2xx\",model=\"gpt-4o\"} 1\n"),
                text.constData());
            QVERIFY(text.contains("openai_route_upstream_attempts_total{upstream=\"1\",result=\"failed\"} 1\n"));
            QVERIFY(text.contains("openai_route_failovers_total 1\n"));
            QVERIFY(text.contains("openai_route_tokens_total{upstream=\"2\",kind=\"completion\"} 4\n"));
            QVERIFY(text.contains("openai_route_ttfb_seconds_count{upstream=\"2\"} 1\n"));
            QVERIFY(text.contains("openai_route_upstream_up{upstream=\"1\"} 1\n"));
            QVERIFY(text.contains("openai_route_records_dropped_total 0\n"));
            // Every sample line is "name{labels} value" or "name value".
            for (const QByteArray &line : text.split('\n')) {
                if (line.isEmpty() || line.startsWith('#'))
                    continue;
                bool ok = false;
                line.mid(line.lastIndexOf(' ') + 1).toDouble(&ok);
                QVERIFY2(ok, line.constData());
            }
        }
    }

    void statsPerUpstream()
    {
        m_a->setBehavior(
            Behavior::json(200, R"({"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}})"));
        for (int i = 0; i < 4; ++i)
            QCOMPARE(call("POST", "/v1/chat/completions", "{}").status, 200);
        records(4);
        const QJsonObject stats = QJsonDocument::fromJson(call("GET", "/admin/stats?hours=1").body).object();
        const QJsonArray ups = stats.value(QLatin1String("Upstreams")).toArray();
        QCOMPARE(ups.size(), 1);
        const QJsonObject a = ups.first().toObject();
        QCOMPARE(a.value(QLatin1String("UpstreamID")).toInt(), 1);
        QCOMPARE(a.value(QLatin1String("Requests")).toInt(), 4);
        QCOMPARE(a.value(QLatin1String("Errors")).toInt(), 0);
        QCOMPARE(a.value(QLatin1String("PromptTokens")).toInt(), 40);
        QVERIFY(a.contains(QLatin1String("TTFBP95Ms")));
    }

    void webhookWhenAKeyDiesAndAllAreDown()
    {
        FakeUpstream hook;
        hook.setBehavior(Behavior::json(200, "{}"));
        m_env->setSetting(ConfigKey::webhookUrl, hook.baseUrl(QStringLiteral("/hook")));
        m_a->setBehavior(Behavior::json(500, "{}"));
        m_b->setBehavior(Behavior::json(503, "{}"));
        for (int i = 0; i < 3; ++i)
            call("POST", "/v1/chat/completions", "{}");
        QTRY_VERIFY_WITH_TIMEOUT(hook.requestCount() >= 3, 5000);
        QStringList events;
        for (const FakeUpstream::Request &r : hook.requests()) {
            QCOMPARE(r.method, QByteArray("POST"));
            QCOMPARE(r.target, QByteArray("/hook"));
            QVERIFY2(
                !r.body.contains("sk-secret-a-000000") && !r.body.contains("sk-secret-b-000000"), r.body.constData());
            events << QJsonDocument::fromJson(r.body).object().value(QLatin1String("event")).toString();
        }
        QVERIFY2(events.contains(QStringLiteral("upstream_down")), qPrintable(events.join(QLatin1Char(','))));
        QVERIFY(events.contains(QStringLiteral("all_down")));
        const QJsonObject first = QJsonDocument::fromJson(hook.requests().first().body).object();
        QVERIFY(first.value(QLatin1String("upstream"))
                    .toObject()
                    .value(QLatin1String("key"))
                    .toString()
                    .contains(QChar(0x2026)));
    }

    void webhookRetriedAfterAFailedDelivery()
    {
        FakeUpstream hook;
        auto answered = std::make_shared<std::atomic<int>>(0);
        hook.setScript([answered](const FakeUpstream::Request &) {
            return answered->fetch_add(1) == 0 ? Behavior::json(500, "{}") : Behavior::json(200, "{}");
        });
        m_env->setSetting(ConfigKey::webhookUrl, hook.baseUrl(QStringLiteral("/hook")));
        m_a->setBehavior(Behavior::json(500, "{}"));
        m_b->setBehavior(Behavior::json(200, "{}"));
        for (int i = 0; i < 6; ++i)
            QCOMPARE(call("POST", "/v1/chat/completions", "{}").status, 200);
        // upstream_down for a: refused once, delivered again 2 s later.
        QTRY_COMPARE_WITH_TIMEOUT(hook.requestCount(), 2, 8000);
        const QList<FakeUpstream::Request> got = hook.requests();
        QCOMPARE(got.at(1).body, got.at(0).body);
        QCOMPARE(QJsonDocument::fromJson(got.at(0).body).object().value(QLatin1String("event")).toString(),
            QStringLiteral("upstream_down"));
    }

    void webhookWithoutAnswerIsRetried()
    {
        FakeUpstream hook;
        auto answered = std::make_shared<std::atomic<int>>(0);
        hook.setScript([answered](const FakeUpstream::Request &) {
            return answered->fetch_add(1) == 0 ? Behavior::of(Behavior::Kind::Hang) : Behavior::json(200, "{}");
        });
        Snapshot snapshot;
        snapshot.settings.webhookUrl = hook.baseUrl(QStringLiteral("/hook"));
        Upstream upstream;
        upstream.id = 7;
        upstream.endpoint = m_a->baseUrl();
        upstream.sk = QStringLiteral("sk-secret-a-000000");
        snapshot.upstreams << upstream;
        upstream.id = 8; // healthy: no all_down besides
        snapshot.upstreams << upstream;
        SnapshotHolder snapshots;
        snapshots.publish(snapshot);
        HealthTracker health;
        WebhookNotifier notifier(&snapshots, &health);
        notifier.setDeliveryTimeout(300);
        QSignalSpy delivered(&notifier, &WebhookNotifier::delivered);
        notifier.onHealthChanged(7, HealthState::CoolingDown, QStringLiteral("HTTP 500"));
        // The first delivery hangs: given up after 300 ms, sent again 2 s later.
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 1, 6000);
        QCOMPARE(delivered.first().first().toInt(), 200);
        QCOMPARE(hook.requestCount(), 2);
        const QList<FakeUpstream::Request> got = hook.requests();
        QCOMPARE(got.at(1).body, got.at(0).body);
    }

    void webhookBodyShapes()
    {
        const QJsonObject details{{QStringLiteral("state"), QStringLiteral("cooling_down")}};
        QCOMPARE(QJsonDocument::fromJson(WebhookNotifier::body(QStringLiteral("feishu"),
                                             QStringLiteral("upstream_down"), QStringLiteral("t"), details))
                     .object(),
            (QJsonObject{{QStringLiteral("msg_type"), QStringLiteral("text")},
                {QStringLiteral("content"), QJsonObject{{QStringLiteral("text"), QStringLiteral("t")}}}}));
        QCOMPARE(QJsonDocument::fromJson(WebhookNotifier::body(QStringLiteral("matrix"),
                                             QStringLiteral("upstream_down"), QStringLiteral("t"), details))
                     .object(),
            (QJsonObject{
                {QStringLiteral("msgtype"), QStringLiteral("m.text")}, {QStringLiteral("body"), QStringLiteral("t")}}));
        const QJsonObject generic = QJsonDocument::fromJson(
            WebhookNotifier::body(QStringLiteral("generic"), QStringLiteral("all_down"), QStringLiteral("t"), details))
                                        .object();
        QCOMPARE(generic.value(QLatin1String("event")).toString(), QStringLiteral("all_down"));
        QCOMPARE(generic.value(QLatin1String("state")).toString(), QStringLiteral("cooling_down"));
    }

    void lockedDatabaseNeverSlowsRequests()
    {
        m_a->setBehavior(Behavior::json(200, "{}"));
        auto conn = DbConnection::open(m_env->database(), QStringLiteral("locker"));
        QVERIFY(conn);
        QSqlQuery lock(conn.value()->db());
        QVERIFY(lock.exec(QStringLiteral("BEGIN EXCLUSIVE")));
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < 30; ++i) {
            QElapsedTimer one;
            one.start();
            QCOMPARE(call("POST", "/v1/chat/completions", "{}").status, 200);
            QVERIFY2(one.elapsed() < 200, qPrintable(QString::number(one.elapsed())));
            QTest::qWait(50);
        }
        QVERIFY(lock.exec(QStringLiteral("COMMIT")));
        // Records either reached the database or were counted as dropped.
        QTRY_VERIFY_WITH_TIMEOUT(m_env->engine()->droppedRecords() + records(1).size() >= 30, 5000);
        QVERIFY(m_env->engine()->droppedRecords() > 0);
        QVERIFY(call("GET", "/metrics")
                    .body.contains(QByteArray("openai_route_records_dropped_total "
                        + QByteArray::number(m_env->engine()->droppedRecords()))));
    }
};

QTEST_GUILESS_MAIN(TestObservability)
#include "tst_observability.moc"
