#include "domain/snapshot.h"
#include "store/configrepository.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/recordrepository.h"
#include "store/snapshotloader.h"
#include "store/upstreamrepository.h"
#include "testengine.h"

#include <QFile>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>

using namespace route; // test code reads like code inside the project

class TestStore : public QObject
{
    Q_OBJECT

    std::shared_ptr<DbConnection> openIn(const QTemporaryDir &dir, const QString &name = QStringLiteral("db.sqlite"))
    {
        DatabaseConfig c;
        c.path = dir.filePath(name);
        auto conn = DbConnection::open(c, QStringLiteral("test"));
        return conn ? conn.take() : nullptr;
    }

    // A database at the latest schema version; null when opening or migrating failed.
    std::shared_ptr<DbConnection> openMigrated(const QTemporaryDir &dir)
    {
        auto conn = openIn(dir);
        return conn && Migrations::run(*conn).ok() ? conn : nullptr;
    }

    static void exec(DbConnection &conn, const QString &sql)
    {
        QSqlQuery q(conn.db());
        QVERIFY2(q.exec(sql), qPrintable(sql));
    }

private Q_SLOTS:
    void freshDatabaseIsMigrated()
    {
        QTemporaryDir dir;
        auto conn = openIn(dir);
        QVERIFY(conn);
        QVERIFY(Migrations::run(*conn).ok());
        QCOMPARE(Migrations::currentVersion(*conn), Migrations::latestVersion());
        QVERIFY(Migrations::run(*conn).ok()); // idempotent
        for (const char *column : {"id", "sk", "endpoint", "deleted_at", "success_count", "failed_count",
                 "last_call_success_time", "name", "enabled", "weight", "allow", "deny", "timeout", "stream_timeout"})
            QVERIFY2(conn->db().record(QStringLiteral("openai_upstreams")).indexOf(QLatin1String(column)) >= 0, column);
        QVERIFY(conn->db().tables().contains(QStringLiteral("config_kvs")));
        QVERIFY(conn->db().tables().contains(QStringLiteral("records")));
        QSqlQuery q(conn->db());
        QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
    }

    // A database as the Go tool's gorm created and filled it.
    void goToolDatabaseOpensAndServes()
    {
        QTemporaryDir dir;
        auto conn = openIn(dir);
        QVERIFY(conn);
        exec(*conn,
            QStringLiteral(
                "CREATE TABLE `openai_upstreams` (`id` integer,`created_at` datetime,`updated_at` datetime,"
                "`deleted_at` datetime,`sk` text,`endpoint` text,`success_count` integer,`failed_count` integer,"
                "`last_call_success_time` datetime,PRIMARY KEY (`id`))"));
        exec(*conn, QStringLiteral("CREATE UNIQUE INDEX `idx_sk_endpoint` ON `openai_upstreams`(`sk`,`endpoint`)"));
        exec(*conn,
            QStringLiteral("CREATE TABLE `config_kvs` (`id` integer,`created_at` datetime,`updated_at` datetime,"
                           "`deleted_at` datetime,`key` text UNIQUE,`value` text,PRIMARY KEY (`id`))"));
        exec(*conn,
            QStringLiteral("CREATE TABLE `records` (`id` integer,`upstream_id` integer,`created_at` datetime,`ip` text,"
                           "`body` text,`response` text,`elapsed_time` integer,`status` integer,PRIMARY KEY (`id`))"));
        exec(*conn,
            QStringLiteral("INSERT INTO openai_upstreams VALUES (1,'2023-07-15 12:34:56.123456789+08:00',"
                           "'2023-07-15 12:34:56.123456789+08:00',NULL,'sk-live-one','https://api.openai.com/v1',7,2,"
                           "'2023-07-16 08:00:00.5+08:00')"));
        exec(*conn,
            QStringLiteral(
                "INSERT INTO openai_upstreams VALUES (2,'2023-07-15 12:00:00+08:00','2023-07-15 12:00:00+08:00',"
                "'2023-07-20 12:00:00+08:00','sk-deleted','https://api.openai.com/v1',0,0,NULL)"));
        exec(*conn, QStringLiteral("INSERT INTO config_kvs VALUES (1,NULL,NULL,NULL,'authorization','go-token')"));
        exec(*conn,
            QStringLiteral(
                "INSERT INTO records VALUES (1,1,'2023-07-16 08:00:00+08:00','10.0.0.1','{}','{}',1500000000,200)"));

        QVERIFY(Migrations::run(*conn).ok());
        SnapshotHolder holder;
        QVERIFY(reloadSnapshot(holder, *conn));
        const auto snapshot = holder.current();
        QCOMPARE(snapshot->upstreams.size(), 1);
        const Upstream &u = snapshot->upstreams.first();
        QCOMPARE(u.id, 1);
        QCOMPARE(u.sk, QStringLiteral("sk-live-one"));
        QVERIFY(u.enabled);
        QCOMPARE(u.weight, 1);
        QCOMPARE(u.successCount, 7);
        QCOMPARE(u.failedCount, 2);
        QCOMPARE(u.createdAt, QDateTime(QDate(2023, 7, 15), QTime(4, 34, 56, 123), Qt::UTC));
        QCOMPARE(u.lastCallSuccessTime, QDateTime(QDate(2023, 7, 16), QTime(0, 0, 0, 500), Qt::UTC));
        QCOMPARE(snapshot->settings.tokens, QStringList{QStringLiteral("go-token")});

        const auto records = RecordRepository(conn->db()).recent({});
        QVERIFY(records);
        QCOMPARE(records->size(), 1);
        QCOMPARE(records->first().durationMs, 1500);
        QCOMPARE(records->first().status, 200);

        // The soft-deleted pair may be added again.
        Upstream again;
        again.sk = QStringLiteral("sk-deleted");
        again.endpoint = QStringLiteral("https://api.openai.com/v1");
        const StoreOutcome created = UpstreamRepository(conn->db()).create(again);
        QVERIFY2(created.ok(), qPrintable(created.message));
    }

    void handInsertedRowWorks()
    {
        QTemporaryDir dir;
        auto conn = openMigrated(dir);
        QVERIFY(conn);
        exec(*conn,
            QStringLiteral("INSERT INTO openai_upstreams (sk, endpoint) VALUES ('sk-hand', 'http://127.0.0.1:1/v1')"));
        const auto list = UpstreamRepository(conn->db()).list();
        QVERIFY(list);
        QCOMPARE(list->size(), 1);
        QVERIFY(list->first().enabled);
        QCOMPARE(list->first().weight, 1);
        QCOMPARE(list->first().successCount, 0);
        QVERIFY(list->first().allow.isEmpty());
    }

    void createUpdateDelete()
    {
        QTemporaryDir dir;
        auto conn = openMigrated(dir);
        QVERIFY(conn);
        UpstreamRepository repo(conn->db());
        Upstream u;
        u.sk = QStringLiteral("sk-a");
        u.endpoint = QStringLiteral("http://a/v1");
        u.allow = {QStringLiteral("gpt-4o"), QStringLiteral("o3")};
        const StoreOutcome a = repo.create(u);
        QVERIFY(a.ok());
        QCOMPARE(repo.create(u).error, StoreError::Duplicate);
        u.sk = QStringLiteral("sk-b");
        const StoreOutcome b = repo.create(u);
        QVERIFY(b.ok());

        UpstreamPatch patch;
        patch.sk = QStringLiteral("sk-a"); // would duplicate a
        QCOMPARE(repo.update(b.id, patch).error, StoreError::Duplicate);
        UpstreamPatch rename;
        rename.name = QStringLiteral("second");
        rename.enabled = false;
        QVERIFY(repo.update(b.id, rename).ok());
        const auto got = repo.get(b.id);
        QVERIFY(got);
        QCOMPARE(got->name, QStringLiteral("second"));
        QVERIFY(!got->enabled);
        QCOMPARE(got->sk, QStringLiteral("sk-b")); // untouched fields are kept
        QCOMPARE(got->allow, (QStringList{QStringLiteral("gpt-4o"), QStringLiteral("o3")}));
        QCOMPARE(repo.update(999, rename).error, StoreError::NotFound);

        QVERIFY(repo.remove(a.id).ok());
        QCOMPARE(repo.remove(a.id).error, StoreError::NotFound);
        QCOMPARE(repo.list()->size(), 1);
    }

    void countersAndRecords()
    {
        QTemporaryDir dir;
        auto conn = openMigrated(dir);
        QVERIFY(conn);
        UpstreamRepository repo(conn->db());
        Upstream u;
        u.sk = QStringLiteral("sk-a");
        u.endpoint = QStringLiteral("http://a/v1");
        const qint64 id = repo.create(u).id;
        const QDateTime when(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC);
        QVERIFY(repo.addCounters({{id, {3, 1}}}, {{id, when}}));
        QVERIFY(repo.addCounters({{id, {1, 0}}}, {}));
        const auto got = repo.get(id);
        QCOMPARE(got->successCount, 4);
        QCOMPARE(got->failedCount, 1);
        QCOMPARE(got->lastCallSuccessTime, when);

        RecordRepository records(conn->db());
        QList<RequestRecord> batch;
        for (int i = 0; i < 5; ++i) {
            RequestRecord r;
            r.createdAt = when.addSecs(i);
            r.path = QStringLiteral("/v1/x%1").arg(i);
            r.status = 200 + i;
            batch << r;
        }
        QVERIFY(records.insert(batch));
        RecordFilter two;
        two.limit = 2;
        const auto recent = records.recent(two);
        QCOMPARE(recent->size(), 2);
        QCOMPARE(recent->at(0).path, QStringLiteral("/v1/x4")); // newest first
        RecordFilter older;
        older.beforeId = recent->at(1).id;
        QCOMPARE(records.recent(older)->size(), 3);
        RecordFilter byStatus;
        byStatus.status = 202;
        QCOMPARE(records.recent(byStatus)->size(), 1);
        QCOMPARE(records.recent(byStatus)->first().path, QStringLiteral("/v1/x2"));

        // Pruning keeps the newest rows.
        QCOMPARE(records.prune(0, 3), 2);
        QCOMPARE(records.recent({})->size(), 3);
        QCOMPARE(records.recent({})->last().path, QStringLiteral("/v1/x2"));
    }

    // The insert is prepared once and its text buffers reused row after
    // row: a shorter text after a longer one, non-ASCII text and empty
    // texts come back exactly as written, batch after batch.
    void keptInsertWritesEveryTextExactly()
    {
        QTemporaryDir dir;
        auto conn = openMigrated(dir);
        QVERIFY(conn);
        RecordRepository records(conn->db());
        const QStringList agents = {QStringLiteral("a-much-longer-user-agent/1.0 (linux)"), QStringLiteral("短/2"),
            QString(), QStringLiteral("x"), QStringLiteral("caf\u00e9/3")};
        const QDateTime when(QDate(2026, 3, 4), QTime(5, 6, 7, 89), Qt::UTC);
        for (int i = 0; i < agents.size(); ++i) {
            RequestRecord r;
            r.createdAt = when.addSecs(i);
            r.userAgent = agents[i];
            r.model = i % 2 ? QStringLiteral("模型-%1").arg(i) : QStringLiteral("m%1").arg(i);
            QVERIFY(records.insert({r})); // one batch each
        }
        const auto back = records.recent({});
        QVERIFY(back);
        QCOMPARE(back->size(), agents.size());
        for (int i = 0; i < agents.size(); ++i) {
            const RequestRecord &r = back->at(agents.size() - 1 - i); // newest first
            QCOMPARE(r.userAgent, agents[i].isNull() ? QStringLiteral("") : agents[i]);
            QCOMPARE(r.model, i % 2 ? QStringLiteral("模型-%1").arg(i) : QStringLiteral("m%1").arg(i));
            QCOMPARE(r.createdAt, when.addSecs(i));
        }
    }

    void settingsRoundTrip()
    {
        QTemporaryDir dir;
        auto conn = openMigrated(dir);
        QVERIFY(conn);
        ConfigRepository repo(conn->db());
        QVERIFY(repo.setValue(ConfigKey::authorization, QStringLiteral("t1, t2")));
        Settings s = *repo.load();
        QCOMPARE(s.tokens, (QStringList{QStringLiteral("t1"), QStringLiteral("t2")}));
        s.policy = Policy::RoundRobin;
        s.timeoutSec = 33;
        s.recordBodies = true;
        QVERIFY(repo.save(s));
        QVERIFY(repo.setValue(ConfigKey::authorization, QStringLiteral("t3")));
        const Settings again = *repo.load();
        QCOMPARE(again.policy, Policy::RoundRobin);
        QCOMPARE(again.timeoutSec, 33);
        QVERIFY(again.recordBodies);
        QCOMPARE(again.tokens, QStringList{QStringLiteral("t3")});
    }

    void newDatabasesAreForTheOwnerOnly()
    {
        QTemporaryDir dir;
        DatabaseConfig c;
        c.path = dir.filePath(QStringLiteral("private/db.sqlite"));
        auto conn = DbConnection::open(c, QStringLiteral("perm"));
        QVERIFY(conn);
        QVERIFY(Migrations::run(*conn.value()).ok());
        const QFile::Permissions others = QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther;
        QCOMPARE(QFile::permissions(c.path) & others, QFile::Permissions());
        QCOMPARE(QFile::permissions(dir.filePath(QStringLiteral("private"))) & (others | QFile::ExeOther),
            QFile::Permissions());
        QVERIFY(QFile::exists(c.path + QStringLiteral("-wal")));
        QCOMPARE(QFile::permissions(c.path + QStringLiteral("-wal")) & others, QFile::Permissions());
    }

    void notADatabaseIsAClearError()
    {
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("junk.sqlite")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        DatabaseConfig c;
        c.path = f.fileName();
        const auto conn = DbConnection::open(c, QStringLiteral("junk"));
        QVERIFY(!conn.ok());
        QVERIFY2(conn.error().contains(f.fileName()), qPrintable(conn.error()));
    }

    void goTimeFormats()
    {
        QCOMPARE(DbTime::parse(QStringLiteral("2023-07-15 12:34:56.123456789+08:00")),
            QDateTime(QDate(2023, 7, 15), QTime(4, 34, 56, 123), Qt::UTC));
        QCOMPARE(DbTime::parse(QStringLiteral("2023-07-15 12:34:56")),
            QDateTime(QDate(2023, 7, 15), QTime(12, 34, 56), Qt::UTC));
        QCOMPARE(DbTime::parse(QStringLiteral("2023-07-15T12:34:56Z")),
            QDateTime(QDate(2023, 7, 15), QTime(12, 34, 56), Qt::UTC));
        QVERIFY(!DbTime::parse(QVariant()).isValid());
        const QDateTime t(QDate(2026, 11, 26), QTime(1, 2, 3, 456), Qt::UTC);
        QCOMPARE(DbTime::parse(DbTime::format(t)), t);
    }

    // format() computes the calendar by hand; Qt's own formatting is the
    // reference, across leap days, century rules, before 1970, any zone.
    void formatMatchesQt()
    {
        const auto reference
            = [](const QDateTime &t) { return t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz+00:00")); };
        const QDateTime start(QDate(1899, 12, 30), QTime(23, 59, 59, 999), Qt::UTC);
        qint64 ms = start.toMSecsSinceEpoch();
        for (int i = 0; i < 20000; ++i) {
            ms += 3 * 24 * 3600 * 1000LL + 3723007; // 3 days, 1 h 2 min 3.007 s
            const QDateTime t = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
            QCOMPARE(DbTime::format(t), reference(t));
        }
        for (const QDate &d : {QDate(2000, 2, 29), QDate(1900, 3, 1), QDate(2100, 2, 28), QDate(1970, 1, 1),
                 QDate(1969, 12, 31), QDate(2024, 12, 31), QDate(9999, 12, 31)}) {
            const QDateTime t(d, QTime(0, 0, 0, 1), Qt::UTC);
            QCOMPARE(DbTime::format(t), reference(t));
        }
        const QDateTime local(QDate(2026, 7, 1), QTime(12, 0), Qt::OffsetFromUTC, 8 * 3600);
        QCOMPARE(DbTime::format(local), QStringLiteral("2026-07-01 04:00:00.000+00:00"));
        QVERIFY(DbTime::format(QDateTime()).isNull());
    }

    // The seed invites editing the table directly; a running proxy sees it.
    void outsideEditsAreSeenWithinTwoSeconds()
    {
        TestEngine env;
        QVERIFY(env.start());
        QCOMPARE(env.engine()->snapshots()->current()->upstreams.size(), 0);
        DatabaseConfig c = env.database();
        auto conn = DbConnection::open(c, QStringLiteral("outsider"));
        QVERIFY(conn);
        QSqlQuery q(conn.value()->db());
        QVERIFY(q.exec(QStringLiteral(
            "INSERT INTO openai_upstreams (sk, endpoint) VALUES ('sk-outside', 'http://127.0.0.1:1/v1')")));
        QTRY_COMPARE_WITH_TIMEOUT(env.engine()->snapshots()->current()->upstreams.size(), 1, 2000);
        QVERIFY(q.exec(QStringLiteral("UPDATE openai_upstreams SET enabled = 0")));
        QTRY_VERIFY_WITH_TIMEOUT(!env.engine()->snapshots()->current()->upstreams.first().enabled, 2000);
        QVERIFY(q.exec(QStringLiteral("UPDATE config_kvs SET value = 'new-token' WHERE key = 'authorization'")));
        QTRY_COMPARE_WITH_TIMEOUT(
            env.engine()->snapshots()->current()->settings.tokens, QStringList{QStringLiteral("new-token")}, 2000);
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
