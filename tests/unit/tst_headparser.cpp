#include "http/headparser.h"

#include <QTest>

using namespace route; // test code reads like code inside the project

// The one head parser, as a table: raw bytes in, the verdict out. Requests
// and responses follow the same field rules.
class TestHeadParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void requests_data();
    void requests();
    void responses_data();
    void responses();
    void requestFields();
    void responseFields();
    void needsMoreUntilTheEmptyLine();
    void limits();
    void skipsEmptyLinesBeforeARequest();
};

namespace {
enum class Verdict { Complete, NeedMore, Invalid };
}
Q_DECLARE_METATYPE(Verdict)
Q_DECLARE_METATYPE(HeadError)
Q_DECLARE_METATYPE(BodyFraming)

void TestHeadParser::requests_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<Verdict>("verdict");
    QTest::addColumn<HeadError>("error");
    QTest::addColumn<BodyFraming>("framing");
    QTest::addColumn<qint64>("length");
    QTest::addColumn<bool>("keepAlive");

    const auto ok = [](const char *name, const char *raw, BodyFraming f, qint64 len, bool keep) {
        QTest::newRow(name) << QByteArray(raw) << Verdict::Complete << HeadError::None << f << len << keep;
    };
    const auto bad = [](const char *name, const QByteArray &raw, HeadError e) {
        QTest::newRow(name) << raw << Verdict::Invalid << e << BodyFraming::None << qint64(0) << false;
    };
    ok("get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", BodyFraming::None, 0, true);
    ok("length", "POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", BodyFraming::Length, 5, true);
    ok("length zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", BodyFraming::None, 0, true);
    ok("chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", BodyFraming::Chunked, 0, true);
    ok("close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", BodyFraming::None, 0, false);
    ok("1.0 closes, no host needed", "GET / HTTP/1.0\r\n\r\n", BodyFraming::None, 0, false);
    ok("te any case", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", BodyFraming::Chunked, 0,
        true);
    ok("1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", BodyFraming::None, 0, true);
    ok("absolute form", "GET http://h/v1/models?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", BodyFraming::None, 0, true);
    ok("options star", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", BodyFraming::None, 0, true);
    ok("value ows trimmed", "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v \t\r\n\r\n", BodyFraming::None, 0, true);
    ok("empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-A:\r\n\r\n", BodyFraming::None, 0, true);
    ok("obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xc3\xa9\r\n\r\n", BodyFraming::None, 0, true);
    ok("100-continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        BodyFraming::Length, 1, true);

    bad("no method", " / HTTP/1.1\r\n\r\n", HeadError::BadStartLine);
    bad("two spaces", "GET  / HTTP/1.1\r\n\r\n", HeadError::BadStartLine);
    bad("no version", "GET /\r\n\r\n", HeadError::BadStartLine);
    bad("extra word", "GET / HTTP/1.1 x\r\n\r\n", HeadError::BadStartLine);
    bad("method not a token", "G(T / HTTP/1.1\r\n\r\n", HeadError::BadStartLine);
    bad("http/2", "GET / HTTP/2.0\r\n\r\n", HeadError::BadVersion);
    bad("not http", "GET / FTP/1.1\r\n\r\n", HeadError::BadStartLine);
    bad("relative target", "GET v1/models HTTP/1.1\r\n\r\n", HeadError::BadTarget);
    bad("star without options", "GET * HTTP/1.1\r\n\r\n", HeadError::BadTarget);
    bad("no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", HeadError::BadHeaderLine);
    bad("empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", HeadError::BadHeaderLine);
    bad("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HeadError::BadHeaderLine);
    bad("obs-fold", "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", HeadError::BadHeaderLine);
    bad("tab fold", "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", HeadError::BadHeaderLine);
    bad("nul in value", QByteArray("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28), HeadError::BadHeaderLine);
    bad("bare cr in value", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", HeadError::BadHeaderLine);
    bad("te with cl", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        HeadError::BadTransferEncoding);
    bad("te gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", HeadError::UnsupportedTransferEncoding);
    bad("te gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        HeadError::UnsupportedTransferEncoding);
    bad("te xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
        HeadError::UnsupportedTransferEncoding);
    bad("te twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        HeadError::UnsupportedTransferEncoding);
    bad("no host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", HeadError::BadHost);
    bad("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HeadError::BadHost);
    bad("two lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        HeadError::ConflictingLength);
    bad("same length twice", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
        HeadError::ConflictingLength);
    bad("signed length", "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n", HeadError::BadLength);
    bad("hex length", "POST / HTTP/1.1\r\nContent-Length: 0x3\r\n\r\n", HeadError::BadLength);
    bad("list length", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", HeadError::BadLength);
    bad("huge length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", HeadError::BadLength);
    bad("odd expect", "POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", HeadError::BadExpect);
}

void TestHeadParser::requests()
{
    QFETCH(QByteArray, raw);
    QFETCH(Verdict, verdict);
    QFETCH(HeadError, error);
    RequestHead head;
    const HeadResult r = HeadParser::parseRequest(raw, head);
    QCOMPARE(r.error, error);
    QCOMPARE(r.isComplete(), verdict == Verdict::Complete);
    QCOMPARE(r.isInvalid(), verdict == Verdict::Invalid);
    if (verdict != Verdict::Complete)
        return;
    QFETCH(BodyFraming, framing);
    QFETCH(qint64, length);
    QFETCH(bool, keepAlive);
    QCOMPARE(r.framing, framing);
    QCOMPARE(r.contentLength, length);
    QCOMPARE(r.keepAlive, keepAlive);
    QCOMPARE(r.consumed, raw.size());
}

void TestHeadParser::responses_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<bool>("toHead");
    QTest::addColumn<Verdict>("verdict");
    QTest::addColumn<HeadError>("error");
    QTest::addColumn<BodyFraming>("framing");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("keepAlive");

    const auto ok = [](const char *name, const char *raw, BodyFraming f, int status, bool keep, bool toHead = false) {
        QTest::newRow(name) << QByteArray(raw) << toHead << Verdict::Complete << HeadError::None << f << status << keep;
    };
    const auto bad = [](const char *name, const char *raw, HeadError e) {
        QTest::newRow(name) << QByteArray(raw) << false << Verdict::Invalid << e << BodyFraming::None << 0 << false;
    };
    ok("length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", BodyFraming::Length, 200, true);
    ok("length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", BodyFraming::Length, 200, true);
    ok("chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", BodyFraming::Chunked, 200, true);
    ok("until close", "HTTP/1.1 200 OK\r\n\r\n", BodyFraming::UntilClose, 200, false);
    ok("no reason", "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", BodyFraming::Length, 503, true);
    ok("empty reason", "HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", BodyFraming::Length, 503, true);
    ok("204", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", BodyFraming::None, 204, true);
    ok("304", "HTTP/1.1 304 Not Modified\r\n\r\n", BodyFraming::None, 304, true);
    ok("to head", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", BodyFraming::None, 200, true, true);
    ok("1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", BodyFraming::Length, 200, false);
    ok("close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", BodyFraming::Length, 200, false);
    ok("interim", "HTTP/1.1 100 Continue\r\n\r\n", BodyFraming::None, 100, true);

    bad("not http", "ICY 200 OK\r\n\r\n", HeadError::BadStartLine);
    bad("http/2", "HTTP/2 200\r\n\r\n", HeadError::BadStartLine);
    bad("http/1.2", "HTTP/1.2 200 OK\r\n\r\n", HeadError::BadVersion);
    bad("two digit status", "HTTP/1.1 20 OK\r\n\r\n", HeadError::BadStartLine);
    bad("four digit status", "HTTP/1.1 2000 OK\r\n\r\n", HeadError::BadStartLine);
    bad("status letters", "HTTP/1.1 2x0 OK\r\n\r\n", HeadError::BadStartLine);
    bad("status below 100", "HTTP/1.1 099 OK\r\n\r\n", HeadError::BadStartLine);
    bad("obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", HeadError::BadHeaderLine);
    bad("te gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        HeadError::UnsupportedTransferEncoding);
    bad("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n", HeadError::BadHeaderLine);
    bad("te with cl", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
        HeadError::BadTransferEncoding);
    bad("two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        HeadError::ConflictingLength);
    bad("lenient length", "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n", HeadError::BadLength);
    bad("negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", HeadError::BadLength);
    bad("bare cr in value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", HeadError::BadHeaderLine);
}

void TestHeadParser::responses()
{
    QFETCH(QByteArray, raw);
    QFETCH(bool, toHead);
    QFETCH(Verdict, verdict);
    QFETCH(HeadError, error);
    ResponseHead head;
    const HeadResult r = HeadParser::parseResponse(raw, head, toHead);
    QCOMPARE(r.error, error);
    QCOMPARE(r.isComplete(), verdict == Verdict::Complete);
    QCOMPARE(r.isInvalid(), verdict == Verdict::Invalid);
    if (verdict != Verdict::Complete)
        return;
    QFETCH(BodyFraming, framing);
    QFETCH(int, status);
    QFETCH(bool, keepAlive);
    QCOMPARE(head.status, status);
    QCOMPARE(r.interim, status < 200);
    if (!r.interim) {
        QCOMPARE(r.framing, framing);
        QCOMPARE(r.keepAlive, keepAlive);
    }
    QCOMPARE(r.consumed, raw.size());
}

void TestHeadParser::requestFields()
{
    RequestHead head;
    const QByteArray raw = "POST /v1/chat/completions?a=1&b HTTP/1.1\r\nhost: x\r\nX-Two: 1\r\nx-two: 2\r\n\r\nBODY";
    const HeadResult r = HeadParser::parseRequest(raw, head);
    QVERIFY(r.isComplete());
    QCOMPARE(head.method, QByteArray("POST"));
    QCOMPARE(head.target, QByteArray("/v1/chat/completions?a=1&b"));
    QCOMPARE(head.path, QByteArray("/v1/chat/completions"));
    QCOMPARE(head.query, QByteArray("a=1&b"));
    QCOMPARE(head.headers.size(), 3);
    QCOMPARE(head.headers.value("Host"), QByteArray("x"));
    QCOMPARE(head.headers.pairs().at(2).first, QByteArray("x-two")); // spelling and duplicates kept
    QCOMPARE(raw.sliced(r.consumed), QByteArray("BODY"));

    RequestHead absolute;
    QVERIFY(HeadParser::parseRequest("GET https://h:1/v1/models HTTP/1.1\r\nHost: h\r\n\r\n", absolute).isComplete());
    QCOMPARE(absolute.path, QByteArray("/v1/models"));
}

void TestHeadParser::responseFields()
{
    ResponseHead head;
    const QByteArray raw = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n";
    const HeadResult r = HeadParser::parseResponse(raw, head, false);
    QVERIFY(r.isComplete());
    QCOMPARE(head.status, 429);
    QCOMPARE(head.reason, QByteArray("Too Many Requests"));
    QCOMPARE(head.headers.value("retry-after"), QByteArray("3"));
}

void TestHeadParser::needsMoreUntilTheEmptyLine()
{
    const QByteArray full = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n";
    for (qsizetype n = 0; n < full.size(); ++n) {
        RequestHead head;
        const HeadResult r = HeadParser::parseRequest(full.first(n), head);
        QVERIFY2(r.status == HeadResult::Status::NeedMore, qPrintable(QString::number(n)));
    }
    const QByteArray response = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n";
    for (qsizetype n = 0; n < response.size(); ++n) {
        ResponseHead head;
        QVERIFY(HeadParser::parseResponse(response.first(n), head, false).status == HeadResult::Status::NeedMore);
    }
}

void TestHeadParser::limits()
{
    const HeadLimits limits{64, 10};
    RequestHead head;
    // Too large without an end in sight, and too large with one.
    QCOMPARE(HeadParser::parseRequest(QByteArray(65, 'a'), head, limits).error, HeadError::TooLarge);
    const QByteArray longHead = "GET / HTTP/1.1\r\nX: " + QByteArray(60, 'a') + "\r\n\r\n";
    QCOMPARE(HeadParser::parseRequest(longHead, head, limits).error, HeadError::TooLarge);
    QCOMPARE(HeadParser::parseRequest(QByteArray(40, 'a'), head, limits).status, HeadResult::Status::NeedMore);
    const HeadResult big = HeadParser::parseRequest("POST / HTTP/1.0\r\nContent-Length: 11\r\n\r\n", head, limits);
    QCOMPARE(big.error, HeadError::BodyTooLarge);
    QCOMPARE(HeadParser::statusFor(big.error), 413);
    QVERIFY(HeadParser::messageFor(big.error, limits).contains("10 bytes"));
    QVERIFY(HeadParser::parseRequest("POST / HTTP/1.0\r\nContent-Length: 10\r\n\r\n", head, limits).isComplete());
    // Every refusal has a status a client understands.
    QCOMPARE(HeadParser::statusFor(HeadError::TooLarge), 431);
    QCOMPARE(HeadParser::statusFor(HeadError::BadVersion), 505);
    QCOMPARE(HeadParser::statusFor(HeadError::BadExpect), 417);
    QCOMPARE(HeadParser::statusFor(HeadError::BadHeaderLine), 400);
    QCOMPARE(HeadParser::statusFor(HeadError::UnsupportedTransferEncoding), 501);
    QCOMPARE(HeadParser::statusFor(HeadError::BadHost), 400);
}

void TestHeadParser::skipsEmptyLinesBeforeARequest()
{
    RequestHead head;
    const QByteArray raw = "\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n";
    const HeadResult r = HeadParser::parseRequest(raw, head);
    QVERIFY(r.isComplete());
    QCOMPARE(head.path, QByteArray("/x"));
    QCOMPARE(r.consumed, raw.size());
}

QTEST_APPLESS_MAIN(TestHeadParser)
#include "tst_headparser.moc"
