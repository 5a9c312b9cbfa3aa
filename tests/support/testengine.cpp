#include "testengine.h"

#include "store/snapshotloader.h"
#include <QJsonDocument>
#include <QTest>

#include "domain/snapshot.h"
#include "store/configrepository.h"
#include "store/migrations.h"
#include "store/upstreamrepository.h"

using namespace route; // test code reads like code inside the project

TestEngine::TestEngine(bool noAuth, const HttpLimits &limits, const HealthTuning &health)
{
    DatabaseConfig database;
    database.path = m_dir.filePath(QStringLiteral("db.sqlite"));
    setUp(database, noAuth, limits, health);
}

TestEngine::TestEngine(const DatabaseConfig &database)
{
    setUp(database, false, {}, {});
}

void TestEngine::setUp(
    const DatabaseConfig &database, bool noAuth, const HttpLimits &limits, const HealthTuning &health)
{
    m_options.database = database;
    m_options.address = QHostAddress::LocalHost;
    m_options.port = 0;
    m_options.noAuth = noAuth;
    m_options.limits = limits;
    m_options.health = health;
    m_options.clock = &m_clock;
    m_options.fetchModels = false;
    m_options.modelsFirstRetryMs = 300; // tests wait for a retry, not for half a minute
    auto conn = DbConnection::open(m_options.database, QStringLiteral("test-setup"));
    Q_ASSERT(conn);
    Migrations::run(*conn.value());
    ConfigRepository(conn.value()->db()).setValue(ConfigKey::authorization, QString::fromLatin1(token()));
    m_engine = std::make_unique<Engine>(m_options);
}

TestEngine::~TestEngine()
{
    m_engine.reset();
}

RawResponse TestEngine::call(const QByteArray &method, const QByteArray &target, const QByteArray &body,
    const QByteArray &authorization, int timeoutMs) const
{
    RawRequest r;
    r.method = method;
    r.target = target;
    if (!authorization.isEmpty())
        r.headers.append("Authorization", authorization);
    if (!body.isEmpty()) {
        r.headers.append("Content-Type", "application/json");
        r.body = body;
    }
    r.timeoutMs = timeoutMs;
    return rawHttp(port(), r);
}

void TestEngine::setFetchModels(bool on)
{
    Q_ASSERT(!m_engine->isRunning());
    m_options.fetchModels = on;
    m_engine = std::make_unique<Engine>(m_options);
}

QJsonArray TestEngine::records(int n, int timeoutMs) const
{
    QJsonArray out;
    [[maybe_unused]] const bool arrived = QTest::qWaitFor(
        [&] {
            out = QJsonDocument::fromJson(call("GET", "/admin/request_records?limit=100").body).array();
            return out.size() >= n;
        },
        timeoutMs);
    return out;
}

bool TestEngine::start()
{
    const Status s = m_engine->start();
    if (!s)
        qWarning("engine did not start: %s", qPrintable(s.error()));
    return s.ok();
}

qint64 TestEngine::addUpstream(const QString &endpoint, const QString &sk, const std::function<void(Upstream &)> &edit)
{
    auto conn = DbConnection::open(m_options.database, QStringLiteral("test"));
    Upstream u;
    u.endpoint = endpoint;
    u.sk = sk;
    if (edit)
        edit(u);
    const StoreOutcome out = UpstreamRepository(conn.value()->db()).create(u);
    Q_ASSERT(out.ok());
    reloadSnapshot(*m_engine->snapshots(), *conn.value());
    return out.id;
}

void TestEngine::setSetting(const char *key, const QString &value)
{
    auto conn = DbConnection::open(m_options.database, QStringLiteral("test"));
    ConfigRepository(conn.value()->db()).setValue(key, value);
    reloadSnapshot(*m_engine->snapshots(), *conn.value());
}
