// TcpStream on its own: connecting out (literal, name, refused, unknown
// host), writes queued before the connection, the read limit, the peer
// closing after data, and abort while connecting.
#include "net/tcpstream.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace route; // test code reads like code inside the project

class TestTcpStream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void connectsWritesQueuedBytesAndReads();
    void nameIsLookedUpAndEachAddressTried();
    void refusedPortReportsConnectionRefused();
    void unknownHostReportsHostNotFound();
    void readLimitHoldsBackTheRest();
    void peerCloseComesAfterItsData();
    void abortWhileConnectingIsSilent();

private:
    // Connects STREAM to SERVER; the server's end, or null when it failed.
    static QTcpSocket *connectTo(QTcpServer &server, TcpStream &stream)
    {
        stream.connectToHost(QStringLiteral("127.0.0.1"), server.serverPort());
        if (!QTest::qWaitFor([&] { return stream.isConnected(); }, 5000))
            return nullptr;
        if (!server.hasPendingConnections() && !server.waitForNewConnection(5000))
            return nullptr;
        return server.nextPendingConnection();
    }
};

void TestTcpStream::connectsWritesQueuedBytesAndReads()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    TcpStream stream;
    QSignalSpy connected(&stream, &ByteStream::connected);
    stream.connectToHost(QStringLiteral("127.0.0.1"), server.serverPort());
    QVERIFY(!stream.isConnected());
    stream.write("written before the connection; ");
    stream.write("in two pieces");
    QTRY_COMPARE(connected.count(), 1);
    QVERIFY(stream.isConnected());
    QVERIFY(server.hasPendingConnections() || server.waitForNewConnection(5000));
    QTcpSocket *peer = server.nextPendingConnection();
    QVERIFY(peer);
    QByteArray got;
    QTRY_VERIFY((got += peer->readAll()).size() >= 44);
    QCOMPARE(got, QByteArray("written before the connection; in two pieces"));
    QCOMPARE(stream.bytesToWrite(), 0);

    peer->write("pong");
    QTRY_COMPARE(stream.bytesAvailable(), 4);
    QCOMPARE(stream.read(2), QByteArray("po"));
    QCOMPARE(stream.readAll(), QByteArray("ng"));
}

void TestTcpStream::nameIsLookedUpAndEachAddressTried()
{
    // "localhost" may resolve to ::1 first; the server only has 127.0.0.1.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    TcpStream stream;
    QSignalSpy connected(&stream, &ByteStream::connected);
    QSignalSpy failed(&stream, &ByteStream::errorOccurred);
    stream.connectToHost(QStringLiteral("localhost"), server.serverPort());
    QTRY_VERIFY_WITH_TIMEOUT(connected.count() + failed.count() > 0, 10000);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(stream.peerAddress(), QHostAddress(QHostAddress::LocalHost));
}

void TestTcpStream::refusedPortReportsConnectionRefused()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    } // closed: nothing listens there now
    TcpStream stream;
    QSignalSpy failed(&stream, &ByteStream::errorOccurred);
    QSignalSpy connected(&stream, &ByteStream::connected);
    stream.connectToHost(QStringLiteral("127.0.0.1"), port);
    QCOMPARE(failed.count(), 0); // never before connectToHost returns
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(stream.error(), ByteStream::Error::ConnectionRefused);
    QVERIFY(!stream.errorString().isEmpty());
    QCOMPARE(connected.count(), 0);
    QVERIFY(!stream.isConnected());
}

void TestTcpStream::unknownHostReportsHostNotFound()
{
    TcpStream stream;
    QSignalSpy failed(&stream, &ByteStream::errorOccurred);
    stream.connectToHost(QStringLiteral("no-such-host.invalid"), 80);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 20000);
    QCOMPARE(stream.error(), ByteStream::Error::HostNotFound);
}

void TestTcpStream::readLimitHoldsBackTheRest()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    TcpStream stream;
    stream.setReadBufferLimit(64 * 1024);
    QTcpSocket *peer = connectTo(server, stream);
    QVERIFY(peer);
    const QByteArray payload(4 * 1024 * 1024, 'x');
    peer->write(payload);
    QTest::qWait(300);
    // Held back at the limit; the rest waits in the kernel.
    QVERIFY2(stream.bytesAvailable() <= 64 * 1024, qPrintable(QString::number(stream.bytesAvailable())));
    QVERIFY(stream.bytesAvailable() > 0);
    qint64 total = 0;
    QTRY_VERIFY_WITH_TIMEOUT((total += stream.readAll().size()) == payload.size(), 20000);
}

void TestTcpStream::peerCloseComesAfterItsData()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    TcpStream stream;
    QTcpSocket *peer = connectTo(server, stream);
    QVERIFY(peer);
    QByteArray seenAtClose;
    connect(&stream, &ByteStream::disconnected, this, [&] { seenAtClose = stream.readAll(); });
    peer->write("last words");
    peer->disconnectFromHost();
    QTRY_COMPARE(seenAtClose, QByteArray("last words"));
    QVERIFY(!stream.isConnected());
    QCOMPARE(stream.error(), ByteStream::Error::RemoteClosed);
}

void TestTcpStream::abortWhileConnectingIsSilent()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    auto stream = std::make_unique<TcpStream>();
    QSignalSpy connected(stream.get(), &ByteStream::connected);
    QSignalSpy failed(stream.get(), &ByteStream::errorOccurred);
    QSignalSpy gone(stream.get(), &ByteStream::disconnected);
    stream->connectToHost(QStringLiteral("127.0.0.1"), server.serverPort());
    stream->abort();
    QTest::qWait(200);
    QCOMPARE(connected.count() + failed.count() + gone.count(), 0);
    QVERIFY(!stream->isConnected());
}

QTEST_GUILESS_MAIN(TestTcpStream)
#include "tst_tcpstream.moc"
