// The program behind a loopback connection (SPEC §11): found from the
// kernel's socket tables and the processes' descriptors, in batches.
#include "net/peerprocess.h"

#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <memory>

using namespace route; // test code reads like code inside the project

class TestPeerProcess : public QObject
{
    Q_OBJECT

    // A python3 child that opens COUNT connections to PORT on HOST and
    // holds them until its stdin closes.
    static std::unique_ptr<QProcess> holdConnections(const QString &host, quint16 port, int count)
    {
        auto child = std::make_unique<QProcess>();
        child->start(QStringLiteral("python3"),
            {QStringLiteral("-c"),
                QStringLiteral("import socket, sys\n"
                               "s = [socket.create_connection(('%1', %2)) for _ in range(%3)]\n"
                               "print('ok', flush=True)\n"
                               "sys.stdin.read()\n")
                    .arg(host)
                    .arg(port)
                    .arg(count)});
        return child;
    }

    // Accepts COUNT connections and starts a lookup for each.
    static QList<std::shared_ptr<const LateText>> lookUpAll(QTcpServer &server, int count)
    {
        QList<std::shared_ptr<const LateText>> names;
        while (names.size() < count) {
            if (!server.hasPendingConnections() && !server.waitForNewConnection(5000))
                break;
            QTcpSocket *s = server.nextPendingConnection();
            names << PeerProcess::lookupLater(s->peerAddress(), s->peerPort(), s->localAddress(), s->localPort());
        }
        return names;
    }

    static bool allNamed(const QList<std::shared_ptr<const LateText>> &names)
    {
        for (const auto &n : names)
            if (n->value().isEmpty())
                return false;
        return true;
    }

    void namesEveryConnectionOf(const QHostAddress &address, const QString &host)
    {
        QTcpServer server;
        if (!server.listen(address, 0))
            QSKIP("this address is not available here");
        constexpr int count = 20;
        auto child = holdConnections(host, server.serverPort(), count);
        QVERIFY(child->waitForReadyRead(10000));
        const auto names = lookUpAll(server, count);
        QCOMPARE(names.size(), count);
        QTRY_VERIFY_WITH_TIMEOUT(allNamed(names), 10000);
        for (const auto &n : names)
            QVERIFY2(n->value().startsWith(QLatin1String("python3")), qPrintable(n->value()));
        child->closeWriteChannel();
        QVERIFY(child->waitForFinished(5000));
    }

private Q_SLOTS:
    // A burst of connections from one program: every one named (one batch
    // or several, the recent owner or the walk over every process).
    void aBurstIsNamedOverIpv4() { namesEveryConnectionOf(QHostAddress::LocalHost, QStringLiteral("127.0.0.1")); }
    void aBurstIsNamedOverIpv6() { namesEveryConnectionOf(QHostAddress::LocalHostIPv6, QStringLiteral("::1")); }

    // Netlink and /proc/net/tcp{,6} (where netlink is not available) name
    // the same program, over IPv4 and IPv6.
    void bothSocketTablesNameTheSameProgram()
    {
        for (const auto &[address, host] :
            {std::pair{QHostAddress(QHostAddress::LocalHost), QStringLiteral("127.0.0.1")},
                std::pair{QHostAddress(QHostAddress::LocalHostIPv6), QStringLiteral("::1")}}) {
            QTcpServer server;
            QVERIFY2(server.listen(address, 0), qPrintable(host));
            auto child = holdConnections(host, server.serverPort(), 3);
            QVERIFY(child->waitForReadyRead(10000));
            for (int i = 0; i < 3; ++i) {
                QVERIFY(server.hasPendingConnections() || server.waitForNewConnection(5000));
                QTcpSocket *s = server.nextPendingConnection();
                const auto name = [&](PeerProcess::SocketTable table) {
                    return PeerProcess::lookup(
                        s->peerAddress(), s->peerPort(), s->localAddress(), s->localPort(), table);
                };
                const QString byNetlink = name(PeerProcess::SocketTable::Netlink);
                QVERIFY2(byNetlink.startsWith(QLatin1String("python3")), qPrintable(host + byNetlink));
                QCOMPARE(name(PeerProcess::SocketTable::ProcNet), byNetlink);
            }
            child->closeWriteChannel();
            QVERIFY(child->waitForFinished(5000));
        }
    }

    // The same program again, and then another one: the recently seen
    // owner must not be taken for every later client.
    void aSecondProgramIsNotTakenForTheFirst()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        auto first = holdConnections(QStringLiteral("127.0.0.1"), server.serverPort(), 2);
        QVERIFY(first->waitForReadyRead(10000));
        const auto firstNames = lookUpAll(server, 2);
        QTRY_VERIFY_WITH_TIMEOUT(allNamed(firstNames), 10000);
        QProcess curl;
        curl.start(QStringLiteral("curl"),
            {QStringLiteral("-s"), QStringLiteral("-m"), QStringLiteral("3"),
                QStringLiteral("http://127.0.0.1:%1/").arg(server.serverPort())});
        const auto curlNames = lookUpAll(server, 1);
        QCOMPARE(curlNames.size(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(curlNames.first()->value(), QStringLiteral("curl"), 10000);
        curl.kill();
        curl.waitForFinished(3000);
        first->closeWriteChannel();
        QVERIFY(first->waitForFinished(5000));
    }

    // Our own process holds the other end of every connection to itself:
    // such a client has no name rather than ours.
    void ourOwnConnectionHasNoName()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        QTcpSocket client;
        client.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QVERIFY(client.waitForConnected(3000));
        QVERIFY(server.waitForNewConnection(3000));
        QTcpSocket *s = server.nextPendingConnection();
        QCOMPARE(PeerProcess::lookup(s->peerAddress(), s->peerPort(), s->localAddress(), s->localPort()), QString());
        // And an address and port nobody uses has none either.
        QCOMPARE(PeerProcess::lookup(QHostAddress::LocalHost, 1, QHostAddress::LocalHost, 2), QString());
    }
};

QTEST_GUILESS_MAIN(TestPeerProcess)
#include "tst_peerprocess.moc"
