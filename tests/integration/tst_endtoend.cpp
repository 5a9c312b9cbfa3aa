// The built binary as a user runs it: -add, headless serve, a request, SIGTERM.
#include "fakeupstream.h"
#include "rawhttp.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace route; // test code reads like code inside the project

class TestEndToEnd : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.remove(QStringLiteral("QT_QPA_PLATFORM"));
        env.insert(QStringLiteral("HOME"), m_dir.path()); // never the user's real data
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        return env;
    }

    int run(const QStringList &args, QByteArray *out = nullptr, QByteArray *err = nullptr)
    {
        QProcess p;
        p.setProcessEnvironment(environment());
        p.start(QStringLiteral(ROUTE_BINARY), args);
        if (!p.waitForFinished(20000))
            return -1;
        if (out)
            *out = p.readAllStandardOutput();
        if (err)
            *err = p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    }

private Q_SLOTS:
    void exitStatuses()
    {
        QByteArray out, err;
        QCOMPARE(run({QStringLiteral("-version")}, &out), 0);
        QVERIFY(out.startsWith("openai-api-route "));
        QCOMPARE(run({QStringLiteral("-help")}, &out), 0);
        QVERIFY(out.contains("-noauth"));
        QCOMPARE(run({QStringLiteral("-bogus")}, &out, &err), 2);
        QVERIFY(err.contains("bogus"));
        QVERIFY(out.isEmpty());
        QCOMPARE(run({QStringLiteral("-add")}, &out, &err), 2);
        QVERIFY(err.contains("-sk"));
        const QString junk = m_dir.filePath(QStringLiteral("junk.db"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'j'));
        f.close();
        QCOMPARE(run({QStringLiteral("-database"), junk, QStringLiteral("-list")}, &out, &err), 1);
        QVERIFY(err.contains(junk.toUtf8()));
        QCOMPARE(err.count('\n'), 1); // one clear line
    }

    void addListServeAndStop()
    {
        FakeUpstream upstream;
        upstream.setBehavior(FakeUpstream::Behavior::json(200, R"({"object":"list","data":[]})"));
        const QString db = m_dir.filePath(QStringLiteral("e2e.sqlite"));
        QByteArray out, err;
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-add"), QStringLiteral("-sk"),
                         QStringLiteral("sk-e2e-secret-key-1234"), QStringLiteral("-endpoint"), upstream.baseUrl()},
                     &out, &err),
            0);
        QCOMPARE(out.trimmed(), QByteArray("1"));
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-list")}, &out), 0);
        QVERIFY(out.contains(upstream.baseUrl().toUtf8()));
        QVERIFY(!out.contains("sk-e2e-secret-key-1234")); // masked
        QVERIFY(out.contains("1234"));

        QProcess server;
        server.setProcessEnvironment(environment());
        server.start(QStringLiteral(ROUTE_BINARY),
            {QStringLiteral("-database"), db, QStringLiteral("-addr"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--no-gui")});
        QVERIFY(server.waitForStarted(5000));
        QByteArray banner;
        const QRegularExpression portRe(QStringLiteral("127\\.0\\.0\\.1:(\\d+)/v1"));
        const QRegularExpression tokenRe(QStringLiteral("(sk-route-[A-Za-z0-9]+)"));
        QRegularExpressionMatch portMatch, tokenMatch;
        for (int i = 0; i < 50 && !(portMatch.hasMatch() && tokenMatch.hasMatch()); ++i) {
            server.waitForReadyRead(200);
            banner += server.readAllStandardOutput();
            portMatch = portRe.match(QString::fromUtf8(banner));
            tokenMatch = tokenRe.match(QString::fromUtf8(banner));
        }
        QVERIFY2(portMatch.hasMatch() && tokenMatch.hasMatch(), banner.constData());
        QVERIFY(banner.contains(db.toUtf8())); // the database path is printed

        RawRequest r;
        r.target = "/v1/models";
        r.headers.append("Authorization", "Bearer " + tokenMatch.captured(1).toUtf8());
        const RawResponse resp = rawHttp(quint16(portMatch.captured(1).toUInt()), r);
        QCOMPARE(resp.status, 200);
        // Answered from the catalog the binary fetched at start with the key.
        const QJsonObject list = QJsonDocument::fromJson(resp.body).object();
        QCOMPARE(list.value(QLatin1String("object")).toString(), QStringLiteral("list"));
        QVERIFY(list.value(QLatin1String("data")).isArray());
        QCOMPARE(upstream.requests().first().target, QByteArray("/v1/models"));
        QCOMPARE(
            upstream.requests().first().headers.value("authorization"), QByteArray("Bearer sk-e2e-secret-key-1234"));

        ::kill(pid_t(server.processId()), SIGTERM);
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        const QByteArray rest = server.readAllStandardOutput() + server.readAllStandardError();
        QVERIFY(!rest.contains("sk-e2e-secret-key-1234"));

        // A second start keeps the token: it was generated once.
        QProcess again;
        again.setProcessEnvironment(environment());
        again.start(QStringLiteral(ROUTE_BINARY),
            {QStringLiteral("-database"), db, QStringLiteral("-addr"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--no-gui")});
        QVERIFY(again.waitForStarted(5000));
        QByteArray second;
        for (int i = 0; i < 50 && !second.contains("/v1"); ++i) {
            again.waitForReadyRead(200);
            second += again.readAllStandardOutput();
        }
        QVERIFY(!second.contains("sk-route-"));
        ::kill(pid_t(again.processId()), SIGTERM);
        QVERIFY(again.waitForFinished(10000));
        QCOMPARE(again.exitCode(), 0);
    }

    void sigtermLetsStreamsInFlightFinish()
    {
        FakeUpstream upstream;
        QList<QByteArray> events;
        for (int i = 0; i < 8; ++i)
            events << "data: {\"n\":" + QByteArray::number(i) + "}\n\n";
        events << "data: [DONE]\n\n";
        upstream.setBehavior(FakeUpstream::Behavior::sse(events, 150));
        const QString db = m_dir.filePath(QStringLiteral("sigterm.sqlite"));
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-add"), QStringLiteral("-sk"),
                     QStringLiteral("sk-x"), QStringLiteral("-endpoint"), upstream.baseUrl()}),
            0);
        QProcess server;
        server.setProcessEnvironment(environment());
        server.start(QStringLiteral(ROUTE_BINARY),
            {QStringLiteral("-database"), db, QStringLiteral("-addr"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--no-gui"), QStringLiteral("-noauth")});
        QVERIFY(server.waitForStarted(5000));
        QByteArray banner;
        const QRegularExpression portRe(QStringLiteral("127\\.0\\.0\\.1:(\\d+)/v1"));
        QRegularExpressionMatch m;
        for (int i = 0; i < 50 && !m.hasMatch(); ++i) {
            server.waitForReadyRead(200);
            banner += server.readAllStandardOutput();
            m = portRe.match(QString::fromUtf8(banner));
        }
        QVERIFY2(m.hasMatch(), banner.constData());
        const quint16 port = quint16(m.captured(1).toUInt());

        // A stream of ~1.2 s starts; SIGTERM comes 300 ms into it.
        QTcpSocket client;
        client.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(client.waitForConnected(2000));
        client.write(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 15\r\n\r\n{\"stream\":true}");
        QVERIFY(client.waitForReadyRead(2000));
        QTest::qWait(300);
        ::kill(pid_t(server.processId()), SIGTERM);
        QTest::qWait(200);
        // No new connections once stopping...
        QTcpSocket late;
        late.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(!late.waitForConnected(500) || !late.waitForReadyRead(300));
        // ...but the stream in flight completes intact.
        QByteArray all = client.readAll();
        QElapsedTimer t;
        t.start();
        while (!all.endsWith("0\r\n\r\n") && t.elapsed() < 5000) {
            if (client.waitForReadyRead(1000))
                all += client.readAll();
            else if (client.state() != QAbstractSocket::ConnectedState)
                break;
        }
        QVERIFY2(all.contains("data: [DONE]"), all.constData());
        QVERIFY(all.endsWith("0\r\n\r\n"));
        QVERIFY(server.waitForFinished(5000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
    }

    void keyTestFromTheCommandLine()
    {
        FakeUpstream good;
        good.setBehavior(FakeUpstream::Behavior::json(200, R"({"object":"list","data":[{"id":"a"},{"id":"b"}]})"));
        FakeUpstream bad;
        bad.setBehavior(FakeUpstream::Behavior::json(401, R"({"error":{"message":"Incorrect API key provided"}})"));
        const QString db = m_dir.filePath(QStringLiteral("keytest.sqlite"));
        QByteArray out, err;
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-add"), QStringLiteral("-sk"),
                     QStringLiteral("sk-good-0000000"), QStringLiteral("-endpoint"), good.baseUrl()}),
            0);
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-add"), QStringLiteral("-sk"),
                     QStringLiteral("sk-bad-00000000"), QStringLiteral("-endpoint"), bad.baseUrl()}),
            0);
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-test"), QStringLiteral("1")}, &out, &err), 0);
        QVERIFY2(out.contains("OK") && out.contains("2 models"), out.constData());
        QCOMPARE(good.requests().first().target, QByteArray("/v1/models"));
        QCOMPARE(good.requests().first().method, QByteArray("GET"));
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-test"), QStringLiteral("2")}, &out, &err), 1);
        QVERIFY2(out.contains("Incorrect API key provided"), out.constData());
        QVERIFY(!out.contains("sk-bad-00000000"));
        QCOMPARE(run({QStringLiteral("-database"), db, QStringLiteral("-test"), QStringLiteral("9")}, &out, &err), 1);
        QCOMPARE(
            run({QStringLiteral("-database"), db, QStringLiteral("-policy"), QStringLiteral("fastest")}, &out, &err),
            2);
    }

    void portInUseNamesTheAddress()
    {
        QTcpServer busy;
        QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
        const QString addr = QStringLiteral("127.0.0.1:%1").arg(busy.serverPort());
        QByteArray out, err;
        QCOMPARE(run({QStringLiteral("-database"), m_dir.filePath(QStringLiteral("busy.sqlite")),
                         QStringLiteral("-addr"), addr, QStringLiteral("--no-gui")},
                     &out, &err),
            1);
        QVERIFY2(err.contains(addr.toUtf8()), err.constData());
        QVERIFY(err.contains("in use"));
    }
};

QTEST_GUILESS_MAIN(TestEndToEnd)
#include "tst_endtoend.moc"
