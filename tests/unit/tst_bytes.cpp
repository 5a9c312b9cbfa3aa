#include "http/httpheaders.h"
#include "util/bytes.h"

#include <QByteArray>
#include <QRandomGenerator>
#include <QTest>

#include <limits>

using namespace route; // test code reads like code inside the project

// Bytes:: replaces QByteArray's searches on the request path; Qt's own
// searches are the reference, on texts full of near misses.
class TestBytes : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void edges()
    {
        const QByteArray head = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\nbody";
        QCOMPARE(Bytes::indexOf(head, "\r\n\r\n"), head.indexOf("\r\n\r\n"));
        QCOMPARE(Bytes::indexOf(head, "body"), head.size() - 4); // at the very end
        QCOMPARE(Bytes::indexOf(head, "body!"), -1); // runs past the end
        QCOMPARE(Bytes::indexOf("ab", "abc"), -1); // longer than the text
        QCOMPARE(Bytes::indexOf(head, "", 3), 3);
        QCOMPARE(Bytes::indexOf(head, "GET", head.size() + 1), -1);
        QCOMPARE(Bytes::indexOf(head, "GET", -1), -1);
        QCOMPARE(Bytes::indexOf(head, 'H', 5), head.indexOf('H', 5));
        QCOMPARE(Bytes::indexOf(head, 'H', head.size()), -1);
        QCOMPARE(Bytes::indexOf(QByteArrayView(), 'x'), -1);
        const QByteArray json = "{\"a\":\"\\\"usage\",\"usage\":1,\"usage\":2}";
        QCOMPARE(Bytes::indexOf(json, "\"usage\""), json.indexOf("\"usage\""));
        QCOMPARE(Bytes::lastIndexOf(json, "\"usage\""), json.lastIndexOf("\"usage\""));
        QCOMPARE(Bytes::indexOf("\"", "\""), 0); // a quote alone is anchored on itself
        QCOMPARE(Bytes::lastIndexOf("aaaa", "aa"), 2); // overlapping
        QVERIFY(Bytes::contains("text/event-stream; charset=utf-8", "event-stream"));
        QVERIFY(!Bytes::contains("application/json", "event-stream"));
    }

    void writer()
    {
        Bytes::Writer small(4); // far too small: it must grow, not overrun
        small << "HTTP/1.1 ";
        small.decimal(200) << ' ' << QByteArrayView("OK") << "\r\n";
        small.line("Content-Type", "application/json").line("X-Long", QByteArray(5000, 'v'));
        small.decimal(0) << ',';
        small.decimal(-42) << ',';
        small.decimal(std::numeric_limits<qint64>::min()) << ',';
        small.decimal(std::numeric_limits<qint64>::max()) << ',';
        small.hex(0) << ',';
        small.hex(0x3fa9) << ',';
        small.hex(std::numeric_limits<quint64>::max());
        const QByteArray out = small.take();
        const QByteArray expected = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Long: "
            + QByteArray(5000, 'v') + "\r\n0,-42,-9223372036854775808,9223372036854775807,0,3fa9,ffffffffffffffff";
        QCOMPARE(out, expected);
        QCOMPARE(qstrlen(out.constData()), size_t(out.size())); // terminated like any QByteArray

        Bytes::Writer empty(0);
        empty << QByteArray() << QByteArrayView() << "";
        QVERIFY(empty.take().isEmpty());

        Bytes::Writer exact(3);
        exact << "abc";
        QCOMPARE(exact.take(), QByteArray("abc"));
    }

    // Parsed headers with well-known names and values share static bytes;
    // everything else is copied as it came.
    void internedHeaders()
    {
        const QByteArray head = "content-type: application/json\r\nX-Custom: Content-Type\r\n";
        HttpHeaders headers;
        HttpHeaders::forEachLine(head, [&headers](QByteArrayView line) {
            const qsizetype colon = Bytes::indexOf(line, ':');
            if (colon > 0)
                headers.appendCopy(line.first(colon), line.sliced(colon + 1).trimmed());
            return true;
        });
        QCOMPARE(headers.size(), 2);
        QCOMPARE(headers.pairs().at(0).first, QByteArray("content-type"));
        QCOMPARE(headers.pairs().at(0).second, QByteArray("application/json"));
        QCOMPARE(headers.pairs().at(1).first, QByteArray("X-Custom"));
        QCOMPARE(headers.value("x-custom"), QByteArray("Content-Type"));
        QCOMPARE(HeaderTable::interned("Content-Type").constData(), HeaderTable::interned("Content-Type").constData());
        QCOMPARE(HeaderTable::interned("Content-Typf"), QByteArray("Content-Typf"));
        QCOMPARE(HeaderTable::interned("CONTENT-TYPE"), QByteArray("CONTENT-TYPE")); // spelling kept
        QCOMPARE(HeaderTable::interned(QByteArray(100, 'x')), QByteArray(100, 'x'));
        QVERIFY(HeaderTable::interned("").isEmpty());
    }

    void matchesQt()
    {
        QRandomGenerator random(42);
        const char alphabet[] = "\"\r\nua";
        for (int round = 0; round < 3000; ++round) {
            QByteArray text(int(random.bounded(0, 60)), Qt::Uninitialized);
            for (char &c : text)
                c = alphabet[random.bounded(5)];
            QByteArray needle(int(random.bounded(1, 5)), Qt::Uninitialized);
            for (char &c : needle)
                c = alphabet[random.bounded(5)];
            const qsizetype from = random.bounded(0, int(text.size()) + 1);
            QCOMPARE(Bytes::indexOf(text, needle, from), text.indexOf(needle, from));
            QCOMPARE(Bytes::lastIndexOf(text, needle), text.lastIndexOf(needle));
            QCOMPARE(Bytes::indexOf(text, needle[0], from), text.indexOf(needle[0], from));
        }
    }
};

QTEST_GUILESS_MAIN(TestBytes)
#include "tst_bytes.moc"
