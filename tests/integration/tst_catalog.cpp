// One model list for every client (SPEC §10): catalogs fetched in the
// background, the merged /v1/models, routing by catalog, aliases per
// attempt, and upstreams behind an outbound proxy, through the real server
// against fake upstreams on port 0.
#include "domain/settings.h"
#include "domain/snapshot.h"
#include "fakemodel.h"
#include "fakeupstream.h"
#include "rawhttp.h"
#include "testengine.h"
#include "tunnelproxy.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMutex>
#include <QTest>

using namespace route; // test code reads like code inside the project

using Behavior = FakeUpstream::Behavior;

namespace {

QMutex logMutex;
QStringList logLines;

void captureLog(QtMsgType, const QMessageLogContext &, const QString &message)
{
    QMutexLocker lock(&logMutex);
    logLines << message;
}

QByteArray listOf(const QStringList &models)
{
    QJsonArray data;
    for (const QString &m : models)
        data.append(QJsonObject{{QStringLiteral("id"), m}, {QStringLiteral("object"), QStringLiteral("model")}});
    return QJsonDocument(
        QJsonObject{{QStringLiteral("object"), QStringLiteral("list")}, {QStringLiteral("data"), data}})
        .toJson(QJsonDocument::Compact);
}

// Lists MODELS on GET /v1/models; answers anything else naming itself.
FakeUpstream::Script catalog(const QByteArray &name, const QStringList &models, int chatStatus = 200)
{
    return [=](const FakeUpstream::Request &r) {
        if (r.target.startsWith("/v1/models"))
            return Behavior::json(200, listOf(models));
        return Behavior::json(chatStatus, "{\"served_by\":\"" + name + "\"}");
    };
}

QString modelSent(const FakeUpstream::Request &r)
{
    return QJsonDocument::fromJson(r.body).object().value(QLatin1String("model")).toString();
}

QByteArray chat(const QString &model)
{
    return "{\"model\":\"" + model.toUtf8() + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
}

QStringList idsOf(const QByteArray &json)
{
    QStringList out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json).object().value(QLatin1String("data")).toArray())
        out << v.toObject().value(QLatin1String("id")).toString();
    return out;
}

int chatRequests(const FakeUpstream &f)
{
    int n = 0;
    for (const FakeUpstream::Request &r : f.requests())
        n += r.target.startsWith("/v1/chat") ? 1 : 0;
    return n;
}

int modelRequests(const FakeUpstream &f)
{
    int n = 0;
    for (const FakeUpstream::Request &r : f.requests())
        n += r.target.startsWith("/v1/models") ? 1 : 0;
    return n;
}

} // namespace

class TestCatalog : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_a;
    std::unique_ptr<FakeUpstream> m_b;
    std::unique_ptr<FakeUpstream> m_c;

    // Every enabled upstream has been asked at least once.
    bool waitForCatalogs(int timeoutMs = 5000)
    {
        return QTest::qWaitFor(
            [&] {
                const auto s = m_env->engine()->snapshots()->current();
                return !s->upstreams.isEmpty()
                    && std::all_of(s->upstreams.cbegin(), s->upstreams.cend(), [](const Upstream &u) {
                           return !u.enabled || u.modelsFetchedAt.isValid() || !u.modelsError.isEmpty();
                       });
            },
            timeoutMs);
    }

    // Three upstreams with different catalogs; C also has aliases.
    void startWithThree()
    {
        m_a->setScript(catalog("A", {QStringLiteral("gpt-4o"), QStringLiteral("o3")}));
        m_b->setScript(catalog("B", {QStringLiteral("deepseek-chat"), QStringLiteral("deepseek-reasoner")}));
        m_c->setScript(catalog("C", {QStringLiteral("llama3")}));
        m_env->setFetchModels(true);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.name = QStringLiteral("A"); });
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"), [](Upstream &u) { u.name = QStringLiteral("B"); });
        m_env->addUpstream(m_c->baseUrl(), QStringLiteral("sk-c"), [](Upstream &u) {
            u.name = QStringLiteral("C");
            u.modelMap = *ModelMap::fromEntries({{QStringLiteral("fast"), QStringLiteral("llama3")},
                {QStringLiteral("vendor/*"), QStringLiteral("llama*")}});
        });
        QVERIFY(m_env->start());
        QVERIFY(waitForCatalogs());
    }

private Q_SLOTS:
    void init()
    {
        m_env = std::make_unique<TestEngine>();
        m_a = std::make_unique<FakeUpstream>();
        m_b = std::make_unique<FakeUpstream>();
        m_c = std::make_unique<FakeUpstream>();
    }

    void cleanup()
    {
        m_env.reset();
        m_a.reset();
        m_b.reset();
        m_c.reset();
    }

    void theMergedListIsTheUnionWithAliases()
    {
        startWithThree();
        // Each catalog was fetched with its own key.
        QCOMPARE(m_a->requests().first().headers.value("authorization"), QByteArray("Bearer sk-a"));
        QCOMPARE(m_b->requests().first().headers.value("authorization"), QByteArray("Bearer sk-b"));
        const QStringList expected{QStringLiteral("deepseek-chat"), QStringLiteral("deepseek-reasoner"),
            QStringLiteral("fast"), QStringLiteral("gpt-4o"), QStringLiteral("llama3"), QStringLiteral("o3")};
        const int asked = modelRequests(*m_a);
        const RawResponse list = m_env->call("GET", "/v1/models");
        QCOMPARE(list.status, 200);
        QCOMPARE(idsOf(list.body), expected);
        QCOMPARE(modelRequests(*m_a), asked); // from memory, not from an upstream
        const QJsonObject first
            = QJsonDocument::fromJson(list.body).object().value("data").toArray().first().toObject();
        QCOMPARE(first.value(QLatin1String("owned_by")).toString(), QStringLiteral("B"));

        // Anthropic's shape for an Anthropic client.
        RawRequest r;
        r.target = "/v1/models";
        r.headers.append("x-api-key", TestEngine::token());
        r.headers.append("anthropic-version", "2023-06-01");
        const RawResponse anthropic = rawHttp(m_env->port(), r);
        QCOMPARE(anthropic.status, 200);
        const QJsonObject a = QJsonDocument::fromJson(anthropic.body).object();
        QCOMPARE(a.value(QLatin1String("has_more")).toBool(true), false);
        QCOMPARE(a.value(QLatin1String("data")).toArray().first().toObject().value("type").toString(),
            QStringLiteral("model"));
        QCOMPARE(idsOf(anthropic.body), expected);

        // One model, by its id; an unknown one in the error shape SDKs read.
        const RawResponse one = m_env->call("GET", "/v1/models/deepseek-chat");
        QCOMPARE(one.status, 200);
        QCOMPARE(QJsonDocument::fromJson(one.body).object().value("id").toString(), QStringLiteral("deepseek-chat"));
        const RawResponse none = m_env->call("GET", "/v1/models/nope");
        QCOMPARE(none.status, 404);
        QCOMPARE(QJsonDocument::fromJson(none.body).object().value("error").toObject().value("code").toString(),
            QStringLiteral("model_not_found"));

        // The admin API shows the catalog and when it was fetched.
        const QJsonObject b = QJsonDocument::fromJson(m_env->call("GET", "/admin/upstreams/2").body).object();
        QCOMPARE(b.value(QLatin1String("Models")).toArray().size(), 2);
        QVERIFY(!b.value(QLatin1String("ModelsFetchedAt")).toString().isEmpty());
        QCOMPARE(b.value(QLatin1String("ModelsError")).toString(), QString());

        // A disabled upstream's models leave the list.
        QCOMPARE(m_env->call("PUT", "/admin/upstreams/1", "{\"Enabled\":false}").status, 200);
        QVERIFY(!idsOf(m_env->call("GET", "/v1/models").body).contains(QStringLiteral("o3")));
        // A Deny pattern takes them out too.
        QCOMPARE(m_env->call("PUT", "/admin/upstreams/2", "{\"Deny\":[\"deepseek-r*\"]}").status, 200);
        QVERIFY(!idsOf(m_env->call("GET", "/v1/models").body).contains(QStringLiteral("deepseek-reasoner")));
        QVERIFY(idsOf(m_env->call("GET", "/v1/models").body).contains(QStringLiteral("deepseek-chat")));
    }

    void eachModelGoesToTheUpstreamThatServesIt_data()
    {
        QTest::addColumn<QString>("policy");
        for (const QString &p : Vocabulary::policyNames())
            QTest::newRow(qPrintable(p)) << p;
    }

    void eachModelGoesToTheUpstreamThatServesIt()
    {
        QFETCH(QString, policy);
        startWithThree();
        m_env->setSetting(ConfigKey::policy, policy);
        for (int i = 0; i < 4; ++i) {
            for (const auto &[model, upstream] :
                QList<std::pair<QString, QByteArray>>{{QStringLiteral("deepseek-chat"), "B"},
                    {QStringLiteral("o3"), "A"}, {QStringLiteral("llama3"), "C"}, {QStringLiteral("fast"), "C"}}) {
                const RawResponse r = m_env->call("POST", "/v1/chat/completions", chat(model));
                QCOMPARE(r.status, 200);
                QVERIFY2(r.body.contains(QByteArray("\"served_by\":\"" + upstream + "\"")),
                    qPrintable(model + QLatin1Char(' ') + r.body));
            }
        }
        QCOMPARE(chatRequests(*m_a), 4);
        QCOMPARE(chatRequests(*m_b), 4);
        QCOMPARE(chatRequests(*m_c), 8);
        // The alias reached C rewritten; the record keeps both names.
        QCOMPARE(modelSent(m_c->requests().last()), QStringLiteral("llama3"));
        // Records are written as requests finish, not in the order they were sent.
        int aliased = 0;
        for (const QJsonValue &v : m_env->records(16)) {
            const QJsonObject rec = v.toObject();
            if (rec.value(QLatin1String("Model")).toString() != QLatin1String("fast"))
                continue;
            QCOMPARE(rec.value(QLatin1String("UpstreamModel")).toString(), QStringLiteral("llama3"));
            ++aliased;
        }
        QCOMPARE(aliased, 4);
        // A glob alias: vendor/X is sent as llamaX.
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("vendor/3"))).status, 200);
        QCOMPARE(modelSent(m_c->requests().last()), QStringLiteral("llama3"));
    }

    void theFailoverTargetGetsItsOwnAlias()
    {
        m_a->setScript(catalog("A", {}, 500));
        m_b->setScript(catalog("B", {}));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) {
            u.modelMap = *ModelMap::fromEntries({{QStringLiteral("shared"), QStringLiteral("a-name")}});
        });
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"), [](Upstream &u) {
            u.modelMap = *ModelMap::fromEntries({{QStringLiteral("shared"), QStringLiteral("b-name")}});
        });
        QVERIFY(m_env->start());
        const RawResponse r = m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("shared")));
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("\"served_by\":\"B\""));
        QCOMPARE(modelSent(m_a->requests().last()), QStringLiteral("a-name"));
        QCOMPARE(modelSent(m_b->requests().last()), QStringLiteral("b-name"));
        const QJsonObject rec = m_env->records(1).first().toObject();
        QCOMPARE(rec.value(QLatin1String("UpstreamModel")).toString(), QStringLiteral("b-name"));
        QCOMPARE(rec.value(QLatin1String("Attempts")).toInt(), 2);
    }

    void aMessagesRequestGoesToTheChatUpstreamThatListsItsModel()
    {
        m_a->setScript([](const FakeUpstream::Request &r) {
            return FakeModel::catalogTurn(r, {QStringLiteral("claude-x")}, QStringLiteral("A"));
        });
        m_b->setScript([](const FakeUpstream::Request &r) {
            return FakeModel::catalogTurn(r, {QStringLiteral("deepseek-chat")}, QStringLiteral("B"));
        });
        m_env->setFetchModels(true);
        m_env->addUpstream(
            m_a->baseUrl(), QStringLiteral("sk-ant"), [](Upstream &u) { u.format = ApiFormat::Anthropic; });
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        QVERIFY(m_env->start());
        QVERIFY(waitForCatalogs());
        const QByteArray body
            = "{\"model\":\"deepseek-chat\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        const RawResponse converted = m_env->call("POST", "/v1/messages", body);
        QCOMPARE(converted.status, 200);
        QVERIFY2(converted.body.contains("B:deepseek-chat"), converted.body.constData());
        QCOMPARE(QJsonDocument::fromJson(converted.body).object().value("type").toString(), QStringLiteral("message"));
        QCOMPARE(m_b->requests().last().target, QByteArray("/v1/chat/completions"));
        // The Anthropic key's own model stays with it.
        QCOMPARE(
            m_env->call("POST", "/v1/messages", QByteArray(body).replace("deepseek-chat", "claude-x")).status, 200);
        QCOMPARE(m_a->requests().last().target, QByteArray("/v1/messages"));
    }

    void roundRobinStaysFairForMessagesWithoutLists()
    {
        m_a->setBehavior(Behavior::json(200, "{}"));
        m_b->setBehavior(Behavior::json(200, "{}"));
        m_env->addUpstream(
            m_a->baseUrl(), QStringLiteral("sk-a"), [](Upstream &u) { u.format = ApiFormat::Anthropic; });
        m_env->addUpstream(
            m_b->baseUrl(), QStringLiteral("sk-b"), [](Upstream &u) { u.format = ApiFormat::Anthropic; });
        m_env->setSetting(ConfigKey::policy, QStringLiteral("round_robin"));
        QVERIFY(m_env->start());
        const QByteArray body
            = "{\"model\":\"claude-x\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        for (int i = 0; i < 6; ++i)
            QCOMPARE(m_env->call("POST", "/v1/messages", body).status, 200);
        QCOMPARE(m_a->requestCount(), 3);
        QCOMPARE(m_b->requestCount(), 3);
    }

    void anUnknownModelWithoutListsGoesAsInTheSeed()
    {
        m_a->setScript(catalog("A", {}));
        m_b->setScript(catalog("B", {}));
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        QVERIFY(m_env->start()); // no catalogs at all
        const RawResponse r = m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("anything")));
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("\"served_by\":\"A\"")); // the order policy's first
        QCOMPARE(modelSent(m_a->requests().last()), QStringLiteral("anything"));
        QCOMPARE(m_env->call("GET", "/v1/models").body, QByteArray("{\"data\":[],\"object\":\"list\"}"));
    }

    void aFailingUpstreamKeepsItsLastList()
    {
        startWithThree();
        m_a->setScript([](const FakeUpstream::Request &r) {
            if (r.target.startsWith("/v1/models"))
                return Behavior::json(503, "{\"error\":{\"message\":\"down for maintenance\"}}");
            return Behavior::json(200, "{}");
        });
        const RawResponse refreshed = m_env->call("POST", "/admin/upstreams/1/models/refresh");
        QCOMPARE(refreshed.status, 200);
        const QJsonObject a = QJsonDocument::fromJson(refreshed.body).object();
        QCOMPARE(a.value(QLatin1String("OK")).toBool(true), false);
        QCOMPARE(a.value(QLatin1String("ModelsError")).toString(), QStringLiteral("down for maintenance"));
        QCOMPARE(a.value(QLatin1String("Models")).toArray().size(), 2); // the last list stays
        QVERIFY(idsOf(m_env->call("GET", "/v1/models").body).contains(QStringLiteral("o3")));
        QCOMPARE(m_env->call("POST", "/admin/upstreams/99/models/refresh").status, 404);

        // Back: the refresh stores the new list and clears the error.
        m_a->setScript(catalog("A", {QStringLiteral("gpt-5")}));
        const QJsonObject back
            = QJsonDocument::fromJson(m_env->call("POST", "/admin/upstreams/1/models/refresh").body).object();
        QCOMPARE(back.value(QLatin1String("OK")).toBool(), true);
        QCOMPARE(back.value(QLatin1String("Models")).toArray(), QJsonArray{QStringLiteral("gpt-5")});
        QCOMPARE(back.value(QLatin1String("ModelsError")).toString(), QString());
        QVERIFY(idsOf(m_env->call("GET", "/v1/models").body).contains(QStringLiteral("gpt-5")));
    }

    void aFailedFetchIsTriedAgainSoon()
    {
        // The network is not up yet when the proxy starts at login.
        std::atomic<int> asked{0};
        m_a->setScript([&asked](const FakeUpstream::Request &r) {
            if (r.target.startsWith("/v1/models") && asked++ < 2)
                return Behavior::json(503, "{\"error\":{\"message\":\"not yet\"}}");
            return Behavior::json(200, listOf({QStringLiteral("gpt-4o")}));
        });
        m_env->setFetchModels(true);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        QVERIFY(m_env->start());
        // Two failures (after 0.3 s, then 0.6 s), then the list, without anyone asking.
        QVERIFY(QTest::qWaitFor(
            [&] { return idsOf(m_env->call("GET", "/v1/models").body) == QStringList{QStringLiteral("gpt-4o")}; },
            5000));
        QCOMPARE(asked.load(), 3);
        QCOMPARE(m_env->engine()->snapshots()->current()->upstreams.first().modelsError, QString());
    }

    void aRestartStartsWithTheLastLists()
    {
        startWithThree();
        const QStringList before = idsOf(m_env->call("GET", "/v1/models").body);
        // A second engine on the same database that fetches nothing itself.
        EngineOptions options = m_env->engine()->options();
        options.port = 0;
        options.fetchModels = false;
        Engine restarted(options);
        QVERIFY(restarted.start().ok());
        RawRequest r;
        r.target = "/v1/models";
        r.headers.append("Authorization", TestEngine::bearer());
        const RawResponse after = rawHttp(restarted.port(), r);
        QCOMPARE(after.status, 200);
        QCOMPARE(idsOf(after.body), before);
        QCOMPARE(before.size(), 6);
        restarted.stop(0);
    }

    void aHangingUpstreamHoldsNothingUp()
    {
        m_a->setScript([](const FakeUpstream::Request &r) {
            if (r.target.startsWith("/v1/models"))
                return Behavior::of(Behavior::Kind::Hang);
            return Behavior::json(200, "{\"served_by\":\"A\"}");
        });
        m_b->setScript(catalog("B", {QStringLiteral("deepseek-chat")}));
        m_env->setFetchModels(true);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        m_env->addUpstream(m_b->baseUrl(), QStringLiteral("sk-b"));
        QVERIFY(m_env->start());
        QElapsedTimer clock;
        clock.start();
        const RawResponse list = m_env->call("GET", "/v1/models");
        const qint64 listMs = clock.elapsed();
        QCOMPARE(list.status, 200);
        QVERIFY2(listMs < 2500, qPrintable(QString::number(listMs)));
        QVERIFY(QTest::qWaitFor([&] { return idsOf(m_env->call("GET", "/v1/models").body).size() == 1; }, 3000));
        // A request does not wait for any fetch.
        clock.restart();
        const RawResponse r = m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("other")));
        QCOMPARE(r.status, 200);
        QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
        qInfo("merged list with one upstream hanging: %lld ms", listMs);
    }

    void everyUpstreamHangingCostsTheListAtMostTwoSeconds()
    {
        m_a->setBehavior(Behavior::of(Behavior::Kind::Hang));
        m_env->setFetchModels(true);
        m_env->addUpstream(m_a->baseUrl(), QStringLiteral("sk-a"));
        QVERIFY(m_env->start());
        QElapsedTimer clock;
        clock.start();
        const RawResponse list = m_env->call("GET", "/v1/models");
        QCOMPARE(list.status, 200);
        QVERIFY(idsOf(list.body).isEmpty());
        QVERIFY2(clock.elapsed() >= 1500 && clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    }

    void anUpstreamOnlyReachableThroughAProxy_data()
    {
        QTest::addColumn<int>("kind");
        QTest::newRow("http connect") << int(TunnelProxy::Kind::HttpConnect);
        QTest::newRow("socks5") << int(TunnelProxy::Kind::Socks5);
    }

    void anUpstreamOnlyReachableThroughAProxy()
    {
        QFETCH(int, kind);
        qInstallMessageHandler(captureLog);
        QLoggingCategory::setFilterRules(QStringLiteral("route.*=true"));
        {
            QMutexLocker lock(&logMutex);
            logLines.clear();
        }
        TunnelProxy proxy(TunnelProxy::Kind(kind), QStringLiteral("me"), QStringLiteral("pr0xy-s3cret"));
        m_a->setScript(catalog("A", {QStringLiteral("gpt-4o")}));
        // The name resolves nowhere; only the proxy knows where it is.
        const QString endpoint = QStringLiteral("http://only-via-proxy.test:%1/v1").arg(m_a->port());
        m_env->setFetchModels(true);
        const qint64 id
            = m_env->addUpstream(endpoint, QStringLiteral("sk-a"), [&](Upstream &u) { u.proxy = proxy.url(); });
        QVERIFY(m_env->start());
        QVERIFY(waitForCatalogs());
        QVERIFY2(m_env->engine()->snapshots()->current()->upstreams.first().modelsError.isEmpty(),
            qPrintable(m_env->engine()->snapshots()->current()->upstreams.first().modelsError));
        QCOMPARE(idsOf(m_env->call("GET", "/v1/models").body), QStringList{QStringLiteral("gpt-4o")});

        const RawResponse r = m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("gpt-4o")));
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("\"served_by\":\"A\""));
        const QJsonObject test
            = QJsonDocument::fromJson(m_env->call("POST", "/admin/upstreams/" + QByteArray::number(id) + "/test").body)
                  .object();
        QCOMPARE(test.value(QLatin1String("OK")).toBool(), true);
        QVERIFY(proxy.targets().contains(QStringLiteral("only-via-proxy.test:%1").arg(m_a->port())));
        QCOMPARE(m_a->requests().last().headers.value("host"),
            QStringLiteral("only-via-proxy.test:%1").arg(m_a->port()).toUtf8());

        // Shown masked; a masked value sent back keeps the real one.
        const RawResponse shown = m_env->call("GET", "/admin/upstreams/" + QByteArray::number(id));
        QVERIFY(!shown.body.contains("pr0xy-s3cret"));
        QVERIFY(shown.body.contains("me:***@127.0.0.1"));
        QCOMPARE(m_env->call("PUT", "/admin/upstreams/" + QByteArray::number(id), shown.body).status, 200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("gpt-4o"))).status, 200);

        // Wrong credentials: the request fails as a transport failure, and says nothing secret.
        const QString wrong = QString(proxy.url()).replace(QStringLiteral("pr0xy-s3cret"), QStringLiteral("wr0ng-pw"));
        const QByteArray put = "{\"Proxy\":\"" + wrong.toUtf8() + "\"}";
        QCOMPARE(m_env->call("PUT", "/admin/upstreams/" + QByteArray::number(id), put).status, 200);
        const RawResponse refused = m_env->call("POST", "/v1/chat/completions", chat(QStringLiteral("gpt-4o")));
        QCOMPARE(refused.status, 502);
        QVERIFY(proxy.refusals() > 0);
        QVERIFY(!refused.body.contains("wr0ng-pw"));

        QLoggingCategory::setFilterRules(QStringLiteral("route.*.info=false"));
        qInstallMessageHandler(nullptr);
        QMutexLocker lock(&logMutex);
        QVERIFY(!logLines.isEmpty());
        for (const QString &line : std::as_const(logLines)) {
            QVERIFY2(!line.contains(QStringLiteral("pr0xy-s3cret")), qPrintable(line));
            QVERIFY2(!line.contains(QStringLiteral("wr0ng-pw")), qPrintable(line));
        }
    }

    void aProxySettingIsChecked()
    {
        QVERIFY(m_env->start());
        // No upstream yet: the model list says so instead of being empty.
        const RawResponse none = m_env->call("GET", "/v1/models");
        QCOMPARE(none.status, 503);
        QVERIFY(none.body.contains("no upstream is configured"));
        const RawResponse bad = m_env->call("POST", "/admin/upstreams",
            "{\"SK\":\"sk-x\",\"Endpoint\":\"https://api.example.com/v1\",\"Proxy\":\"ftp://p:1\"}");
        QCOMPARE(bad.status, 400);
        QVERIFY(bad.body.contains("Proxy must be"));
        const RawResponse badMap = m_env->call("POST", "/admin/upstreams",
            "{\"SK\":\"sk-x\",\"Endpoint\":\"https://api.example.com/v1\",\"ModelMap\":{\"a*b\":\"c\"}}");
        QCOMPARE(badMap.status, 400);
        QVERIFY(badMap.body.contains("ModelMap"));
        const RawResponse good = m_env->call("POST", "/admin/upstreams",
            "{\"SK\":\"sk-x\",\"Endpoint\":\"https://api.example.com/v1\",\"Proxy\":\"socks5://"
            "127.0.0.1:9\",\"ModelMap\":{\"gpt-*\":\"openai/gpt-*\"}}");
        QCOMPARE(good.status, 200);
        const QJsonObject u = QJsonDocument::fromJson(m_env->call("GET", "/admin/upstreams/1").body).object();
        QCOMPARE(
            u.value(QLatin1String("ModelMap")).toObject().value("gpt-*").toString(), QStringLiteral("openai/gpt-*"));
        QCOMPARE(u.value(QLatin1String("Proxy")).toString(), QStringLiteral("socks5://127.0.0.1:9"));
    }
};

QTEST_GUILESS_MAIN(TestCatalog)
#include "tst_catalog.moc"
