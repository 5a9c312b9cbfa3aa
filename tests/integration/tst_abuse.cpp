// The smuggling and abuse run (SPEC §13): raw sockets send the table's
// requests to the running proxy in front of a fake upstream that records
// what reaches it, and the table's responses come from an upstream that
// writes them byte for byte. Nothing of a refused request, and no request
// hidden in another, ever arrives upstream; no ambiguous response reaches
// a client.
#include "fakeupstream.h"
#include "smugglingcases.h"
#include "testengine.h"

#include "http/headparser.h"

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QtTest>

Q_DECLARE_METATYPE(ResponseCase::Fate)

namespace {

// What the proxy answered on one connection to RAW: the statuses in order,
// read until EXPECTED answers came (then, after a refusal, until it closed),
// and whether it closed.
struct Exchange
{
    QList<int> statuses;
    bool closed = false;
};

Exchange exchange(quint16 port, const QByteArray &raw, qsizetype expected)
{
    Exchange out;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(3000))
        return out;
    socket.write(raw);
    QByteArray data;
    qsizetype offset = 0;
    QElapsedTimer timer;
    timer.start();
    const auto refusedYet = [&out] { return !out.statuses.isEmpty() && out.statuses.last() != 200; };
    while (timer.elapsed() < 5000) {
        if (out.statuses.size() >= expected && !refusedYet())
            break; // everything answered on a connection kept alive
        if (socket.state() != QAbstractSocket::ConnectedState && socket.bytesAvailable() == 0) {
            out.closed = true;
            break;
        }
        socket.waitForReadyRead(100);
        data += socket.readAll();
        for (;;) {
            qsizetype at = offset;
            const RawResponse r = parseResponse(data, &at);
            if (!r.complete)
                break;
            out.statuses << r.status;
            offset = at;
        }
    }
    return out;
}

} // namespace

class TestAbuse : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smuggledRequestsNeverReachTheUpstream_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QList<int>>("answers");
        for (const RequestCase &c : requestCases())
            QTest::newRow(c.name.constData()) << c.raw << c.answers;
    }
    void smuggledRequestsNeverReachTheUpstream()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QList<int>, answers);
        static FakeUpstream up;
        static TestEngine proxy(true);
        static const bool started = [] {
            up.setBehavior(FakeUpstream::Behavior::json(200, "{\"choices\":[]}"));
            if (!proxy.start())
                return false;
            proxy.addUpstream(up.baseUrl(), QStringLiteral("sk-abuse"));
            return true;
        }();
        QVERIFY(started);
        up.clear();

        const Exchange got = exchange(proxy.port(), raw, answers.size());
        QCOMPARE(got.statuses, answers);
        if (answers.last() != 200)
            QVERIFY2(got.closed, "a refused request left the connection open");
        // Exactly the accepted requests went upstream, each with the whole
        // body, and none of them is a request that hid inside another.
        const QList<FakeUpstream::Request> arrived = up.requests();
        QCOMPARE(int(arrived.size()), int(answers.count(200)));
        for (const FakeUpstream::Request &r : arrived) {
            QCOMPARE(r.target, QByteArray("/v1/chat/completions"));
            QVERIFY(!r.target.contains(kSmuggledMarker));
            QVERIFY(r.body.startsWith("{\"model\":\"m\""));
        }
    }

    void ambiguousResponsesAreFailedAttempts_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<ResponseCase::Fate>("fate");
        QTest::addColumn<QByteArray>("body");
        for (const ResponseCase &c : responseCases())
            QTest::newRow(c.name.constData()) << c.raw << c.fate << c.body;
    }
    void ambiguousResponsesAreFailedAttempts()
    {
        QFETCH(QByteArray, raw);
        QFETCH(ResponseCase::Fate, fate);
        QFETCH(QByteArray, body);
        static FakeUpstream up;
        HealthTuning neverRest; // every case meets a key that is not resting from the last
        neverRest.failuresToTrip = 1000000;
        static TestEngine proxy(true, HttpLimits{}, neverRest);
        static const bool started = [] {
            if (!proxy.start())
                return false;
            proxy.addUpstream(up.baseUrl(), QStringLiteral("sk-abuse"));
            return true;
        }();
        QVERIFY(started);
        FakeUpstream::Behavior b = FakeUpstream::Behavior::of(FakeUpstream::Behavior::Kind::Raw);
        b.body = raw;
        up.setBehavior(b);

        const RawResponse r = proxy.call("POST", "/v1/chat/completions", kSmugglingBody, {});
        switch (fate) {
        case ResponseCase::Fate::Taken:
            QCOMPARE(r.status, 200);
            QVERIFY(r.complete);
            QCOMPARE(r.body, body);
            break;
        case ResponseCase::Fate::FailedAttempt:
            // The client is told so, never handed a guess.
            QCOMPARE(r.status, 502);
            QVERIFY2(!r.body.contains("\"choices\":[]"), r.body.constData());
            break;
        case ResponseCase::Fate::Cut:
            // Its head was passed on; the broken body ends the connection
            // without the clean end a client would take for the whole answer.
            QCOMPARE(r.status, 200);
            QVERIFY(!r.complete);
            QVERIFY(r.closedByPeer);
            break;
        }
    }

    // An ambiguous head is a failed attempt like a refused connection: the
    // next key answers, and the client never sees the first.
    void anAmbiguousResponseFailsOverToTheNextKey()
    {
        FakeUpstream bad;
        FakeUpstream good;
        FakeUpstream::Behavior b = FakeUpstream::Behavior::of(FakeUpstream::Behavior::Kind::Raw);
        b.body = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\nContent-Length: 4\r\n\r\n{\"choices\":[]}";
        bad.setBehavior(b);
        good.setBehavior(FakeUpstream::Behavior::json(200, "{\"id\":\"good\"}"));
        HealthTuning neverRest;
        neverRest.failuresToTrip = 1000000;
        TestEngine proxy(true, HttpLimits{}, neverRest);
        QVERIFY(proxy.start());
        proxy.addUpstream(bad.baseUrl(), QStringLiteral("sk-bad"));
        proxy.addUpstream(good.baseUrl(), QStringLiteral("sk-good"));
        for (int i = 0; i < 6; ++i) {
            const RawResponse r = proxy.call("POST", "/v1/chat/completions", kSmugglingBody, {});
            QCOMPARE(r.status, 200);
            QCOMPARE(r.body, QByteArray("{\"id\":\"good\"}"));
        }
        QVERIFY(bad.requestCount() > 0); // it was tried, and passed over
    }
};

QTEST_GUILESS_MAIN(TestAbuse)
#include "tst_abuse.moc"
