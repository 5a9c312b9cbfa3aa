// Keys in the system keychain (SPEC §13), against a real Secret Service:
// ctest runs this inside tests/support/with-keyring.sh (a private D-Bus
// session with gnome-keyring). Moving keys in and back out is one action
// each; the proxy uses the key from the keychain; the seed's "edit the
// table" keeps working; without a keychain the reason is given.
#include "fakeupstream.h"
#include "testengine.h"

#include "domain/snapshot.h"
#include "service/configservice.h"
#include "settingspage.h"
#include "store/database.h"
#include "store/keyvault.h"
#include "store/upstreamrepository.h"

#include <QApplication>
#include <QLabel>
#include <QPushButton>

#include <QProcess>
#include <QSqlQuery>
#include <QtTest>

class TestKeychain : public QObject
{
    Q_OBJECT

    // The sk column as it is in the database.
    static QString storedKey(TestEngine &e, qint64 id)
    {
        auto conn = DbConnection::open(e.database(), QStringLiteral("peek"));
        QSqlQuery q(conn.value()->db());
        q.prepare(QStringLiteral("SELECT sk FROM openai_upstreams WHERE id = ?"));
        q.addBindValue(id);
        return q.exec() && q.next() ? q.value(0).toString() : QStringLiteral("<none>");
    }

private Q_SLOTS:
    void theKeychainAnswers()
    {
        const Status available = KeyVault::availability();
        QVERIFY2(available.ok(), qPrintable(available.error()));
        const QString ref = KeyVault::newReference();
        QVERIFY(KeyVault::isReference(ref));
        QVERIFY(KeyVault::write(ref, QStringLiteral("sk-round-trip")).ok());
        QCOMPARE(KeyVault::read(ref).value(), QStringLiteral("sk-round-trip"));
        QVERIFY(KeyVault::remove(ref).ok());
        QVERIFY(!KeyVault::read(ref)); // gone from the keychain, not only from the cache
    }

    void keysMoveInAndBackOut()
    {
        FakeUpstream up;
        up.setBehavior(FakeUpstream::Behavior::json(200, "{\"choices\":[]}"));
        TestEngine e;
        QVERIFY(e.start());
        const qint64 first = e.addUpstream(up.baseUrl(), QStringLiteral("sk-first-key-1111"));
        const qint64 second = e.addUpstream(up.baseUrl(), QStringLiteral("sk-second-key-2222"));
        const std::shared_ptr<DbConnection> conn = DbConnection::open(e.database(), QStringLiteral("gui")).take();
        ConfigService service(conn, e.engine()->snapshots(), nullptr);

        int moved = 0;
        const ChangeResult in = service.moveKeysToKeychain(&moved);
        QVERIFY2(in.ok(), in.error ? qPrintable(in.error->english()) : "");
        QCOMPARE(moved, 2);
        for (const qint64 id : {first, second}) {
            const QString stored = storedKey(e, id);
            QVERIFY2(KeyVault::isReference(stored), qPrintable(stored));
            QVERIFY(!stored.contains(QLatin1String("sk-")));
        }
        // The proxy sends the key from the keychain.
        for (int i = 0; i < 2; ++i)
            QCOMPARE(e.call("POST", "/v1/chat/completions", "{\"model\":\"m\"}").status, 200);
        QStringList sent;
        for (const FakeUpstream::Request &r : up.requests())
            sent << QString::fromUtf8(r.headers.value("authorization"));
        QVERIFY2(sent.contains(QStringLiteral("Bearer sk-first-key-1111")), qPrintable(sent.join(u',')));
        // The admin API shows it masked, as before.
        QVERIFY(e.call("GET", "/admin/upstreams").body.contains("sk-first-key-1111"));

        // A key added now follows the others into the keychain; a new key
        // for a moved upstream stays there too.
        UpstreamPatch third;
        third.sk = QStringLiteral("sk-third-key-3333");
        third.endpoint = up.baseUrl();
        const ChangeResult added = service.createUpstream(third);
        QVERIFY(added.ok());
        QVERIFY(KeyVault::isReference(storedKey(e, added.id)));
        UpstreamPatch rekey;
        rekey.sk = QStringLiteral("sk-first-key-new1");
        QVERIFY(service.updateUpstream(first, rekey).ok());
        QVERIFY(KeyVault::isReference(storedKey(e, first)));
        QCOMPARE(UpstreamRepository(conn->db()).get(first)->sk, QStringLiteral("sk-first-key-new1"));

        // The seed's way still works: a key typed into the table is used as it is.
        {
            auto peek = DbConnection::open(e.database(), QStringLiteral("psql"));
            QSqlQuery q(peek.value()->db());
            QVERIFY(q.exec(
                QStringLiteral("UPDATE openai_upstreams SET sk = 'sk-typed-by-hand' WHERE id = %1").arg(second)));
        }
        QVERIFY(service.moveKeysToDatabase(&moved).ok());
        QCOMPARE(moved, 2); // the first and the third; the second was in the table already
        QCOMPARE(storedKey(e, first), QStringLiteral("sk-first-key-new1"));
        QCOMPARE(storedKey(e, second), QStringLiteral("sk-typed-by-hand"));
        QCOMPARE(storedKey(e, added.id), QStringLiteral("sk-third-key-3333"));
        // Back out means out: a key added now stays in the database.
        UpstreamPatch fourth;
        fourth.sk = QStringLiteral("sk-fourth-key-4444");
        fourth.endpoint = up.baseUrl();
        const ChangeResult plain = service.createUpstream(fourth);
        QVERIFY(plain.ok());
        QCOMPARE(storedKey(e, plain.id), QStringLiteral("sk-fourth-key-4444"));
    }

    // Deleting an upstream takes its key out of the keychain as well.
    void deletingAnUpstreamRemovesItsKey()
    {
        TestEngine e;
        QVERIFY(e.start());
        const qint64 id = e.addUpstream(QStringLiteral("http://127.0.0.1:9/v1"), QStringLiteral("sk-doomed-5555"));
        const std::shared_ptr<DbConnection> conn = DbConnection::open(e.database(), QStringLiteral("gui")).take();
        ConfigService service(conn, e.engine()->snapshots(), nullptr);
        QVERIFY(service.moveKeysToKeychain().ok());
        const QString ref = storedKey(e, id);
        QVERIFY(KeyVault::isReference(ref));
        QVERIFY(service.deleteUpstream(id).ok());
        QVERIFY(!KeyVault::read(ref));
    }

    // The Settings page: it asks the keychain off the GUI thread, offers
    // the move, and each button does its one action.
    void theSettingsPageMovesTheKeys()
    {
        TestEngine e;
        QVERIFY(e.start());
        e.addUpstream(QStringLiteral("http://127.0.0.1:9/v1"), QStringLiteral("sk-page-key-6666"));
        const std::shared_ptr<DbConnection> conn = DbConnection::open(e.database(), QStringLiteral("gui")).take();
        ConfigService service(conn, e.engine()->snapshots(), nullptr);
        SettingsPage page(e.engine(), &service);
        QTRY_VERIFY_WITH_TIMEOUT(page.keysToKeychainButton()->isEnabled(), 15000);
        QVERIFY2(page.keysStatus()->text().startsWith(QStringLiteral("Keys are kept in the database (1 key")),
            qPrintable(page.keysStatus()->text()));
        QVERIFY(!page.keysToDatabaseButton()->isEnabled());
        page.moveKeysToKeychain(false);
        QTRY_VERIFY(page.keysStatus()->text().startsWith(QStringLiteral("In the system keychain: 1 of 1 key")));
        QVERIFY(!page.keysToKeychainButton()->isEnabled());
        QVERIFY(page.keysToDatabaseButton()->isEnabled());
        page.moveKeysToDatabase(false);
        QTRY_VERIFY(page.keysStatus()->text().startsWith(QStringLiteral("Keys are kept in the database")));
        QCOMPARE(e.engine()->snapshots()->current()->upstreams.first().sk, QStringLiteral("sk-page-key-6666"));
    }

    // Without a Secret Service (no session bus) the keychain is unavailable
    // and says why, and nothing moves. Asked in a child process: this one's
    // bus is already connected.
    void withoutAKeychainTheReasonIsGiven()
    {
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), QStringLiteral("unix:path=/nonexistent/bus"));
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--availability")});
        QVERIFY(child.waitForFinished(30000));
        const QByteArray said = child.readAllStandardOutput().trimmed();
        QCOMPARE(child.exitCode(), 1);
        QVERIFY2(said.startsWith("the system keychain is not available: "), said.constData());
        QVERIFY(said.size() > 40); // with the keychain's own reason
    }
};

int main(int argc, char *argv[])
{
    if (argc == 2 && qstrcmp(argv[1], "--availability") == 0) {
        QCoreApplication app(argc, argv);
        const Status s = KeyVault::availability();
        std::printf("%s\n", s.ok() ? "available" : qPrintable(s.error()));
        return s.ok() ? 0 : 1;
    }
    QApplication app(argc, argv);
    TestKeychain t;
    return QTest::qExec(&t, argc, argv);
}
#include "tst_keychain.moc"
