// SPEC §13's table, against the parser and the chunked decoder as the
// server and the upstream client use them: every request case gets its
// statuses, every response case is taken whole or refused.
#include "smugglingcases.h"

#include "http/chunkeddecoder.h"
#include "http/headparser.h"
#include "http/httplimits.h"

#include <QTest>

using namespace route; // test code reads like code inside the project

namespace {

// What a server that reads RAW on one connection answers, in order: 200 for
// each whole request, then the status of the first refusal (and it stops
// reading). 0: it would wait for more bytes, which no case may make it do.
QList<int> serverAnswers(QByteArray in)
{
    const HttpLimits server;
    const HeadLimits limits{server.maxHeaderBytes, server.maxBodyBytes};
    QList<int> answers;
    while (!in.isEmpty()) {
        RequestHead head;
        const HeadResult r = HeadParser::parseRequest(in, head, limits);
        if (r.isInvalid()) {
            answers << HeadParser::statusFor(r.error);
            return answers;
        }
        if (!r.isComplete()) {
            answers << 0;
            return answers;
        }
        in.remove(0, r.consumed);
        if (r.framing == BodyFraming::Length) {
            if (in.size() < r.contentLength) {
                answers << 0;
                return answers;
            }
            in.remove(0, r.contentLength);
        } else if (r.framing == BodyFraming::Chunked) {
            ChunkedDecoder chunks(server.maxBodyBytes, server.maxHeaderBytes);
            QByteArray body;
            switch (chunks.decode(in, body)) {
            case ChunkedDecoder::Result::Done: break;
            case ChunkedDecoder::Result::NeedMore: answers << 0; return answers;
            case ChunkedDecoder::Result::Malformed: answers << 400; return answers;
            case ChunkedDecoder::Result::TooLarge: answers << 413; return answers;
            case ChunkedDecoder::Result::TrailerTooLarge: answers << 431; return answers;
            }
        }
        answers << 200;
        if (!r.keepAlive)
            return answers;
    }
    return answers;
}

// What the upstream client makes of RAW followed by the end of the
// connection: the body, or nothing when the response is refused.
std::optional<QByteArray> clientBody(QByteArray in)
{
    ResponseHead head;
    HeadResult r = HeadParser::parseResponse(in, head, false);
    while (r.isComplete() && r.interim) {
        in.remove(0, r.consumed);
        r = HeadParser::parseResponse(in, head, false);
    }
    if (!r.isComplete())
        return std::nullopt;
    in.remove(0, r.consumed);
    switch (r.framing) {
    case BodyFraming::None: return QByteArray();
    case BodyFraming::UntilClose: return in;
    case BodyFraming::Length:
        if (in.size() != r.contentLength)
            return std::nullopt; // cut short (or more than it said)
        return in;
    case BodyFraming::Chunked: {
        ChunkedDecoder chunks;
        QByteArray body;
        if (chunks.decode(in, body) != ChunkedDecoder::Result::Done || !in.isEmpty())
            return std::nullopt;
        return body;
    }
    }
    return std::nullopt;
}

} // namespace

class TestSmuggling : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theTableIsLargeEnough()
    {
        // SPEC §13 asks for at least 60 requests and 30 responses.
        QVERIFY(requestCases().size() >= 60);
        QVERIFY(responseCases().size() >= 30);
        int refused = 0;
        for (const RequestCase &c : requestCases())
            refused += c.answers.last() != 200 ? 1 : 0;
        QVERIFY(refused >= 60);
    }

    void requests_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QList<int>>("answers");
        for (const RequestCase &c : requestCases())
            QTest::newRow(c.name.constData()) << c.raw << c.answers;
    }
    void requests()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QList<int>, answers);
        QCOMPARE(serverAnswers(raw), answers);
        // Byte by byte the verdict is the same: nothing depends on how reads split.
        RequestHead head;
        HeadResult last;
        const qsizetype upTo = std::min<qsizetype>(raw.size(), 4096); // the 70 KiB head needs no quadratic walk
        for (qsizetype n = 1; n <= upTo && !last.isComplete() && !last.isInvalid(); ++n)
            last = HeadParser::parseRequest(QByteArrayView(raw).first(n), head);
        if (answers.first() != 200 && last.isInvalid())
            QCOMPARE(HeadParser::statusFor(last.error), answers.first());
    }

    void responses_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<QByteArray>("body");
        for (const ResponseCase &c : responseCases())
            QTest::newRow(c.name.constData()) << c.raw << c.accepted() << c.body;
    }
    void responses()
    {
        QFETCH(QByteArray, raw);
        QFETCH(bool, accepted);
        QFETCH(QByteArray, body);
        const std::optional<QByteArray> got = clientBody(raw);
        QCOMPARE(got.has_value(), accepted);
        if (accepted)
            QCOMPARE(*got, body);
    }
};

QTEST_GUILESS_MAIN(TestSmuggling)
#include "tst_smuggling.moc"
