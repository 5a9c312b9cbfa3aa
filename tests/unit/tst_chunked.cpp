#include "http/chunkeddecoder.h"

#include <QTest>

using namespace route; // test code reads like code inside the project

class TestChunked : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void wholeAndByteByByte()
    {
        const QByteArray wire
            = "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        {
            ChunkedDecoder d;
            QByteArray in = wire;
            QByteArray out;
            QCOMPARE(d.decode(in, out), ChunkedDecoder::Result::Done);
            QCOMPARE(out, QByteArray("Wikipedia in\r\n\r\nchunks."));
            QCOMPARE(in, QByteArray("NEXT")); // the next message stays
            QCOMPARE(d.decodedBytes(), 23);
        }
        ChunkedDecoder d;
        QByteArray in;
        QByteArray out;
        ChunkedDecoder::Result r = ChunkedDecoder::Result::NeedMore;
        for (char c : wire) {
            in += c;
            r = d.decode(in, out);
            if (r != ChunkedDecoder::Result::NeedMore)
                break;
        }
        QCOMPARE(r, ChunkedDecoder::Result::Done);
        QCOMPARE(out, QByteArray("Wikipedia in\r\n\r\nchunks."));
    }

    // A stream arrives one chunk per read; each must come out whole, in order,
    // whether it is alone in the buffer (handed over) or shares it (copied).
    void chunkPerRead()
    {
        ChunkedDecoder d;
        QByteArray out;
        QByteArray in = "19\r\ndata: {\"n\":1}\n\n0123456789\r\n";
        QCOMPARE(d.decode(in, out), ChunkedDecoder::Result::NeedMore);
        QCOMPARE(out, QByteArray("data: {\"n\":1}\n\n0123456789"));
        QVERIFY(in.isEmpty());
        out.clear();
        in = "b\r\ndata: two\n\n\r\n0\r\n\r\n";
        QCOMPARE(d.decode(in, out), ChunkedDecoder::Result::Done);
        QCOMPARE(out, QByteArray("data: two\n\n"));
        QCOMPARE(d.decodedBytes(), 36);

        // The size line alone, then the data in two reads, then its CR LF.
        ChunkedDecoder split;
        out.clear();
        in = "5\r\n";
        QCOMPARE(split.decode(in, out), ChunkedDecoder::Result::NeedMore);
        in += "ab";
        QCOMPARE(split.decode(in, out), ChunkedDecoder::Result::NeedMore);
        in += "cde";
        QCOMPARE(split.decode(in, out), ChunkedDecoder::Result::NeedMore);
        in += "\r\n0\r\n\r\n";
        QCOMPARE(split.decode(in, out), ChunkedDecoder::Result::Done);
        QCOMPARE(out, QByteArray("abcde"));
        QVERIFY(in.isEmpty());
    }

    void errors()
    {
        QByteArray out;
        QByteArray bad = "zz\r\n";
        QCOMPARE(ChunkedDecoder().decode(bad, out), ChunkedDecoder::Result::Malformed);
        QByteArray noCrlf = "3\r\nabcXY";
        QCOMPARE(ChunkedDecoder().decode(noCrlf, out), ChunkedDecoder::Result::Malformed);
        QByteArray big = "11\r\n";
        QCOMPARE(ChunkedDecoder(16).decode(big, out), ChunkedDecoder::Result::TooLarge);
        QByteArray trailer = "0\r\n" + QByteArray(100, 'x');
        QCOMPARE(ChunkedDecoder(-1, 64).decode(trailer, out), ChunkedDecoder::Result::TrailerTooLarge);
        QByteArray signedSize = "-1\r\n";
        QCOMPARE(ChunkedDecoder().decode(signedSize, out), ChunkedDecoder::Result::Malformed);
        QByteArray noSize = ";ext\r\n";
        QCOMPARE(ChunkedDecoder().decode(noSize, out), ChunkedDecoder::Result::Malformed);
        QByteArray endless(2000, '1');
        QCOMPARE(ChunkedDecoder().decode(endless, out), ChunkedDecoder::Result::Malformed);
    }

    // Found by fuzz_chunked: a size line over the limit was refused when it
    // came in pieces and taken when it came whole with its CRLF; the
    // trailer limit likewise. The verdict no longer depends on the reads.
    void limitsHoldWhateverTheReads()
    {
        const QByteArray longLine = "d;a=" + QByteArray(1100, 'x') + "\r\n{\"model\":\"m\"}\r\n0\r\n\r\n";
        for (const qsizetype piece : {qsizetype(7), longLine.size()}) {
            ChunkedDecoder decoder;
            QByteArray pending, out;
            ChunkedDecoder::Result r = ChunkedDecoder::Result::NeedMore;
            for (qsizetype at = 0; at < longLine.size() && r == ChunkedDecoder::Result::NeedMore; at += piece) {
                pending += longLine.mid(at, piece);
                r = decoder.decode(pending, out);
            }
            QCOMPARE(r, ChunkedDecoder::Result::Malformed);
        }
        QByteArray trailers = "0\r\n";
        for (int i = 0; i < 10; ++i)
            trailers += "X-T" + QByteArray::number(i) + ": " + QByteArray(20, 'v') + "\r\n";
        trailers += "\r\n";
        QByteArray out;
        QCOMPARE(ChunkedDecoder(-1, 64).decode(trailers, out), ChunkedDecoder::Result::TrailerTooLarge);
    }
};

QTEST_GUILESS_MAIN(TestChunked)
#include "tst_chunked.moc"
