// Team mode's store (SPEC §12) on a real PostgreSQL: a private cluster in a
// temporary folder, a fresh database per test.
#include "fakeupstream.h"
#include "pgcluster.h"
#include "testengine.h"

#include "domain/snapshot.h"
#include "store/backgroundstore.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/recordrepository.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QTcpServer>
#include <QtTest>

#include <vector>

class TestPostgres : public QObject
{
    Q_OBJECT

    std::unique_ptr<PgCluster> m_pg;
    int m_databases = 0;

    // A new database, migrated; its configuration.
    DatabaseConfig freshDatabase()
    {
        const QString dsn = m_pg->createDatabase(QStringLiteral("t%1").arg(++m_databases));
        const auto config = DatabaseConfig::fromDsn(dsn);
        if (dsn.isEmpty() || !config)
            qFatal("no database for the test: %s", qPrintable(m_pg->error()));
        return config.value();
    }

    static QByteArray chat(const char *model = "gpt-4o-mini")
    {
        return QByteArray("{\"model\":\"") + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_pg = std::make_unique<PgCluster>();
        QVERIFY2(m_pg->error().isEmpty(), qPrintable(m_pg->error()));
    }
    void cleanupTestCase() { m_pg.reset(); }

    // Every migration runs on PostgreSQL, twice without harm, and the
    // password is never part of what is shown.
    void migrationsRunAndTheDsnIsParsed()
    {
        const DatabaseConfig config = freshDatabase();
        QCOMPARE(config.kind, DatabaseConfig::Kind::Postgres);
        QCOMPARE(config.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(config.port, int(m_pg->port()));
        QVERIFY(!config.describe().contains(QLatin1String(PgCluster::password)));
        auto conn = DbConnection::open(config, QStringLiteral("t"));
        QVERIFY2(conn, qPrintable(conn.error()));
        const Status first = Migrations::run(*conn.value());
        QVERIFY2(first.ok(), qPrintable(first.error()));
        QCOMPARE(Migrations::currentVersion(*conn.value()), Migrations::latestVersion());
        QVERIFY(Migrations::run(*conn.value()).ok());
    }

    // PostgreSQL unreachable at start (SPEC §12): the engine does not
    // start, and says why in one line that names the host, never the password.
    void anUnreachableServerIsOneClearLine()
    {
        QTcpServer probe; // a port nobody listens on once it is closed
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        const auto config
            = DatabaseConfig::fromDsn(QStringLiteral("postgresql://route:s3cret@127.0.0.1:%1/route").arg(port));
        QVERIFY(config);
        auto conn = DbConnection::open(config.value(), QStringLiteral("t"));
        QVERIFY(!conn);
        QVERIFY2(!conn.error().contains(QLatin1Char('\n')), qPrintable(conn.error()));
        QVERIFY(conn.error().contains(QStringLiteral("127.0.0.1:%1").arg(port)));
        QVERIFY(!conn.error().contains(QLatin1String("s3cret")));
    }

    // The repositories on PostgreSQL: upstreams, app tokens, records and the
    // usage and statistics read back from them.
    void repositoriesWork()
    {
        const DatabaseConfig config = freshDatabase();
        auto conn = DbConnection::open(config, QStringLiteral("t"));
        QVERIFY(conn);
        QVERIFY(Migrations::run(*conn.value()).ok());
        QSqlDatabase &db = conn.value()->db();
        Upstream u;
        u.sk = QStringLiteral("sk-pg");
        u.endpoint = QStringLiteral("http://127.0.0.1:1/v1");
        const StoreOutcome created = UpstreamRepository(db).create(u);
        QVERIFY2(created.ok(), qPrintable(created.message));
        u.models = {QStringLiteral("a"), QStringLiteral("b")};
        QVERIFY(UpstreamRepository(db).saveCatalog(created.id, u.models, QString()).ok());
        const auto got = UpstreamRepository(db).get(created.id);
        QVERIFY(got);
        QCOMPARE(got->sk, QStringLiteral("sk-pg"));
        QCOMPARE(got->models, u.models);
        QVERIFY(got->modelsFetchedAt.isValid());
        UpstreamPatch rename;
        rename.name = QStringLiteral("renamed");
        QCOMPARE(UpstreamRepository(db).update(created.id, rename).error, StoreError::None);
        QCOMPARE(UpstreamRepository(db).get(created.id)->name, QStringLiteral("renamed"));
        // The unique (sk, endpoint) pair holds on PostgreSQL too.
        QCOMPARE(UpstreamRepository(db).create(u).error, StoreError::Duplicate);
        QVERIFY(UpstreamRepository(db).addCounters({{created.id, {2, 1}}}, {}));
        QCOMPARE(UpstreamRepository(db).get(created.id)->successCount, 2);

        RecordRepository records(db);
        QList<RequestRecord> batch;
        const QDateTime when = QDateTime::currentDateTimeUtc().addSecs(-60);
        for (int i = 0; i < 4; ++i) {
            RequestRecord r;
            r.createdAt = when.addSecs(i);
            r.upstreamId = created.id;
            r.path = QStringLiteral("/v1/chat/completions");
            r.model = i % 2 ? QStringLiteral("a") : QStringLiteral("模型");
            r.status = i == 3 ? 500 : 200;
            r.outcome = Outcome::Complete;
            r.promptTokens = 10;
            r.completionTokens = 5;
            r.totalTokens = 15;
            r.costUsd = 0.25;
            r.clientApp = QStringLiteral("curl");
            batch << r;
        }
        QString why;
        QVERIFY2(records.insert(batch, &why), qPrintable(why));
        const auto recent = records.recent({});
        QVERIFY(recent);
        QCOMPARE(recent->size(), 4);
        QCOMPARE(recent->first().createdAt, when.addSecs(3));
        QCOMPARE(recent->last().model, QStringLiteral("模型"));
        const QDate today = QDate::currentDate();
        for (UsageBy by : {UsageBy::Day, UsageBy::Token, UsageBy::App, UsageBy::Upstream, UsageBy::Model}) {
            const auto usage = records.usage(today.addDays(-1), today.addDays(1), by, &why);
            QVERIFY2(usage, qPrintable(why));
            qint64 requests = 0;
            double cost = 0;
            for (const UsageRow &row : *usage) {
                requests += row.requests;
                cost += row.costUsd;
            }
            QCOMPARE(requests, qint64(4));
            QCOMPARE(cost, 1.0);
        }
        const auto perDay = records.usagePerDay(today.addDays(-1), today.addDays(1), UsageBy::Model, &why);
        QVERIFY2(perDay && !perDay->isEmpty(), qPrintable(why));
        const auto stats = records.stats(when.addSecs(-10));
        QVERIFY(stats && stats->size() == 1);
        QCOMPARE(stats->first().requests, qint64(4));
        QCOMPARE(stats->first().errors, qint64(1));
        QCOMPARE(records.prune(0, 2), 2);
    }

    // Records go to PostgreSQL as multi-row statements of literals (one
    // round trip per batch): every text comes back as it went in, quotes,
    // backslashes and all, and a batch larger than one statement is whole.
    void recordsKeepEveryCharacter()
    {
        const DatabaseConfig config = freshDatabase();
        auto conn = DbConnection::open(config, QStringLiteral("t"));
        QVERIFY(conn);
        QVERIFY(Migrations::run(*conn.value()).ok());
        RecordRepository records(conn.value()->db());
        const QStringList nasty = {QStringLiteral("it's"), QStringLiteral("back\\slash \\' and \\\\"),
            QStringLiteral("'); DROP TABLE records; --"), QStringLiteral("E'x' \"\" $$ $1 ? :a"),
            QStringLiteral("line\nbreak\ttab\r"), QStringLiteral("模型 ✓ 😀"), QString()};
        QList<RequestRecord> batch;
        const QDateTime when = QDateTime::currentDateTimeUtc().addSecs(-3600);
        for (int i = 0; i < 1000; ++i) {
            RequestRecord r;
            r.createdAt = when.addMSecs(i);
            r.body = nasty.at(i % nasty.size());
            r.error = nasty.at((i + 1) % nasty.size());
            r.model = QStringLiteral("m%1").arg(i);
            r.status = 200;
            r.totalTokens = i;
            r.costUsd = 0.1 * i;
            batch << r;
        }
        RequestRecord withNul = batch.first();
        withNul.body = QStringLiteral("a") + QChar(0) + QStringLiteral("b");
        batch << withNul;
        QString why;
        QElapsedTimer timer;
        timer.start();
        QVERIFY2(records.insert(batch, &why), qPrintable(why));
        qInfo("%lld records in one batch: %.1f µs each", qlonglong(batch.size()),
            double(timer.nsecsElapsed()) / 1000.0 / double(batch.size()));
        RecordFilter all;
        all.limit = 2000;
        const auto back = records.recent(all);
        QVERIFY(back);
        QCOMPARE(back->size(), batch.size());
        QCOMPARE(back->first().body, QStringLiteral("a\uFFFDb")); // PostgreSQL's text holds no NUL
        for (int i = 0; i < 1000; ++i) {
            const RequestRecord &r = back->at(back->size() - 1 - i);
            QCOMPARE(r.body, batch.at(i).body);
            QCOMPARE(r.error, batch.at(i).error);
            QCOMPARE(r.model, batch.at(i).model);
            QCOMPARE(r.totalTokens, qint64(i));
            QCOMPARE(r.costUsd, 0.1 * i);
            QCOMPARE(r.createdAt, batch.at(i).createdAt);
        }
    }

    // The proxy on PostgreSQL: a request goes upstream and is recorded.
    void anEngineServesAndRecords()
    {
        FakeUpstream up;
        up.setBehavior(FakeUpstream::Behavior::json(200,
            "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,"
            "\"total_tokens\":5}}"));
        TestEngine engine(freshDatabase());
        QVERIFY(engine.start());
        engine.addUpstream(up.baseUrl(), QStringLiteral("sk-up"));
        const RawResponse r = engine.call("POST", "/v1/chat/completions", chat());
        QCOMPARE(r.status, 200);
        const QJsonArray rows = engine.records(1);
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().toObject().value("TotalTokens").toInt(), 5);
    }

    // Team mode's propagation (SPEC §12): an upstream added through one
    // instance's admin API, and an edit made by hand in psql, are used by
    // the other instance within a second, announced by LISTEN/NOTIFY.
    void aChangeReachesTheOtherInstanceWithinASecond()
    {
        const DatabaseConfig config = freshDatabase();
        TestEngine a(config);
        TestEngine b(config);
        QVERIFY(a.start());
        QVERIFY(b.start());
        const auto upstreamsOf = [](const TestEngine &e) {
            return QJsonDocument::fromJson(e.call("GET", "/admin/upstreams").body).array();
        };
        QCOMPARE(upstreamsOf(b).size(), 0);
        QElapsedTimer clock;
        clock.start();
        QCOMPARE(
            a.call("POST", "/admin/upstreams", "{\"SK\": \"sk-team\", \"Endpoint\": \"http://127.0.0.1:9/v1\"}").status,
            200);
        QTRY_COMPARE_WITH_TIMEOUT(upstreamsOf(b).size(), 1, 1000);
        qInfo("an upstream added on one instance was on the other after %lld ms", clock.elapsed());
        const qint64 id = upstreamsOf(b).first().toObject().value("ID").toInteger();

        // By hand, as an operator would: psql, no admin API, no updated_at.
        clock.restart();
        QVERIFY(m_pg->sql(
            config.name, QStringLiteral("UPDATE openai_upstreams SET name = 'by hand' WHERE id = %1").arg(id)));
        const auto nameOn = [&](const TestEngine &e) {
            const QJsonArray list = upstreamsOf(e);
            return list.isEmpty() ? QString() : list.first().toObject().value("Name").toString();
        };
        QTRY_COMPARE_WITH_TIMEOUT(nameOn(a), QStringLiteral("by hand"), 1000);
        QTRY_COMPARE_WITH_TIMEOUT(nameOn(b), QStringLiteral("by hand"), 1000);
        qInfo("an edit in psql was on both instances after %lld ms", clock.elapsed());

        // A setting too.
        QVERIFY(m_pg->sql(config.name,
            QStringLiteral("INSERT INTO config_kvs (\"key\", value) VALUES ('policy', 'round_robin') "
                           "ON CONFLICT (\"key\") DO UPDATE SET value = excluded.value")));
        const auto policyOf = [](const TestEngine &e) {
            return QJsonDocument::fromJson(e.call("GET", "/admin/config").body).object().value("Policy").toString();
        };
        QTRY_COMPARE_WITH_TIMEOUT(policyOf(b), QStringLiteral("round_robin"), 1000);
    }

    // Shared health (SPEC §12): a key that one instance found refused is
    // skipped by the other without a request of its own; when the first
    // finds it well again (its probe after the rest), the other uses it too.
    void healthFoundByOneIsUsedByTheOthers()
    {
        const DatabaseConfig config = freshDatabase();
        FakeUpstream dead, spare;
        dead.setBehavior(FakeUpstream::Behavior::json(401, "{\"error\":{\"message\":\"bad key\"}}"));
        const auto ok = FakeUpstream::Behavior::json(200, "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}");
        spare.setBehavior(ok);
        TestEngine a(config);
        TestEngine b(config);
        QVERIFY(a.start());
        QVERIFY(b.start());
        const qint64 deadId = a.addUpstream(dead.baseUrl(), QStringLiteral("sk-dead"));
        a.addUpstream(spare.baseUrl(), QStringLiteral("sk-spare"));
        const auto stateOn = [deadId](const TestEngine &e) {
            for (const QJsonValue &v : QJsonDocument::fromJson(e.call("GET", "/admin/upstreams").body).array())
                if (v.toObject().value("ID").toInteger() == deadId)
                    return v.toObject().value("Health").toObject().value("State").toString();
            return QString();
        };
        QTRY_COMPARE_WITH_TIMEOUT(
            QJsonDocument::fromJson(b.call("GET", "/admin/upstreams").body).array().size(), 2, 1000);

        QCOMPARE(a.call("POST", "/v1/chat/completions", chat()).status, 200); // failed over from the dead key
        QCOMPARE(dead.requestCount(), 1);
        QCOMPARE(stateOn(a), QStringLiteral("auth_failed"));
        QElapsedTimer clock;
        clock.start();
        QTRY_COMPARE_WITH_TIMEOUT(stateOn(b), QStringLiteral("auth_failed"), 1000);
        qInfo("a key found refused on one instance was rested on the other after %lld ms", clock.elapsed());
        for (int i = 0; i < 3; ++i)
            QCOMPARE(b.call("POST", "/v1/chat/completions", chat()).status, 200);
        QCOMPARE(dead.requestCount(), 1); // b never asked it

        // The key is fixed; a's rest ends, its probe succeeds, b hears of it.
        dead.setBehavior(ok);
        a.clock().advance(11 * 60 * 1000);
        QCOMPARE(a.call("POST", "/v1/chat/completions", chat()).status, 200);
        QCOMPARE(dead.requestCount(), 2);
        QCOMPARE(stateOn(a), QStringLiteral("healthy"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOn(b), QStringLiteral("healthy"), 1000);
        QCOMPARE(b.call("POST", "/v1/chat/completions", chat()).status, 200);
        QCOMPARE(dead.requestCount(), 3); // b uses it again, first in order
    }

    // Shared sessions (SPEC §12): a conversation bound on one instance keeps
    // its key on another, whose own round-robin turn would pick the other key.
    void aSessionKeepsItsKeyAcrossInstances()
    {
        const DatabaseConfig config = freshDatabase();
        FakeUpstream one, two;
        const auto ok = FakeUpstream::Behavior::json(200, "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}");
        one.setBehavior(ok);
        two.setBehavior(ok);
        TestEngine a(config);
        TestEngine b(config);
        QVERIFY(a.start());
        QVERIFY(b.start());
        a.addUpstream(one.baseUrl(), QStringLiteral("sk-one"));
        a.addUpstream(two.baseUrl(), QStringLiteral("sk-two"));
        a.setSetting("policy", QStringLiteral("round_robin"));
        const auto policyOf = [](const TestEngine &e) {
            return QJsonDocument::fromJson(e.call("GET", "/admin/config").body).object().value("Policy").toString();
        };
        QTRY_COMPARE_WITH_TIMEOUT(policyOf(b), QStringLiteral("round_robin"), 1000);
        QTRY_COMPARE_WITH_TIMEOUT(
            QJsonDocument::fromJson(b.call("GET", "/admin/upstreams").body).array().size(), 2, 1000);
        const auto send = [](const TestEngine &e, const QByteArray &session) {
            RawRequest r = jsonPost("/v1/chat/completions", chat(), TestEngine::bearer());
            if (!session.isEmpty())
                r.headers.append("x-claude-code-session-id", session);
            return rawHttp(e.port(), r).status;
        };
        QCOMPARE(send(a, {}), 200); // a's turn moves on: the session goes to the second key
        QCOMPARE(send(a, "conversation-1"), 200);
        QCOMPARE(one.requestCount(), 1);
        QCOMPARE(two.requestCount(), 1);
        // b has sent nothing yet: its own turn would start at the first key.
        QTest::qWait(200); // the binding travels in milliseconds; a turn comes seconds later
        for (int i = 0; i < 3; ++i)
            QCOMPARE(send(b, "conversation-1"), 200);
        QCOMPARE(one.requestCount(), 1);
        QCOMPARE(two.requestCount(), 4);
    }

    // PostgreSQL gone for 10 s under requests (SPEC §12): every
    // request is still served from what was loaded, the records of that
    // time are kept and written once it is back, and changes made through
    // it reach the instance again (LISTEN is set up anew).
    void anOutageCostsNoRequestAndNoRecord()
    {
        const DatabaseConfig config = freshDatabase();
        FakeUpstream up;
        up.setBehavior(FakeUpstream::Behavior::json(200, "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}"));
        TestEngine a(config);
        TestEngine b(config);
        QVERIFY(a.start());
        QVERIFY(b.start());
        a.addUpstream(up.baseUrl(), QStringLiteral("sk-up"));
        QTRY_COMPARE_WITH_TIMEOUT(
            QJsonDocument::fromJson(b.call("GET", "/admin/upstreams").body).array().size(), 1, 1000);
        QCOMPARE(a.call("POST", "/v1/chat/completions", chat()).status, 200);
        QCOMPARE(a.records(1).size(), 1);

        QVERIFY2(m_pg->stop(), qPrintable(m_pg->error()));
        QElapsedTimer outage;
        outage.start();
        int served = 0;
        while (outage.elapsed() < 10000) { // SPEC §12's outage: 10 s at about 20 requests/s
            QCOMPARE(a.call("POST", "/v1/chat/completions", chat(), TestEngine::bearer(), 3000).status, 200);
            ++served;
            QTest::qWait(50);
        }
        // It says so: /metrics, and the admin API's 503 instead of a hang.
        QVERIFY(a.call("GET", "/metrics").body.contains("openai_route_database_up 0\n"));
        const RawResponse stats = a.call("GET", "/admin/stats", {}, TestEngine::bearer(), 10000);
        QCOMPARE(stats.status, 503);
        QVERIFY2(stats.body.contains("database"), stats.body.constData());
        QVERIFY2(!stats.body.contains("\\n"), stats.body.constData()); // one line, as the log's
        QVERIFY2(m_pg->start(), qPrintable(m_pg->error()));
        qInfo("%d requests served while PostgreSQL was stopped", served);

        // Every record is there once the store has connected again (1 s, then 2 s, …).
        const auto count = [&] {
            QString n;
            m_pg->sql(config.name, QStringLiteral("SELECT count(*) FROM records"), &n);
            return n.toInt();
        };
        QTRY_COMPARE_WITH_TIMEOUT(count(), served + 1, 20000); // the next try comes 15 s into the outage
        QVERIFY(a.call("GET", "/metrics").body.contains("openai_route_database_up 1\n"));
        QCOMPARE(a.call("GET", "/admin/stats").status, 200);
        // And it listens again: an edit on b reaches a.
        QTRY_VERIFY_WITH_TIMEOUT(
            b.call("PUT", "/admin/upstreams/1", "{\"Name\": \"after the outage\"}").status == 200, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(QJsonDocument::fromJson(a.call("GET", "/admin/upstreams").body)
                                      .array()
                                      .first()
                                      .toObject()
                                      .value("Name")
                                      .toString(),
            QStringLiteral("after the outage"), 5000);
    }

    // Retention is one instance's job at a time: while another holds the
    // advisory lock, this one leaves the records alone.
    void oneInstanceAtATimePrunes()
    {
        const DatabaseConfig config = freshDatabase();
        auto conn = DbConnection::open(config, QStringLiteral("t"));
        QVERIFY(conn);
        QVERIFY(Migrations::run(*conn.value()).ok());
        QList<RequestRecord> batch(5);
        for (RequestRecord &r : batch)
            r.createdAt = QDateTime::currentDateTimeUtc();
        QVERIFY(RecordRepository(conn.value()->db()).insert(batch));
        SnapshotHolder snapshots;
        Snapshot keepTwo;
        keepTwo.settings.recordMaxRows = 2;
        snapshots.publish(keepTwo);
        BackgroundStore store(config, &snapshots);
        QVERIFY(store.open());
        const auto count = [&] {
            QString n;
            m_pg->sql(config.name, QStringLiteral("SELECT count(*) FROM records"), &n);
            return n.toInt();
        };
        QSqlQuery other(conn.value()->db()); // "another instance" pruning right now
        QVERIFY(other.exec(QStringLiteral("SELECT pg_advisory_lock(%1)").arg(0x726f757465707275LL)));
        store.prune();
        QCOMPARE(count(), 5);
        QVERIFY(other.exec(QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(0x726f757465707275LL)));
        store.prune();
        QCOMPARE(count(), 2);
        store.close();
    }

    // Shared limits (SPEC §12): a 10-RPM app token over three instances
    // lets 10 of 20 parallel requests through in all, not 10 on each; a
    // day's tokens spent on one instance count on the others.
    void limitsHoldForTheWholeTeam()
    {
        const DatabaseConfig config = freshDatabase();
        FakeUpstream up;
        up.setBehavior(FakeUpstream::Behavior::json(200,
            "{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":6,"
            "\"completion_tokens\":4,\"total_tokens\":10}}"));
        std::vector<std::unique_ptr<TestEngine>> team;
        for (int i = 0; i < 3; ++i) {
            team.push_back(std::make_unique<TestEngine>(config));
            QVERIFY(team.back()->start());
        }
        team[0]->addUpstream(up.baseUrl(), QStringLiteral("sk-up"));
        const auto createToken = [&](const QByteArray &fields) {
            const RawResponse r = team[0]->call("POST", "/admin/tokens", fields);
            return QJsonDocument::fromJson(r.body).object().value("Token").toString().toUtf8();
        };
        const QByteArray rpmToken = createToken("{\"Name\":\"agents\",\"RPM\":10}");
        const QByteArray dailyToken = createToken("{\"Name\":\"script\",\"DailyTokenLimit\":15}");
        QVERIFY(!rpmToken.isEmpty() && !dailyToken.isEmpty());
        for (const auto &e : team)
            QTRY_COMPARE_WITH_TIMEOUT(
                QJsonDocument::fromJson(e->call("GET", "/admin/tokens").body).array().size(), 2, 1000);
        for (const auto &e : team) // the upstream too
            QTRY_COMPARE_WITH_TIMEOUT(
                QJsonDocument::fromJson(e->call("GET", "/admin/upstreams").body).array().size(), 1, 1000);

        const auto send = [](const TestEngine &e, const QByteArray &token) {
            return rawHttp(e.port(), jsonPost("/v1/chat/completions", chat(), "Bearer " + token));
        };
        const ParallelVerdicts v = sendAtOnce(
            20, [&](int i) { return send(*team[size_t(i % 3)], rpmToken); }, QStringLiteral("rpm_limit_exceeded"));
        QCOMPARE(v.ok, 10);
        QCOMPARE(v.refused, 10);
        QCOMPARE(v.other, 0);

        // 10 tokens on the first instance, 10 more on the second (under
        // the 15 then), and the third refuses: the day's 20 are over 15.
        QCOMPARE(send(*team[0], dailyToken).status, 200);
        QTest::qWait(300); // the spend is added as the answer ends, off the request path
        QCOMPARE(send(*team[1], dailyToken).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(send(*team[2], dailyToken).status, 429, 2000);
        QVERIFY(send(*team[0], dailyToken).body.contains("insufficient_quota"));
    }
};

QTEST_GUILESS_MAIN(TestPostgres)
#include "tst_postgres.moc"
