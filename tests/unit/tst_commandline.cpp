#include "runtime/commandline.h"
#include "runtime/listenaddress.h"

#include <QTest>

using namespace route; // test code reads like code inside the project

class TestCommandLine : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaults()
    {
        const CommandLine c = CommandLine::parse({QStringLiteral("openai-api-route")});
        QCOMPARE(c.action, CommandLine::Action::Serve);
        QCOMPARE(c.addr, QStringLiteral("127.0.0.1:8888"));
        QCOMPARE(c.endpoint, QStringLiteral("https://api.openai.com/v1"));
        QVERIFY(c.database.isEmpty());
        QVERIFY(!c.noAuth);
        QVERIFY(!c.noGui);
        QVERIFY(!c.auth.has_value());
    }

    void seedSingleDashFlags()
    {
        const CommandLine c = CommandLine::parse(
            {QStringLiteral("x"), QStringLiteral("-addr"), QStringLiteral(":8080"), QStringLiteral("-database"),
                QStringLiteral("/tmp/a.db"), QStringLiteral("-noauth"), QStringLiteral("--no-gui")});
        QCOMPARE(c.action, CommandLine::Action::Serve);
        QCOMPARE(c.addr, QStringLiteral(":8080"));
        QCOMPARE(c.database, QStringLiteral("/tmp/a.db"));
        QVERIFY(c.noAuth);
        QVERIFY(c.noGui);
    }

    void doubleDashFlags()
    {
        const CommandLine c = CommandLine::parse({QStringLiteral("x"), QStringLiteral("--add"), QStringLiteral("--sk"),
            QStringLiteral("sk-1"), QStringLiteral("--endpoint=http://h/v1")});
        QCOMPARE(c.action, CommandLine::Action::Add);
        QCOMPARE(c.sk, QStringLiteral("sk-1"));
        QCOMPARE(c.endpoint, QStringLiteral("http://h/v1"));
    }

    void addUsesDefaultEndpoint()
    {
        const CommandLine c = CommandLine::parse(
            {QStringLiteral("x"), QStringLiteral("-add"), QStringLiteral("-sk"), QStringLiteral("sk-xxxxx")});
        QCOMPARE(c.action, CommandLine::Action::Add);
        QCOMPARE(c.endpoint, QStringLiteral("https://api.openai.com/v1"));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("unknown flag") << QStringList{QStringLiteral("-bogus")} << QStringLiteral("bogus");
        QTest::newRow("add without sk") << QStringList{QStringLiteral("-add")} << QStringLiteral("-sk");
        QTest::newRow("add with bad endpoint") << QStringList{QStringLiteral("-add"), QStringLiteral("-sk"),
            QStringLiteral("k"), QStringLiteral("-endpoint"), QStringLiteral("ftp://x")}
                                               << QStringLiteral("http");
        QTest::newRow("bad addr") << QStringList{QStringLiteral("-addr"), QStringLiteral("nonsense")}
                                  << QStringLiteral("nonsense");
        QTest::newRow("bad port") << QStringList{QStringLiteral("-addr"), QStringLiteral(":99999")}
                                  << QStringLiteral("port");
        QTest::newRow("missing value") << QStringList{QStringLiteral("-addr")} << QStringLiteral("addr");
        QTest::newRow("positional") << QStringList{QStringLiteral("extra")} << QStringLiteral("extra");
        QTest::newRow("empty auth") << QStringList{QStringLiteral("-auth"), QStringLiteral(",")}
                                    << QStringLiteral("-auth");
    }

    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, fragment);
        args.prepend(QStringLiteral("openai-api-route"));
        const CommandLine c = CommandLine::parse(args);
        QCOMPARE(c.action, CommandLine::Action::UsageError);
        QVERIFY2(c.error.contains(fragment), qPrintable(c.error));
    }

    void helpAndVersion()
    {
        QCOMPARE(CommandLine::parse({QStringLiteral("x"), QStringLiteral("-help")}).action, CommandLine::Action::Help);
        QCOMPARE(CommandLine::parse({QStringLiteral("x"), QStringLiteral("--help")}).action, CommandLine::Action::Help);
        QCOMPARE(
            CommandLine::parse({QStringLiteral("x"), QStringLiteral("-version")}).action, CommandLine::Action::Version);
        const QString help = CommandLine::parse({QStringLiteral("x"), QStringLiteral("-help")}).helpText;
        for (const char *flag :
            {"-add", "-addr", "-database", "-endpoint", "-list", "-noauth", "-sk", "-no-gui", "-auth", "-version"})
            QVERIFY2(help.contains(QLatin1String(flag)), flag);
    }

    void authTokens()
    {
        const CommandLine c = CommandLine::parse({QStringLiteral("x"), QStringLiteral("-auth"), QStringLiteral("a,b")});
        QCOMPARE(c.action, CommandLine::Action::Serve);
        QCOMPARE(c.auth.value_or(QString()), QStringLiteral("a,b"));
    }

    void listenAddresses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::newRow("ipv4") << QStringLiteral("127.0.0.1:8888") << QStringLiteral("127.0.0.1") << 8888;
        QTest::newRow("all interfaces") << QStringLiteral(":8888") << QString() << 8888;
        QTest::newRow("ipv6") << QStringLiteral("[::1]:9000") << QStringLiteral("::1") << 9000;
        QTest::newRow("localhost") << QStringLiteral("localhost:1") << QStringLiteral("127.0.0.1") << 1;
        QTest::newRow("any port") << QStringLiteral("127.0.0.1:0") << QStringLiteral("127.0.0.1") << 0;
    }

    void listenAddresses()
    {
        QFETCH(QString, text);
        QFETCH(QString, host);
        QFETCH(int, port);
        const auto parsed = ListenAddress::parse(text);
        QVERIFY2(parsed.ok(), qPrintable(parsed.error()));
        QCOMPARE(int(parsed.value().port), port);
        if (host.isEmpty())
            QCOMPARE(parsed.value().address, QHostAddress(QHostAddress::Any));
        else
            QCOMPARE(parsed.value().address, QHostAddress(host));
    }

    void badListenAddresses()
    {
        for (const char *bad : {"8888", "host:", "::1:80", "example.com:80", "1.2.3.4:-1"})
            QVERIFY2(!ListenAddress::parse(QLatin1String(bad)).ok(), bad);
    }
};

QTEST_GUILESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"
