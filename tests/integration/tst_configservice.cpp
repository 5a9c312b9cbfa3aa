#include "balancer/health.h"
#include "domain/snapshot.h"
#include "fakeupstream.h"
#include "service/configservice.h"
#include "store/database.h"
#include "store/migrations.h"
#include "store/upstreamrepository.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace route; // test code reads like code inside the project

// The one write path: the rules every caller (admin API, GUI, command line)
// gets, checked once here against a real database and a fake upstream.
class TestConfigService : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::shared_ptr<DbConnection> m_conn;
    SnapshotHolder m_snapshots;
    HealthTracker m_health;
    std::unique_ptr<ConfigService> m_service;

    static UpstreamPatch fields(const QString &sk, const QString &endpoint)
    {
        UpstreamPatch p;
        p.sk = sk;
        p.endpoint = endpoint;
        return p;
    }

    // Runs a key test to its end.
    ProbeResult test(qint64 id)
    {
        ProbeResult result;
        bool done = false;
        if (!m_service->testUpstream(id, [&](const ProbeResult &r) {
                result = r;
                done = true;
            }))
            return result;
        if (!QTest::qWaitFor([&] { return done; }, 10000))
            qWarning("the key test did not end");
        return result;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_dir.isValid());
        DatabaseConfig config;
        config.path = m_dir.filePath(QStringLiteral("db-%1.sqlite").arg(QTest::currentTestFunction()));
        auto conn = DbConnection::open(config, QStringLiteral("test"));
        QVERIFY(conn);
        m_conn = conn.take();
        QVERIFY(Migrations::run(*m_conn).ok());
        m_health.reset(1);
        m_service = std::make_unique<ConfigService>(m_conn, &m_snapshots, &m_health);
    }

    void cleanup()
    {
        m_service.reset();
        m_conn.reset();
    }

    void refusesWhatNoCallerMayWrite_data()
    {
        QTest::addColumn<QString>("sk");
        QTest::addColumn<QString>("endpoint");
        QTest::addColumn<int>("weight");
        QTest::addColumn<QString>("message");
        QTest::newRow("no key") << " "
                                << "https://api.openai.com/v1" << 1 << "SK must not be empty";
        QTest::newRow("no endpoint") << "sk-1"
                                     << "" << 1 << "Endpoint must not be empty";
        QTest::newRow("not http") << "sk-1"
                                  << "ftp://x/v1" << 1
                                  << "Endpoint must be an http:// or https:// URL, got 'ftp://x/v1'";
        QTest::newRow("no scheme") << "sk-1"
                                   << "api.openai.com" << 1
                                   << "Endpoint must be an http:// or https:// URL, got 'api.openai.com'";
        QTest::newRow("negative weight") << "sk-1"
                                         << "https://a/v1" << -1 << "Weight must be 0 or more";
    }

    void refusesWhatNoCallerMayWrite()
    {
        QFETCH(QString, sk);
        QFETCH(QString, endpoint);
        QFETCH(int, weight);
        QFETCH(QString, message);
        QSignalSpy changed(m_service.get(), &ConfigService::changed);
        UpstreamPatch p = fields(sk, endpoint);
        p.weight = weight;
        const ChangeResult r = m_service->createUpstream(p);
        QVERIFY(!r.ok());
        QCOMPARE(r.error->kind, ChangeError::Kind::Invalid);
        QCOMPARE(r.error->english(), message);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(UpstreamRepository(m_conn->db()).list()->size(), 0);
    }

    void aChangeIsInTheSnapshotAtOnce()
    {
        QSignalSpy changed(m_service.get(), &ConfigService::changed);
        const ChangeResult created
            = m_service->createUpstream(fields(QStringLiteral(" sk-1 "), QStringLiteral("https://a/v1")));
        QVERIFY(created.ok());
        QVERIFY(created.id > 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(m_snapshots.current()->upstreams.size(), 1);
        QCOMPARE(m_snapshots.current()->upstreams.first().sk, QStringLiteral("sk-1")); // trimmed

        UpstreamPatch off;
        off.enabled = false;
        QVERIFY(m_service->updateUpstream(created.id, off).ok());
        QCOMPARE(m_snapshots.current()->upstreams.first().enabled, false);

        // An edit that would break it is refused, and the stored row is kept.
        UpstreamPatch broken;
        broken.endpoint = QStringLiteral("nonsense");
        QCOMPARE(m_service->updateUpstream(created.id, broken).error->kind, ChangeError::Kind::Invalid);
        QCOMPARE(UpstreamRepository(m_conn->db()).get(created.id)->endpoint, QStringLiteral("https://a/v1"));

        QVERIFY(m_service->deleteUpstream(created.id).ok());
        QCOMPARE(m_snapshots.current()->upstreams.size(), 0);
        QCOMPARE(changed.count(), 3);
    }

    void unknownAndDuplicateUpstreams()
    {
        const ChangeResult first
            = m_service->createUpstream(fields(QStringLiteral("sk-1"), QStringLiteral("https://a/v1")));
        QVERIFY(first.ok());
        const ChangeResult again
            = m_service->createUpstream(fields(QStringLiteral("sk-1"), QStringLiteral("https://a/v1")));
        QCOMPARE(again.error->kind, ChangeError::Kind::Conflict);
        QVERIFY(again.error->english().contains(QString::number(first.id)));
        QCOMPARE(m_service->updateUpstream(99, UpstreamPatch()).error->kind, ChangeError::Kind::NotFound);
        QCOMPARE(m_service->deleteUpstream(99).error->english(), QStringLiteral("no upstream with ID 99"));
        QVERIFY(!m_service->testUpstream(99, [](const ProbeResult &) { QFAIL("no test for a missing upstream"); }));
    }

    void reorderSetsTheOrderPolicysOrder()
    {
        QList<qint64> ids;
        for (const char *sk : {"sk-a", "sk-b", "sk-c"})
            ids << m_service->createUpstream(fields(QLatin1String(sk), QStringLiteral("https://a/v1"))).id;
        QVERIFY(m_service->reorderUpstreams({ids[2], ids[0], ids[1]}).ok());
        QList<qint64> order;
        for (const Upstream &u : m_snapshots.current()->upstreams)
            order << u.id;
        QCOMPARE(order, (QList<qint64>{ids[2], ids[0], ids[1]}));
    }

    void settingsAndTokens()
    {
        Settings s;
        s.timeoutSec = 0;
        QCOMPARE(m_service->saveSettings(s).error->kind, ChangeError::Kind::Invalid);
        s.timeoutSec = 30;
        s.webhookUrl = QStringLiteral("mailto:me@example.com");
        QCOMPARE(m_service->saveSettings(s).error->kind, ChangeError::Kind::Invalid);
        s.webhookUrl.clear();
        s.policy = Policy::Weighted;
        QVERIFY(m_service->saveSettings(s).ok());
        QCOMPARE(m_snapshots.current()->settings.policy, Policy::Weighted);
        QCOMPARE(m_snapshots.current()->settings.timeoutSec, 30);

        QVERIFY(m_service->setTokens({QStringLiteral(" a "), QString(), QStringLiteral("b")}).ok());
        QCOMPARE(m_snapshots.current()->settings.tokens, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    }

    // The rule the GUI used to miss: a key the upstream rejects is marked
    // rejected by a key test, whoever runs it; a passing test clears it.
    void aKeyTestJudgesTheKeysHealth()
    {
        FakeUpstream upstream;
        upstream.setBehavior(FakeUpstream::Behavior::json(401, R"({"error":{"message":"Incorrect API key"}})"));
        const qint64 id = m_service->createUpstream(fields(QStringLiteral("sk-dead"), upstream.baseUrl())).id;
        const ProbeResult rejected = test(id);
        QVERIFY(!rejected.ok);
        QCOMPARE(rejected.status, 401);
        QCOMPARE(m_health.health(id).state, HealthState::AuthFailed);

        upstream.setBehavior(
            FakeUpstream::Behavior::json(200, R"({"object":"list","data":[{"id":"m1"},{"id":"m2"}]})"));
        const ProbeResult works = test(id);
        QVERIFY(works.ok);
        QCOMPARE(works.modelCount, 2);
        QCOMPARE(m_health.health(id).state, HealthState::Healthy);
        QCOMPARE(upstream.requests().last().headers.value("authorization"), QByteArray("Bearer sk-dead"));
    }

    void anAnthropicKeyIsTestedWithItsOwnHeaders()
    {
        FakeUpstream upstream;
        upstream.setBehavior(FakeUpstream::Behavior::json(200, R"({"data":[{"id":"claude-x"}],"has_more":false})"));
        UpstreamPatch p = fields(QStringLiteral("sk-ant-key"), upstream.baseUrl());
        p.format = ApiFormat::Anthropic;
        const qint64 id = m_service->createUpstream(p).id;
        const ProbeResult r = test(id);
        QVERIFY(r.ok);
        QCOMPARE(r.modelCount, 1);
        const FakeUpstream::Request seen = upstream.requests().last();
        QCOMPARE(seen.target, QByteArray("/v1/models?limit=1000")); // Anthropic pages by 20 otherwise
        QCOMPARE(seen.headers.value("x-api-key"), QByteArray("sk-ant-key"));
        QCOMPARE(seen.headers.value("anthropic-version"), QByteArray("2023-06-01"));
        QVERIFY(!seen.headers.contains("authorization"));
    }

    // The command line has no running proxy: the database changes all the same.
    void withoutAProxy()
    {
        const quint64 generation = m_snapshots.current()->generation;
        ConfigService cli(m_conn, nullptr, nullptr);
        QVERIFY(cli.createUpstream(fields(QStringLiteral("sk-cli"), QStringLiteral("http://127.0.0.1:9/v1"))).ok());
        QCOMPARE(UpstreamRepository(m_conn->db()).list()->size(), 1);
        QCOMPARE(m_snapshots.current()->generation, generation);
    }
};

QTEST_GUILESS_MAIN(TestConfigService)
#include "tst_configservice.moc"
