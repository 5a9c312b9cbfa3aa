#include "balancer/balancer.h"
#include "domain/modelmap.h"
#include "net/outboundproxy.h"
#include "net/peerprocess.h"
#include "proxy/modellist.h"
#include "proxy/proxyrules.h"
#include "proxy/upstreamprobe.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

using namespace route; // test code reads like code inside the project

// The pure parts of SPEC §10: aliases, catalogs in routing, the merged
// list, outbound proxy settings.
class TestModels : public QObject
{
    Q_OBJECT

    static ModelMap mapOf(const QList<ModelMap::Entry> &entries)
    {
        QString error;
        const auto map = ModelMap::fromEntries(entries, &error);
        if (!map)
            qFatal("bad map in the test: %s", qPrintable(error));
        return *map;
    }

    static Upstream upstream(qint64 id, const QStringList &models, const ModelMap &map = {})
    {
        Upstream u;
        u.id = id;
        u.name = QStringLiteral("u%1").arg(id);
        u.endpoint = QStringLiteral("http://h%1.test/v1").arg(id);
        u.models = models;
        u.models.sort();
        u.modelMap = map;
        u.modelsFetchedAt = QDateTime::currentDateTimeUtc();
        return u;
    }

    static QList<qint64> ids(const QList<const Upstream *> &list)
    {
        QList<qint64> out;
        for (const Upstream *u : list)
            out << u->id;
        return out;
    }

private Q_SLOTS:
    void aliasesResolveExactThenLongestGlob()
    {
        const ModelMap map = mapOf({{QStringLiteral("gpt-*"), QStringLiteral("openai/gpt-*")},
            {QStringLiteral("gpt-4o"), QStringLiteral("gpt-4o-2024-08-06")},
            {QStringLiteral("gpt-4o-mini*"), QStringLiteral("cheap")},
            {QStringLiteral("claude*"), QStringLiteral("x")}});
        QCOMPARE(map.resolve(QStringLiteral("gpt-4o")), std::optional<QString>(QStringLiteral("gpt-4o-2024-08-06")));
        QCOMPARE(map.resolve(QStringLiteral("gpt-4.1")), std::optional<QString>(QStringLiteral("openai/gpt-4.1")));
        QCOMPARE(map.resolve(QStringLiteral("gpt-4o-mini-tts")), std::optional<QString>(QStringLiteral("cheap")));
        QCOMPARE(map.resolve(QStringLiteral("claude-sonnet-4")), std::optional<QString>(QStringLiteral("x")));
        QCOMPARE(map.resolve(QStringLiteral("o3")), std::nullopt);
        QCOMPARE(map.resolve(QString()), std::nullopt);
        QCOMPARE(map.exactKeys(), QStringList{QStringLiteral("gpt-4o")});
        // Stored and read back, the same map.
        QCOMPARE(ModelMap::fromStored(map.toStored()), map);
        QVERIFY(ModelMap::fromStored(QStringLiteral("not json")).isEmpty());
    }

    void aliasesRefuseWhatCannotWork_data()
    {
        QTest::addColumn<QString>("from");
        QTest::addColumn<QString>("to");
        QTest::newRow("empty name") << QString() << QStringLiteral("x");
        QTest::newRow("empty target") << QStringLiteral("a") << QStringLiteral(" ");
        QTest::newRow("star inside") << QStringLiteral("a*b") << QStringLiteral("x");
        QTest::newRow("star target of an exact name") << QStringLiteral("a") << QStringLiteral("x*");
        QTest::newRow("star inside a target") << QStringLiteral("a*") << QStringLiteral("x*y");
    }

    void aliasesRefuseWhatCannotWork()
    {
        QFETCH(QString, from);
        QFETCH(QString, to);
        QString error;
        QVERIFY(!ModelMap::fromEntries({{from, to}}, &error));
        QVERIFY(error.startsWith(QStringLiteral("ModelMap")));
        QVERIFY(!ModelMap::fromObject(QJsonObject{{QStringLiteral("a"), 1}}, &error));
    }

    void theBodyGetsTheAliasAndNothingElseChanges()
    {
        const QByteArray body
            = "{\"messages\":[{\"role\":\"user\",\"content\":\"model\"}], \"model\" : \"fast\",\"stream\":true}";
        QCOMPARE(ProxyRules::withModel(body, QStringLiteral("vendor/\"slow\"")),
            QByteArray("{\"messages\":[{\"role\":\"user\",\"content\":\"model\"}], \"model\" : "
                       "\"vendor/\\\"slow\\\"\",\"stream\":true}"));
        // Not JSON, or no string model: as it was.
        QCOMPARE(ProxyRules::withModel("--boundary\r\n", QStringLiteral("x")), QByteArray("--boundary\r\n"));
        QCOMPARE(ProxyRules::withModel("{\"model\":7}", QStringLiteral("x")), QByteArray("{\"model\":7}"));
        QCOMPARE(ProxyRules::withModel("{\"a\":{\"model\":\"in\"},\"model\":\"out\"}", QStringLiteral("x")),
            QByteArray("{\"a\":{\"model\":\"in\"},\"model\":\"x\"}"));
    }

    void routingPrefersTheUpstreamsThatServeTheModel_data()
    {
        QTest::addColumn<QString>("policy");
        for (const QString &p : Vocabulary::policyNames())
            QTest::newRow(qPrintable(p)) << p;
    }

    void routingPrefersTheUpstreamsThatServeTheModel()
    {
        QFETCH(QString, policy);
        Snapshot s;
        s.settings.policy = Vocabulary::parsePolicy(policy).value();
        s.upstreams << upstream(1, {QStringLiteral("gpt-4o")}) << upstream(2, {QStringLiteral("deepseek-chat")})
                    << upstream(3, {}, mapOf({{QStringLiteral("fast"), QStringLiteral("llama3")}}))
                    << upstream(4, {QStringLiteral("deepseek-chat")});
        Balancer b;
        for (int i = 0; i < 20; ++i) {
            bool served = false;
            QList<qint64> got = ids(b.candidates(s, {QStringLiteral("deepseek-chat"), {}, {}, {}}, nullptr, &served));
            std::sort(got.begin(), got.end());
            QCOMPARE(got, (QList<qint64>{2, 4}));
            QVERIFY(served);
            QCOMPARE(ids(b.candidates(s, {QStringLiteral("fast"), {}, {}, {}})), QList<qint64>{3});
            // Nobody lists it: every eligible one, as the seed did.
            QCOMPARE(b.candidates(s, {QStringLiteral("mystery"), {}, {}, {}}, nullptr, &served).size(), 4);
            QVERIFY(!served);
        }
        // A disabled server of the model does not count; the rest are the candidates.
        s.upstreams[0].enabled = false;
        QCOMPARE(b.candidates(s, {QStringLiteral("gpt-4o"), {}, {}, {}}).size(), 3);
    }

    void anAliasIsResolvedPerUpstream()
    {
        Upstream a = upstream(1, {}, mapOf({{QStringLiteral("gpt-*"), QStringLiteral("openai/gpt-*")}}));
        Upstream b = upstream(2, {QStringLiteral("gpt-4o")});
        QCOMPARE(a.modelFor(QStringLiteral("gpt-4o")), QStringLiteral("openai/gpt-4o"));
        QCOMPARE(b.modelFor(QStringLiteral("gpt-4o")), QStringLiteral("gpt-4o"));
        QVERIFY(a.serves(QStringLiteral("gpt-4o")) && b.serves(QStringLiteral("gpt-4o")));
        QVERIFY(!b.serves(QStringLiteral("gpt-4.1")));
        // Allow and Deny see the alias too: "fast" is gpt-4o-mini here.
        Upstream c = upstream(3, {}, mapOf({{QStringLiteral("fast"), QStringLiteral("gpt-4o-mini")}}));
        c.allow = {QStringLiteral("gpt-4o-mini")};
        const auto chatFor = [](const char *model) {
            return RequestTraits{
                QString::fromLatin1(model), QStringLiteral("/v1/chat/completions"), ApiFormat::OpenAI, {}};
        };
        QVERIFY(Balancer::isEligible(c, chatFor("fast")));
        QVERIFY(Balancer::isEligible(c, chatFor("gpt-4o-mini")));
        QVERIFY(!Balancer::isEligible(c, chatFor("gpt-4o")));
        c.allow.clear();
        c.deny = {QStringLiteral("gpt-4o-mini")};
        QVERIFY(!Balancer::isEligible(c, chatFor("fast")));
        QVERIFY(Balancer::isEligible(c, chatFor("gpt-4o")));
    }

    void theMergedListIsTheUnionInBothShapes()
    {
        Snapshot s;
        Upstream a = upstream(1, {QStringLiteral("gpt-4o"), QStringLiteral("o3")});
        a.name = QStringLiteral("OpenAI");
        Upstream b = upstream(2, {QStringLiteral("deepseek-chat"), QStringLiteral("gpt-4o")},
            mapOf({{QStringLiteral("chat"), QStringLiteral("deepseek-chat")},
                {QStringLiteral("x*"), QStringLiteral("y")}}));
        b.name.clear(); // named by its endpoint's host
        b.deny = {QStringLiteral("o*"), QStringLiteral("/v1/embeddings")};
        Upstream c = upstream(3, {QStringLiteral("claude-sonnet-4")});
        c.format = ApiFormat::Anthropic;
        Upstream d = upstream(4, {QStringLiteral("secret-model")});
        d.enabled = false;
        Upstream e = upstream(5, {QStringLiteral("llama3"), QStringLiteral("o1")});
        e.allow = {QStringLiteral("llama*"), QStringLiteral("/v1/chat/*")};
        s.upstreams << a << b << c << d << e;

        const auto openai = ModelList::merged(s, ModelList::Shape::OpenAI);
        QStringList got;
        for (const auto &m : openai)
            got << m.id;
        QCOMPARE(got,
            (QStringList{QStringLiteral("chat"), QStringLiteral("deepseek-chat"), QStringLiteral("gpt-4o"),
                QStringLiteral("llama3"), QStringLiteral("o3")}));
        QCOMPARE(openai.at(2).ownedBy, QStringLiteral("OpenAI")); // the first that serves it
        QCOMPARE(openai.at(1).ownedBy, QStringLiteral("h2.test"));
        QCOMPARE(ModelList::merged(s, ModelList::Shape::Anthropic).size(), 6); // the Anthropic key's too

        const QJsonObject list
            = QJsonDocument::fromJson(ModelList::listJson(openai, ModelList::Shape::OpenAI)).object();
        QCOMPARE(list.value(QLatin1String("object")).toString(), QStringLiteral("list"));
        const QJsonObject first = list.value(QLatin1String("data")).toArray().first().toObject();
        QCOMPARE(first.value(QLatin1String("object")).toString(), QStringLiteral("model"));
        QCOMPARE(first.value(QLatin1String("id")).toString(), QStringLiteral("chat"));
        QVERIFY(first.value(QLatin1String("created")).toDouble() > 1.7e9);

        const auto anthropic = ModelList::merged(s, ModelList::Shape::Anthropic);
        const QJsonObject alist
            = QJsonDocument::fromJson(ModelList::listJson(anthropic, ModelList::Shape::Anthropic)).object();
        QCOMPARE(alist.value(QLatin1String("has_more")).toBool(true), false);
        QCOMPARE(alist.value(QLatin1String("first_id")).toString(), QStringLiteral("chat"));
        QCOMPARE(alist.value(QLatin1String("last_id")).toString(), QStringLiteral("o3"));
        const QJsonObject model = alist.value(QLatin1String("data")).toArray().at(1).toObject();
        QCOMPARE(model.value(QLatin1String("type")).toString(), QStringLiteral("model"));
        QCOMPARE(model.value(QLatin1String("id")).toString(), QStringLiteral("claude-sonnet-4"));
        QVERIFY(model.value(QLatin1String("created_at")).toString().endsWith(QLatin1Char('Z')));

        QVERIFY(ModelList::find(s, ModelList::Shape::OpenAI, QStringLiteral("chat")));
        QVERIFY(!ModelList::find(s, ModelList::Shape::OpenAI, QStringLiteral("claude-sonnet-4")));
        QVERIFY(!ModelList::find(s, ModelList::Shape::OpenAI, QStringLiteral("secret-model")));
        QVERIFY(ModelList::anyFetched(s));
    }

    void catalogsAreReadFromEitherShape()
    {
        const auto ids = [](const char *json) { return UpstreamProbe::modelIds(QJsonDocument::fromJson(json)); };
        QCOMPARE(ids("{\"object\":\"list\",\"data\":[{\"id\":\"b\"},{\"id\":\"a\"},{\"id\":\"b\"}]}"),
            (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
        QCOMPARE(ids("{\"data\":[{\"type\":\"model\",\"id\":\"claude-x\"}],\"has_more\":false}"),
            QStringList{QStringLiteral("claude-x")});
        QCOMPARE(ids("{\"models\":[{\"name\":\"llama3:8b\"},\"qwen\"]}"),
            (QStringList{QStringLiteral("llama3:8b"), QStringLiteral("qwen")}));
        QVERIFY(ids("[]").isEmpty());
        QVERIFY(ids("{\"data\":[{\"id\":\"\"},{\"x\":1}]}").isEmpty());
    }

    void proxySettingsAreParsedAndMasked_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("type"); // -1: refused
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("user");
        QTest::newRow("empty") << QString() << int(QNetworkProxy::NoProxy) << QString() << 0 << QString();
        QTest::newRow("direct") << QStringLiteral("direct") << int(QNetworkProxy::NoProxy) << QString() << 0
                                << QString();
        QTest::newRow("http") << QStringLiteral("http://127.0.0.1:3128") << int(QNetworkProxy::HttpProxy)
                              << QStringLiteral("127.0.0.1") << 3128 << QString();
        QTest::newRow("socks5 with user")
            << QStringLiteral("socks5://me:p%40ss@proxy.lan:1080") << int(QNetworkProxy::Socks5Proxy)
            << QStringLiteral("proxy.lan") << 1080 << QStringLiteral("me");
        QTest::newRow("socks5h") << QStringLiteral("socks5h://proxy.lan") << int(QNetworkProxy::Socks5Proxy)
                                 << QStringLiteral("proxy.lan") << 1080 << QString();
        QTest::newRow("https proxy") << QStringLiteral("https://proxy:443") << -1 << QString() << 0 << QString();
        QTest::newRow("no host") << QStringLiteral("http://:8080") << -1 << QString() << 0 << QString();
        QTest::newRow("a path") << QStringLiteral("http://proxy:8080/x") << -1 << QString() << 0 << QString();
        QTest::newRow("words") << QStringLiteral("my proxy") << -1 << QString() << 0 << QString();
    }

    void proxySettingsAreParsedAndMasked()
    {
        QFETCH(QString, text);
        QFETCH(int, type);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, user);
        QString error;
        const auto proxy = OutboundProxy::parse(text, &error);
        QCOMPARE(proxy.has_value(), type >= 0);
        if (!proxy) {
            QVERIFY(!error.isEmpty());
            return;
        }
        QCOMPARE(int(proxy->type()), type);
        if (type == int(QNetworkProxy::NoProxy))
            return;
        QCOMPARE(proxy->hostName(), host);
        QCOMPARE(int(proxy->port()), port);
        QCOMPARE(proxy->user(), user);
    }

    void aUserAgentNamesItsProduct_data()
    {
        QTest::addColumn<QByteArray>("agent");
        QTest::addColumn<QString>("product");
        QTest::newRow("curl") << QByteArray("curl/8.5.0") << QStringLiteral("curl");
        QTest::newRow("openai js") << QByteArray("OpenAI/JS 6.49.0") << QStringLiteral("OpenAI/JS");
        QTest::newRow("claude") << QByteArray("claude-cli/2.1.332 (external, cli)") << QStringLiteral("claude-cli");
        QTest::newRow("browser") << QByteArray("Mozilla/5.0 (X11; Linux x86_64)") << QStringLiteral("Mozilla");
        QTest::newRow("bare") << QByteArray(" python-requests ") << QStringLiteral("python-requests");
        QTest::newRow("empty") << QByteArray() << QString();
    }

    void aUserAgentNamesItsProduct()
    {
        QFETCH(QByteArray, agent);
        QFETCH(QString, product);
        QCOMPARE(PeerProcess::productOf(agent), product);
    }

    void credentialsAreMasked()
    {
        const QString masked = OutboundProxy::masked(QStringLiteral("socks5://me:s3cret@proxy.lan:1080"));
        QVERIFY(!masked.contains(QStringLiteral("s3cret")));
        QCOMPARE(masked, QStringLiteral("socks5://me:***@proxy.lan:1080"));
        QCOMPARE(OutboundProxy::masked(QStringLiteral("http://proxy:3128")), QStringLiteral("http://proxy:3128"));
        QVERIFY(!OutboundProxy::describe(*OutboundProxy::parse(QStringLiteral("http://me:s3cret@p:1")))
                     .contains(QStringLiteral("s3cret")));
    }

    void theDefaultComesFromTheEnvironment()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("HTTPS_PROXY"), QStringLiteral("http://corp:3128"));
        env.insert(QStringLiteral("ALL_PROXY"), QStringLiteral("socks5://tor:9050"));
        env.insert(QStringLiteral("NO_PROXY"), QStringLiteral(".internal.lan, example.org,10.0.0.5"));
        const auto host = [&](bool tls, const char *name) {
            return OutboundProxy::fromEnvironment(env, tls, QString::fromLatin1(name));
        };
        QCOMPARE(host(true, "api.openai.com").type(), QNetworkProxy::HttpProxy);
        QCOMPARE(host(true, "api.openai.com").hostName(), QStringLiteral("corp"));
        QCOMPARE(host(false, "plain.example.com").type(), QNetworkProxy::Socks5Proxy); // ALL_PROXY for http
        QCOMPARE(host(true, "llm.internal.lan").type(), QNetworkProxy::NoProxy);
        QCOMPARE(host(true, "internal.lan").type(), QNetworkProxy::NoProxy);
        QCOMPARE(host(true, "api.example.org").type(), QNetworkProxy::NoProxy);
        QCOMPARE(host(true, "10.0.0.5").type(), QNetworkProxy::NoProxy);
        // A local Ollama never goes through the default.
        QCOMPARE(host(false, "127.0.0.1").type(), QNetworkProxy::NoProxy);
        QCOMPARE(host(false, "localhost").type(), QNetworkProxy::NoProxy);
        QCOMPARE(host(false, "::1").type(), QNetworkProxy::NoProxy);
        // Without a scheme, as the variables often are: HTTP.
        QProcessEnvironment bare;
        bare.insert(QStringLiteral("https_proxy"), QStringLiteral("corp:8080"));
        QCOMPARE(OutboundProxy::fromEnvironment(bare, true, QStringLiteral("a.b")).port(), 8080);
        QCOMPARE(OutboundProxy::fromEnvironment(bare, false, QStringLiteral("a.b")).type(), QNetworkProxy::NoProxy);
        QProcessEnvironment all;
        all.insert(QStringLiteral("HTTPS_PROXY"), QStringLiteral("http://corp:3128"));
        all.insert(QStringLiteral("NO_PROXY"), QStringLiteral("*"));
        QCOMPARE(OutboundProxy::fromEnvironment(all, true, QStringLiteral("a.b")).type(), QNetworkProxy::NoProxy);
        // An upstream's own setting wins over any default, "direct" included.
        QCOMPARE(OutboundProxy::choose(QStringLiteral("direct"), true, QStringLiteral("a.b")).type(),
            QNetworkProxy::NoProxy);
        QCOMPARE(OutboundProxy::choose(QStringLiteral("socks5://p:1"), false, QStringLiteral("127.0.0.1")).type(),
            QNetworkProxy::Socks5Proxy);
    }
};

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
