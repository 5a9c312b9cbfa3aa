// The HTTP edge of the real server: framing, keep-alive, limits, timeouts.
#include "engine/requestrouter.h"
#include "rawhttp.h"
#include "testengine.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

using namespace route; // test code reads like code inside the project

class TestHttpServer : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;

    static HttpLimits limits()
    {
        HttpLimits l;
        l.maxBodyBytes = 4096;
        l.headerTimeoutMs = 600;
        l.keepAliveTimeoutMs = 800;
        return l;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_env = std::make_unique<TestEngine>(false, limits());
        QVERIFY(m_env->start());
    }
    void cleanupTestCase() { m_env.reset(); }

    void rootAnswers()
    {
        RawRequest r;
        const RawResponse resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 200);
        QVERIFY(resp.complete);
        QVERIFY(resp.body.contains("openai-api-route"));
    }

    void headHasNoBody()
    {
        const QByteArray raw
            = rawExchange(m_env->port(), "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        QVERIFY2(raw.startsWith("HTTP/1.1 200"), raw.constData());
        QVERIFY(raw.contains("Content-Length: "));
        QVERIFY2(raw.endsWith("\r\n\r\n"), raw.constData()); // nothing after the headers
    }

    void unknownPathIs404Json()
    {
        RawRequest r;
        r.target = "/nope";
        const RawResponse resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 404);
        QVERIFY(resp.body.contains("\"error\""));
    }

    void keepAliveAndPipelining()
    {
        const QByteArray two = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET /nope HTTP/1.1\r\nHost: "
                               "localhost\r\nConnection: close\r\n\r\n";
        const QByteArray raw = rawExchange(m_env->port(), two);
        qsizetype offset = 0;
        const RawResponse first = parseResponse(raw, &offset);
        const RawResponse second = parseResponse(raw, &offset);
        QCOMPARE(first.status, 200);
        QVERIFY(first.complete);
        QCOMPARE(second.status, 404);
        QVERIFY(second.complete);
    }

    void chunkedRequestBody()
    {
        RawRequest r;
        r.method = "POST";
        r.target = "/admin/login";
        r.headers.append("Authorization", TestEngine::bearer());
        r.headers.append("Transfer-Encoding", "chunked");
        r.body = "3\r\n{}x\r\n0\r\n\r\n";
        const RawResponse resp = rawHttp(m_env->port(), r);
        QCOMPARE(resp.status, 200);
        QVERIFY(resp.body.contains("success"));
    }

    void bodyOverLimitIs413BeforeTheBody()
    {
        const QByteArray raw = rawExchange(m_env->port(),
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 999999\r\n\r\n", 2000);
        QVERIFY2(raw.startsWith("HTTP/1.1 413"), raw.constData());
        QVERIFY(raw.contains("\"error\""));
    }

    void chunkedBodyOverLimitIs413()
    {
        const QByteArray chunk(3000, 'a');
        const QByteArray req = "POST /v1/x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            + QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n" + QByteArray::number(chunk.size(), 16)
            + "\r\n" + chunk + "\r\n0\r\n\r\n";
        const QByteArray raw = rawExchange(m_env->port(), req, 2000);
        QVERIFY2(raw.startsWith("HTTP/1.1 413"), raw.left(200).constData());
    }

    void expectContinueIsAnswered()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_env->port());
        QVERIFY(s.waitForConnected(2000));
        s.write("POST /admin/login HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer test-token\r\nContent-Length: "
                "2\r\nExpect: 100-continue\r\n\r\n");
        QElapsedTimer t;
        t.start();
        QVERIFY(s.waitForReadyRead(2000));
        QVERIFY(t.elapsed() < 500);
        QCOMPARE(s.readAll(), QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        s.write("{}");
        QVERIFY(s.waitForReadyRead(2000));
        QVERIFY(s.readAll().startsWith("HTTP/1.1 200"));
    }

    void malformedRequestsAre400AndServerStaysHealthy_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("garbage") << QByteArray("\x16\x03\x01 hello\r\n\r\n");
        QTest::newRow("no version") << QByteArray("GET /\r\n\r\n");
        QTest::newRow("bad header") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n");
        QTest::newRow("bad length") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12abc\r\n\r\n");
        QTest::newRow("two lengths") << QByteArray(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
        QTest::newRow("length and chunked")
            << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
        QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
        QTest::newRow("two hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        QTest::newRow("nul in a value") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35);
        QTest::newRow("bad chunk") << QByteArray(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    }

    void malformedRequestsAre400AndServerStaysHealthy()
    {
        QFETCH(QByteArray, bytes);
        const QByteArray raw = rawExchange(m_env->port(), bytes, 2000);
        QVERIFY2(raw.startsWith("HTTP/1.1 400"), raw.constData());
        QCOMPARE(rawHttp(m_env->port(), RawRequest()).status, 200);
    }

    void transferCodingsOtherThanChunkedAre501()
    {
        for (const QByteArray &te : {QByteArray("gzip"), QByteArray("gzip, chunked"), QByteArray("xchunked")}) {
            const QByteArray raw = rawExchange(
                m_env->port(), "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te + "\r\n\r\n0\r\n\r\n", 2000);
            QVERIFY2(raw.startsWith("HTTP/1.1 501"), raw.constData());
            QVERIFY(raw.contains("Connection: close"));
        }
        QCOMPARE(rawHttp(m_env->port(), RawRequest()).status, 200);
    }

    void aRebindingPageIsRefusedByItsHost()
    {
        RawRequest r;
        r.target = "/v1/models";
        r.headers.append("Authorization", TestEngine::bearer());
        // rawHttp sends Host: 127.0.0.1; a page whose name was rebound to it sends its own.
        const QByteArray evil
            = "GET /v1/models HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer test-token\r\n\r\n";
        const QByteArray refused = rawExchange(m_env->port(), evil, 2000);
        QVERIFY2(refused.startsWith("HTTP/1.1 403"), refused.constData());
        QVERIFY(refused.contains("AllowedHosts"));
        for (const QByteArray &host : {QByteArray("localhost:8888"), QByteArray("[::1]:8888"), QByteArray("127.0.0.1"),
                 QByteArray("LOCALHOST")}) {
            const QByteArray ok
                = rawExchange(m_env->port(), "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n", 2000);
            QVERIFY2(ok.startsWith("HTTP/1.1 200"), host.constData());
        }
        QCOMPARE(m_env->call("PUT", "/admin/config", R"({"AllowedHosts":["proxy.lan"]})").status, 200);
        const QByteArray named
            = rawExchange(m_env->port(), "GET / HTTP/1.1\r\nHost: Proxy.LAN:8888\r\nConnection: close\r\n\r\n", 2000);
        QVERIFY2(named.startsWith("HTTP/1.1 200"), named.constData());
        QVERIFY(RequestRouter::isLocalHost("", {}));
        QVERIFY(!RequestRouter::isLocalHost("127.0.0.1.evil.example", {}));
    }

    void theAdminApiRefusesForeignPages()
    {
        RawRequest r;
        r.target = "/admin/upstreams";
        r.headers.append("Authorization", TestEngine::bearer());
        r.headers.append("Origin", "https://evil.example");
        RawResponse refused = rawHttp(m_env->port(), r);
        QCOMPARE(refused.status, 403);
        QVERIFY(refused.body.contains("AllowedOrigins"));
        r.headers.set("Origin", "http://localhost:5173");
        RawResponse local = rawHttp(m_env->port(), r);
        QCOMPARE(local.status, 200);
        QCOMPARE(local.headers.value("access-control-allow-origin"), QByteArray("http://localhost:5173"));
        QCOMPARE(m_env->call("PUT", "/admin/config", "{\"AllowedOrigins\":[\"https://tool.example\"]}").status, 200);
        r.headers.set("Origin", "https://tool.example");
        const RawResponse named = rawHttp(m_env->port(), r);
        QCOMPARE(named.status, 200);
        QCOMPARE(named.headers.value("access-control-allow-origin"), QByteArray("https://tool.example"));
    }

    void metricsNeedTheTokenUnlessPublic()
    {
        QCOMPARE(m_env->call("GET", "/metrics", {}, {}).status, 403);
        // An app token is for /v1 requests, not for how every key is doing.
        const RawResponse app = m_env->call("POST", "/admin/tokens", R"({"Name":"scraper"})");
        QCOMPARE(app.status, 200);
        const QByteArray appToken = QJsonDocument::fromJson(app.body).object().value("Token").toString().toUtf8();
        QVERIFY(!appToken.isEmpty());
        QCOMPARE(m_env->call("GET", "/v1/metrics", {}, "Bearer " + appToken).status, 403);
        QCOMPARE(m_env->call("GET", "/metrics", {}, "Bearer " + appToken).status, 403);
        // Labels carry ids, never a key's alias.
        m_env->addUpstream(QStringLiteral("http://127.0.0.1:9/v1"), QStringLiteral("sk-metrics-key-0001"),
            [](Upstream &u) { u.name = QStringLiteral("alice-personal-key"); });
        const RawResponse seed = m_env->call("GET", "/metrics");
        QCOMPARE(seed.status, 200);
        QVERIFY(seed.body.contains("openai_route_upstream_up{upstream=\""));
        QVERIFY(!seed.body.contains("alice-personal-key"));
        QVERIFY(!seed.body.contains("sk-metrics"));
        QVERIFY(!seed.body.contains("0001"));
        // -noauth opens /v1, not /metrics.
        TestEngine open(true);
        QVERIFY(open.start());
        QCOMPARE(open.call("GET", "/metrics", {}, {}).status, 403);
        QCOMPARE(open.call("GET", "/metrics").status, 200);
        QCOMPARE(m_env->call("PUT", "/admin/config", R"({"MetricsPublic":true})").status, 200);
        QCOMPARE(m_env->call("GET", "/metrics", {}, {}).status, 200);
        QCOMPARE(m_env->call("GET", "/admin/config").status, 200);
        QVERIFY(m_env->call("GET", "/admin/config").body.contains("\"MetricsPublic\":true"));
    }

    // Listening beyond loopback (SPEC §13) is said at start and in the
    // window; with -noauth the sentence names the risk. (Engines that are
    // never started: nothing here listens beyond 127.0.0.1.)
    void listeningBeyondLoopbackIsSaid()
    {
        EngineOptions o;
        o.port = 8888;
        o.address = QHostAddress::Any;
        o.noAuth = true;
        const QString open = Engine(o).exposureWarning();
        QVERIFY2(open.contains("-noauth") && open.contains("spend your API keys") && open.contains(":8888"),
            qPrintable(open));
        o.noAuth = false;
        const QString authed = Engine(o).exposureWarning();
        QVERIFY2(authed.contains("reachable from the network") && !authed.contains("-noauth"), qPrintable(authed));
        o.address = QHostAddress(QStringLiteral("192.168.1.20"));
        QVERIFY(Engine(o).exposureWarning().contains("192.168.1.20:8888"));
        for (const QHostAddress &local :
            {QHostAddress(QHostAddress::LocalHost), QHostAddress(QHostAddress::LocalHostIPv6)}) {
            o.address = local;
            o.noAuth = true;
            QVERIFY(Engine(o).exposureWarning().isEmpty());
        }
    }

    void oversizedHeadersAre431()
    {
        const QByteArray raw
            = rawExchange(m_env->port(), "GET / HTTP/1.1\r\nX-Big: " + QByteArray(70 * 1024, 'a') + "\r\n\r\n", 2000);
        QVERIFY2(raw.startsWith("HTTP/1.1 431"), raw.left(100).constData());
    }

    void slowHeadersTimeOut()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_env->port());
        QVERIFY(s.waitForConnected(2000));
        s.write("GET / HTTP/1.1\r\nX-Slow: 1\r\n");
        QElapsedTimer t;
        t.start();
        QVERIFY(s.waitForReadyRead(3000));
        QVERIFY(s.readAll().startsWith("HTTP/1.1 408"));
        QVERIFY(t.elapsed() < 2000);
    }

    void idleKeepAliveIsClosed()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_env->port());
        QVERIFY(s.waitForConnected(2000));
        s.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        QVERIFY(s.waitForReadyRead(2000));
        s.readAll();
        QElapsedTimer t;
        t.start();
        QVERIFY(s.waitForDisconnected(3000));
        QVERIFY(t.elapsed() >= 500);
    }

    void http10Works()
    {
        const QByteArray raw = rawExchange(m_env->port(), "GET / HTTP/1.0\r\n\r\n", 2000);
        QVERIFY2(raw.startsWith("HTTP/1.1 200"), raw.constData());
        QVERIFY(raw.contains("openai-api-route"));
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
