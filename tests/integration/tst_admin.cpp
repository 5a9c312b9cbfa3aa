// The admin REST API: the seed's four calls verbatim, then this project's.
#include "fakeupstream.h"
#include "rawhttp.h"
#include "testengine.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace route; // test code reads like code inside the project

class TestAdmin : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;

    RawResponse call(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
        const QByteArray &auth = TestEngine::bearer())
    {
        return m_env->call(method, path, body, auth);
    }

    static QJsonDocument json(const RawResponse &r) { return QJsonDocument::fromJson(r.body); }

private Q_SLOTS:
    void init()
    {
        m_env = std::make_unique<TestEngine>();
        QVERIFY(m_env->start());
    }
    void cleanup() { m_env.reset(); }

    void seedExamples()
    {
        RawResponse r
            = call("POST", "/admin/upstreams", "{\"SK\": \"sk_value\", \"Endpoint\": \"https://endpoint.example/v1\"}");
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r).object().value(QLatin1String("message")).toString(), QStringLiteral("success"));
        const int id = json(r).object().value(QLatin1String("ID")).toInt();
        QVERIFY(id > 0);

        r = call("GET", "/admin/upstreams");
        QCOMPARE(r.status, 200);
        const QJsonArray list = json(r).array();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list.first().toObject().value(QLatin1String("ID")).toInt(), id);
        QCOMPARE(list.first().toObject().value(QLatin1String("SK")).toString(), QStringLiteral("sk_value"));
        QCOMPARE(list.first().toObject().value(QLatin1String("Endpoint")).toString(),
            QStringLiteral("https://endpoint.example/v1"));

        r = call("PUT", "/admin/upstreams/" + QByteArray::number(id),
            "{\"SK\": \"sk_value2\", \"Endpoint\": \"https://endpoint.example/v2\"}");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray(R"({"message":"success"})"));
        r = call("GET", "/admin/upstreams/" + QByteArray::number(id));
        QCOMPARE(json(r).object().value(QLatin1String("SK")).toString(), QStringLiteral("sk_value2"));

        r = call("DELETE", "/admin/upstreams/" + QByteArray::number(id));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray(R"({"message":"success"})"));
        QCOMPARE(json(call("GET", "/admin/upstreams")).array().size(), 0);
    }

    void authIsAlwaysRequired()
    {
        RawResponse r = call("GET", "/admin/upstreams", {}, {});
        QCOMPARE(r.status, 403);
        QCOMPARE(json(r).object().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString(),
            QStringLiteral("authorization header should start with 'Bearer'"));
        r = call("GET", "/admin/upstreams", {}, "Bearer wrong");
        QCOMPARE(r.status, 403);
        QCOMPARE(json(r).object().value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString(),
            QStringLiteral("wrong authorization header"));
        QCOMPARE(call("POST", "/admin/login").status, 200);
        QCOMPARE(call("POST", "/admin/login", {}, "Bearer wrong").status, 403);
    }

    void validation_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("invalid json") << QByteArray("{not json");
        QTest::newRow("array") << QByteArray("[]");
        QTest::newRow("empty SK") << QByteArray("{\"SK\":\"\",\"Endpoint\":\"https://x/v1\"}");
        QTest::newRow("missing SK") << QByteArray("{\"Endpoint\":\"https://x/v1\"}");
        QTest::newRow("empty Endpoint") << QByteArray(R"({"SK":"k","Endpoint":""})");
        QTest::newRow("ftp Endpoint") << QByteArray("{\"SK\":\"k\",\"Endpoint\":\"ftp://x/v1\"}");
        QTest::newRow("not a URL") << QByteArray(R"({"SK":"k","Endpoint":"api.openai.com"})");
        QTest::newRow("SK not a string") << QByteArray("{\"SK\":5,\"Endpoint\":\"https://x/v1\"}");
        QTest::newRow("negative weight") << QByteArray("{\"SK\":\"k\",\"Endpoint\":\"https://x/v1\",\"Weight\":-1}");
        QTest::newRow("Enabled not bool")
            << QByteArray("{\"SK\":\"k\",\"Endpoint\":\"https://x/v1\",\"Enabled\":\"yes\"}");
        QTest::newRow("Allow not list") << QByteArray("{\"SK\":\"k\",\"Endpoint\":\"https://x/v1\",\"Allow\":5}");
    }

    void validation()
    {
        QFETCH(QByteArray, body);
        const RawResponse r = call("POST", "/admin/upstreams", body);
        QCOMPARE(r.status, 400);
        QVERIFY(json(r).object().value(QLatin1String("error")).toObject().contains(QLatin1String("message")));
        QCOMPARE(json(call("GET", "/admin/upstreams")).array().size(), 0);
    }

    void duplicatesAndUnknownIds()
    {
        const QByteArray body = "{\"SK\":\"k\",\"Endpoint\":\"https://x/v1\"}";
        QCOMPARE(call("POST", "/admin/upstreams", body).status, 200);
        QCOMPARE(call("POST", "/admin/upstreams", body).status, 409);
        QCOMPARE(call("PUT", "/admin/upstreams/999", body).status, 404);
        QCOMPARE(call("DELETE", "/admin/upstreams/999").status, 404);
        QCOMPARE(call("GET", "/admin/upstreams/999").status, 404);
        QCOMPARE(call("GET", "/admin/upstreams/abc").status, 404);
        QCOMPARE(call("PUT", "/admin/upstreams/1", "{oops").status, 400);
        QCOMPARE(call("GET", "/admin/nothing").status, 404);
        QCOMPARE(call("DELETE", "/admin/upstreams").status, 405);
    }

    void allFieldsRoundTripAndPutKeepsTheRest()
    {
        RawResponse r = call("POST", "/admin/upstreams",
            "{\"SK\":\"k\",\"Endpoint\":\"https://x/"
            "v1\",\"Name\":\"main\",\"Weight\":3,\"Allow\":[\"gpt-4o\",\"o3\"],\"Deny\":[\"/v1/audio/"
            "*\"],\"Timeout\":30,\"StreamTimeout\":5,\"Enabled\":false}");
        QCOMPARE(r.status, 200);
        const QByteArray id = QByteArray::number(json(r).object().value(QLatin1String("ID")).toInt());
        QCOMPARE(call("PUT", "/admin/upstreams/" + id, R"({"Name":"renamed"})").status, 200);
        const QJsonObject o = json(call("GET", "/admin/upstreams/" + id)).object();
        QCOMPARE(o.value(QLatin1String("Name")).toString(), QStringLiteral("renamed"));
        QCOMPARE(o.value(QLatin1String("SK")).toString(), QStringLiteral("k"));
        QCOMPARE(o.value(QLatin1String("Weight")).toInt(), 3);
        QCOMPARE(o.value(QLatin1String("Allow")).toArray().size(), 2);
        QCOMPARE(o.value(QLatin1String("Deny")).toArray().first().toString(), QStringLiteral("/v1/audio/*"));
        QCOMPARE(o.value(QLatin1String("Timeout")).toInt(), 30);
        QCOMPARE(o.value(QLatin1String("StreamTimeout")).toInt(), 5);
        QCOMPARE(o.value(QLatin1String("Enabled")).toBool(), false);
        QVERIFY(o.contains(QLatin1String("SuccessCount")));
        QVERIFY(o.contains(QLatin1String("CreatedAt")));
    }

    void changesApplyToTheVeryNextRequest()
    {
        FakeUpstream a;
        FakeUpstream b;
        a.setBehavior(FakeUpstream::Behavior::json(200, R"({"from":"a"})"));
        b.setBehavior(FakeUpstream::Behavior::json(200, R"({"from":"b"})"));
        RawResponse r = call(
            "POST", "/admin/upstreams", QStringLiteral(R"({"SK":"k","Endpoint":"%1"})").arg(a.baseUrl()).toUtf8());
        const QByteArray id = QByteArray::number(json(r).object().value(QLatin1String("ID")).toInt());
        QCOMPARE(call("POST", "/v1/chat/completions", "{}").body, QByteArray(R"({"from":"a"})"));
        QCOMPARE(call("PUT", "/admin/upstreams/" + id, QStringLiteral(R"({"Endpoint":"%1"})").arg(b.baseUrl()).toUtf8())
                     .status,
            200);
        QCOMPARE(call("POST", "/v1/chat/completions", "{}").body, QByteArray(R"({"from":"b"})"));
        QCOMPARE(call("PUT", "/admin/upstreams/" + id, R"({"Enabled":false})").status, 200);
        QCOMPARE(call("POST", "/v1/chat/completions", "{}").status, 503);
        QCOMPARE(call("PUT", "/admin/upstreams/" + id, R"({"Enabled":true})").status, 200);
        QCOMPARE(call("DELETE", "/admin/upstreams/" + id).status, 200);
        QCOMPARE(call("POST", "/v1/chat/completions", "{}").status, 503);
    }

    void config()
    {
        RawResponse r = call("GET", "/admin/config");
        QCOMPARE(r.status, 200);
        QCOMPARE(json(r).object().value(QLatin1String("Policy")).toString(), QStringLiteral("order"));
        QCOMPARE(json(r).object().value(QLatin1String("StreamTimeout")).toInt(), 10);
        QCOMPARE(
            call("PUT", "/admin/config", R"({"Policy":"round_robin","Timeout":60,"RecordBodies":true})").status, 200);
        const QJsonObject o = json(call("GET", "/admin/config")).object();
        QCOMPARE(o.value(QLatin1String("Policy")).toString(), QStringLiteral("round_robin"));
        QCOMPARE(o.value(QLatin1String("Timeout")).toInt(), 60);
        QCOMPARE(o.value(QLatin1String("RecordBodies")).toBool(), true);
        QCOMPARE(call("PUT", "/admin/config", R"({"Policy":"fastest"})").status, 400);
        QCOMPARE(call("PUT", "/admin/config", R"({"Timeout":0})").status, 400);
        // Found by fuzz_adminjson: a number beyond qint64 was converted before it was checked.
        QCOMPARE(call("PUT", "/admin/config", R"({"RecordRetentionDays":5.5e61})").status, 400);
        QCOMPARE(call("PUT", "/admin/config", R"({"Timeout":-1e300})").status, 400);
        QCOMPARE(call("POST", "/admin/tokens", R"({"Name":"x","DailyTokenLimit":1e300})").status, 400);
        QCOMPARE(call("POST", "/admin/tokens", R"({"Name":"x","RPM":1e19})").status, 400);
    }

    void keyTest()
    {
        FakeUpstream good;
        good.setBehavior(FakeUpstream::Behavior::json(200, "{\"data\":[{\"id\":\"m\"}]}"));
        RawResponse r = call("POST", "/admin/upstreams",
            QStringLiteral("{\"SK\":\"k\",\"Endpoint\":\"%1\"}").arg(good.baseUrl()).toUtf8());
        const QByteArray id = QByteArray::number(json(r).object().value(QLatin1String("ID")).toInt());
        r = call("POST", "/admin/upstreams/" + id + "/test");
        QCOMPARE(r.status, 200);
        const QJsonObject o = json(r).object();
        QCOMPARE(o.value(QLatin1String("OK")).toBool(), true);
        QCOMPARE(o.value(QLatin1String("ModelCount")).toInt(), 1);
        QCOMPARE(good.requests().last().headers.value("authorization"), QByteArray("Bearer k"));
        QCOMPARE(call("POST", "/admin/upstreams/999/test").status, 404);
        QCOMPARE(call("POST", "/admin/upstreams/" + id + "/test", {}, "Bearer wrong").status, 403);
    }

    void requestRecordsNewestFirst()
    {
        for (int i = 0; i < 3; ++i)
            call("POST", "/v1/chat/completions", QStringLiteral(R"({"model":"m%1"})").arg(i).toUtf8());
        QTRY_COMPARE_WITH_TIMEOUT(json(call("GET", "/admin/request_records?limit=10")).array().size(), 3, 2000);
        const QJsonArray two = json(call("GET", "/admin/request_records?limit=2")).array();
        QCOMPARE(two.size(), 2);
        QCOMPARE(two.first().toObject().value(QLatin1String("Model")).toString(), QStringLiteral("m2"));
        QCOMPARE(two.first().toObject().value(QLatin1String("Status")).toInt(), 503);
    }
};

QTEST_GUILESS_MAIN(TestAdmin)
#include "tst_admin.moc"
