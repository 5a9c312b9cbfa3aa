// Who spends what (SPEC §11): app tokens through the admin API and the
// command line, every limit (RPM under parallel requests, daily tokens, a
// monthly budget crossed by a stream), prices and cost, usage, through the
// real server against a fake upstream.
#include "domain/settings.h"
#include "domain/snapshot.h"
#include "fakeupstream.h"
#include "rawhttp.h"
#include "runtime/clicommands.h"
#include "store/database.h"
#include "testengine.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlQuery>
#include <QTest>

using namespace route; // test code reads like code inside the project

using Behavior = FakeUpstream::Behavior;

namespace {

// A chat answer that used PROMPT (CACHED of them from the cache) and COMPLETION tokens.
QByteArray chatAnswer(int prompt, int cached, int completion)
{
    return "{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
           "\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
        + QByteArray::number(prompt) + ",\"completion_tokens\":" + QByteArray::number(completion)
        + ",\"total_tokens\":" + QByteArray::number(prompt + completion)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":" + QByteArray::number(cached) + "}}}";
}

QByteArray chat(const QByteArray &model, bool stream = false)
{
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
        + (stream ? QByteArray(",\"stream\":true,\"stream_options\":{\"include_usage\":true}") : QByteArray()) + "}";
}

QByteArray bearer(const QString &token)
{
    return "Bearer " + token.toUtf8();
}

QString codeOf(const RawResponse &r)
{
    return QJsonDocument::fromJson(r.body).object().value("error").toObject().value("code").toString();
}

} // namespace

class TestApps : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestEngine> m_env;
    std::unique_ptr<FakeUpstream> m_up;

    // A new app token through the admin API: its ID and text.
    std::pair<qint64, QString> addToken(const QByteArray &fields)
    {
        const RawResponse r = m_env->call("POST", "/admin/tokens", fields);
        const QJsonObject o = QJsonDocument::fromJson(r.body).object();
        return {qint64(o.value("ID").toDouble()), o.value("Token").toString()};
    }

private Q_SLOTS:
    void init()
    {
        m_env = std::make_unique<TestEngine>();
        QVERIFY(m_env->start());
        m_up = std::make_unique<FakeUpstream>();
        m_up->setBehavior(Behavior::json(200, chatAnswer(1000, 0, 500)));
        m_env->addUpstream(m_up->baseUrl(), QStringLiteral("sk-up"));
    }

    void cleanup()
    {
        m_env.reset();
        m_up.reset();
    }

    void aTokenLivesThroughTheAdminApi()
    {
        const auto [id, token] = addToken("{\"Name\":\"script\"}");
        QVERIFY(id > 0);
        QVERIFY(token.startsWith(QStringLiteral("sk-route-")));
        // Shown once: never again, only its prefix.
        const QByteArray listed = m_env->call("GET", "/admin/tokens").body;
        QVERIFY(!listed.contains(token.toUtf8()));
        const QJsonObject t = QJsonDocument::fromJson(m_env->call("GET", "/admin/tokens/1").body).object();
        QCOMPARE(t.value("Name").toString(), QStringLiteral("script"));
        QCOMPARE(t.value("Prefix").toString(), token.left(12));
        QCOMPARE(t.value("Enabled").toBool(), true);
        // The database holds a hash, not the token.
        {
            auto conn = DbConnection::open(m_env->database(), QStringLiteral("peek")).take();
            QSqlQuery q(conn->db());
            QVERIFY(q.exec(QStringLiteral("SELECT token_hash FROM client_tokens")) && q.next());
            QCOMPARE(q.value(0).toString().size(), 64);
            QVERIFY(!q.value(0).toString().contains(token.mid(9)));
        }
        // /v1 works; /admin does not, with the seed's message.
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 200);
        const RawResponse admin = m_env->call("GET", "/admin/upstreams", {}, bearer(token));
        QCOMPARE(admin.status, 403);
        QVERIFY(admin.body.contains("wrong authorization header"));
        QCOMPARE(m_env->call("GET", "/admin/tokens", {}, bearer(token)).status, 403);
        // The record names the token.
        QCOMPARE(m_env->records(1).first().toObject().value("ClientTokenID").toInt(), int(id));
        QVERIFY(QTest::qWaitFor(
            [&] {
                return !QJsonDocument::fromJson(m_env->call("GET", "/admin/tokens/1").body)
                            .object()
                            .value("LastUsedAt")
                            .isNull();
            },
            5000));

        // Disabled, expired, deleted: refused, and saying why.
        QCOMPARE(m_env->call("PUT", "/admin/tokens/1", "{\"Enabled\":false}").status, 200);
        RawResponse r = m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token));
        QCOMPARE(r.status, 403);
        QVERIFY(r.body.contains("disabled"));
        QCOMPARE(
            m_env->call("PUT", "/admin/tokens/1", "{\"Enabled\":true,\"ExpiresAt\":\"2020-01-01T00:00:00Z\"}").status,
            200);
        r = m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token));
        QCOMPARE(r.status, 403);
        QVERIFY(r.body.contains("expired"));
        QCOMPARE(m_env->call("PUT", "/admin/tokens/1", "{\"ExpiresAt\":null}").status, 200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 200);
        QCOMPARE(m_env->call("DELETE", "/admin/tokens/1").status, 200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 403);
        QCOMPARE(m_env->call("DELETE", "/admin/tokens/1").status, 404);
        // The seed token keeps full rights.
        QCOMPARE(m_env->call("GET", "/admin/upstreams").status, 200);
        // What is refused at creation.
        QCOMPARE(m_env->call("POST", "/admin/tokens", "{\"Name\":\"\"}").status, 400);
        QCOMPARE(m_env->call("POST", "/admin/tokens", "{\"Name\":\"x\",\"RPM\":-1}").status, 400);
        QCOMPARE(m_env->call("POST", "/admin/tokens", "{\"Name\":\"x\",\"ExpiresAt\":\"soon\"}").status, 400);
    }

    void theCommandLineMakesATokenThatWorks()
    {
        QString out, err;
        QTextStream o(&out), e(&err);
        QCOMPARE(CliCommands::tokenAdd(m_env->database(), QStringLiteral("ci job"), o, e), 0);
        const QString token = out.trimmed();
        QVERIFY(token.startsWith(QStringLiteral("sk-route-")));
        QVERIFY(err.contains(QStringLiteral("shown only now")));
        // The running proxy sees the new row within its watch interval.
        QVERIFY(QTest::qWaitFor(
            [&] { return m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status == 200; },
            5000));
        QCOMPARE(CliCommands::tokenAdd(m_env->database(), QStringLiteral(" "), o, e), 1);
    }

    void aModelOutsideTheAllowListIsRefused()
    {
        const auto [id, token] = addToken("{\"Name\":\"cheap\",\"Allow\":[\"gpt-4o-mini*\",\"deepseek-*\"]}");
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o-mini"), bearer(token)).status, 200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("deepseek-chat"), bearer(token)).status, 200);
        const RawResponse refused = m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token));
        QCOMPARE(refused.status, 403);
        QCOMPARE(codeOf(refused), QStringLiteral("model_not_allowed"));
        QCOMPARE(m_up->requestCount(), 2); // nothing of it went upstream
    }

    void rpmHoldsUnderParallelRequests()
    {
        const auto [id, token] = addToken("{\"Name\":\"agent\",\"RPM\":10}");
        const ParallelVerdicts v = sendAtOnce(
            20,
            [&, t = token](
                int) { return rawHttp(m_env->port(), jsonPost("/v1/chat/completions", chat("gpt-4o"), bearer(t))); },
            QStringLiteral("rpm_limit_exceeded"));
        QCOMPARE(v.ok, 10);
        QCOMPARE(v.refused, 10);
        QCOMPARE(v.other, 0);
        QVERIFY(v.refusalsSayWhen);
        // A minute later (on the engine's clock) the token may send again.
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 429);
        m_env->clock().advance(61 * 1000);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 200);
    }

    void dailyTokensRunOut()
    {
        const auto [id, token] = addToken("{\"Name\":\"daily\",\"DailyTokenLimit\":2000}");
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 200); // 1500
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token)).status, 200); // 3000
        const RawResponse refused = m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token));
        QCOMPARE(refused.status, 429);
        QCOMPARE(codeOf(refused), QStringLiteral("insufficient_quota"));
        const QJsonObject t = QJsonDocument::fromJson(m_env->call("GET", "/admin/tokens/1").body).object();
        QCOMPARE(t.value("TokensToday").toInt(), 3000);
        // A restart does not reset it: the spend is read back from the records.
        QCOMPARE(m_env->records(3).size(), 3); // every record written, the refused one too
        EngineOptions options = m_env->engine()->options();
        options.port = 0;
        Engine restarted(options);
        QVERIFY(restarted.start().ok());
        RawRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.headers.append("Authorization", bearer(token));
        r.body = chat("gpt-4o");
        QCOMPARE(rawHttp(restarted.port(), r).status, 429);
        restarted.stop(0);
    }

    void aBudgetCrossedByAStreamLetsItFinish()
    {
        // $2.50 in and $10 out per million: 1000 in and 500 out cost $0.0075.
        const auto [id, token] = addToken("{\"Name\":\"budget\",\"MonthlyBudgetUSD\":0.01}");
        QList<QByteArray> events = Behavior::chatEvents(5, false);
        events << "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":"
                  "1500}}\n\n"
               << "data: [DONE]\n\n";
        m_up->setBehavior(Behavior::sse(events, 20));
        for (int i = 0; i < 2; ++i) {
            const RawResponse s = m_env->call("POST", "/v1/chat/completions", chat("gpt-4o", true), bearer(token));
            QCOMPARE(s.status, 200);
            QVERIFY(s.body.contains("[DONE]")); // the second crosses the budget and still ends
        }
        const RawResponse refused = m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(token));
        QCOMPARE(refused.status, 429);
        QCOMPARE(codeOf(refused), QStringLiteral("insufficient_quota"));
        const QJsonObject t = QJsonDocument::fromJson(m_env->call("GET", "/admin/tokens/1").body).object();
        QVERIFY(qAbs(t.value("CostThisMonthUSD").toDouble() - 0.015) < 1e-9);
        // A model priced at 0 (a local one) is never blocked by money.
        QCOMPARE(m_env
                     ->call("PUT", "/admin/prices",
                         "[{\"Model\":\"llama*\",\"InputPerMTok\":0,\"OutputPerMTok\":0},\n            "
                         "{\"Model\":\"gpt-4o*\",\"InputPerMTok\":2.5,\"OutputPerMTok\":10}]")
                     .status,
            200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("llama3", true), bearer(token)).status, 200);
    }

    void costsUseEachRateAndAreRecomputed()
    {
        // 1000 prompt tokens of which 400 cached, 500 out: by the shipped table for gpt-4o
        // ($2.50, cached $1.25, out $10): 600*2.5 + 400*1.25 + 500*10 = 7000 per million.
        m_up->setBehavior(Behavior::json(200, chatAnswer(1000, 400, 500)));
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o")).status, 200);
        QVERIFY(qAbs(m_env->records(1).first().toObject().value("CostUSD").toDouble() - 0.007) < 1e-9);
        // A table without a cached rate: the input rate for cached tokens too.
        QCOMPARE(m_env->call("PUT", "/admin/prices", "[{\"Model\":\"gpt-4o\",\"InputPerMTok\":1,\"OutputPerMTok\":2}]")
                     .status,
            200);
        const RawResponse recomputed = m_env->call("POST", "/admin/prices/recompute");
        QCOMPARE(recomputed.status, 200);
        QCOMPARE(QJsonDocument::fromJson(recomputed.body).object().value("Records").toInt(), 1);
        QVERIFY(qAbs(m_env->records(1).first().toObject().value("CostUSD").toDouble() - 0.002) < 1e-9);
        QCOMPARE(m_env->call("PUT", "/admin/prices", "[{\"Model\":\"a*b\"}]").status, 400);
        // An empty table goes back to the shipped one.
        QCOMPARE(m_env->call("PUT", "/admin/prices", "[]").status, 200);
        QVERIFY(QJsonDocument::fromJson(m_env->call("GET", "/admin/prices").body).array().size() > 20);
    }

    // Two programs with two tokens: each record names its program, and the
    // usage by app counts each one's requests (SPEC §11).
    void theProgramBehindEachRequestIsRecorded()
    {
        const auto [a, tokenA] = addToken("{\"Name\":\"shell\"}");
        const auto [b, tokenB] = addToken("{\"Name\":\"script\"}");
        const QString url = QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(m_env->port());
        // A model takes its time to answer; a client that is gone by the time
        // its socket is looked up cannot be named (the User-Agent is, then).
        Behavior slow = Behavior::json(200, chatAnswer(10, 0, 5));
        slow.delayMs = 300;
        m_up->setBehavior(slow);
        const auto run = [&](const QString &program, const QStringList &args) {
            QProcess p;
            p.start(program, args);
            QVERIFY2(p.waitForFinished(20000), qPrintable(program));
            QCOMPARE(p.exitCode(), 0);
        };
        for (int i = 0; i < 2; ++i)
            run(QStringLiteral("curl"),
                {QStringLiteral("-sf"), QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-H"),
                    QStringLiteral("Authorization: Bearer ") + tokenA, QStringLiteral("-H"),
                    QStringLiteral("Content-Type: application/json"), QStringLiteral("-d"),
                    QString::fromUtf8(chat("gpt-4o")), url});
        // A second program, with a User-Agent that names something else.
        run(QStringLiteral("python3"),
            {QStringLiteral("-c"),
                QStringLiteral("import urllib.request as u; u.urlopen(u.Request('%1', data=b'%2', headers={"
                               "'Authorization': 'Bearer %3', 'Content-Type': 'application/json', "
                               "'User-Agent': 'SomeSDK/1.0'})).read()")
                    .arg(url, QString::fromUtf8(chat("gpt-4o")), tokenB)});
        const QJsonArray rows = m_env->records(3);
        QHash<QString, int> apps;
        for (const QJsonValue &v : rows)
            apps[v.toObject().value("ClientApp").toString()] += 1;
        QCOMPARE(apps.value(QStringLiteral("curl")), 2);
        QVERIFY2(apps.value(QStringLiteral("python3")) + apps.value(QStringLiteral("python3.11")) == 1,
            qPrintable(QStringList(apps.keys()).join(QLatin1Char(','))));
        QHash<QString, int> byApp;
        for (const QJsonValue &v : QJsonDocument::fromJson(m_env->call("GET", "/admin/usage?by=app").body).array())
            byApp[v.toObject().value("Key").toString()] = v.toObject().value("Requests").toInt();
        QCOMPARE(byApp.value(QStringLiteral("curl")), 2);
    }

    void usageIsGroupedByEachKey()
    {
        const auto [a, tokenA] = addToken("{\"Name\":\"a\"}");
        const auto [b, tokenB] = addToken("{\"Name\":\"b\"}");
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(tokenA)).status, 200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("gpt-4o"), bearer(tokenA)).status, 200);
        QCOMPARE(m_env->call("POST", "/v1/chat/completions", chat("o3"), bearer(tokenB)).status, 200);
        m_env->records(3);
        const auto usage = [&](const char *by) {
            QHash<QString, QJsonObject> out;
            for (const QJsonValue &v :
                QJsonDocument::fromJson(m_env->call("GET", QByteArray("/admin/usage?by=") + by).body).array())
                out.insert(v.toObject().value("Key").toString(), v.toObject());
            return out;
        };
        const auto byToken = usage("token");
        QCOMPARE(byToken.value(QString::number(a)).value("Requests").toInt(), 2);
        QCOMPARE(byToken.value(QString::number(b)).value("Requests").toInt(), 1);
        QCOMPARE(byToken.value(QString::number(a)).value("PromptTokens").toInt(), 2000);
        QVERIFY(byToken.value(QString::number(a)).value("CostUSD").toDouble() > 0);
        QCOMPARE(usage("model").value(QStringLiteral("o3")).value("Requests").toInt(), 1);
        QCOMPARE(usage("upstream").value(QStringLiteral("1")).value("Requests").toInt(), 3);
        const QString today = QDateTime::currentDateTimeUtc().date().toString(Qt::ISODate);
        QCOMPARE(usage("day").value(today).value("Requests").toInt(), 3);
        QCOMPARE(usage("app").size(), 1);
        QCOMPARE(m_env->call("GET", "/admin/usage?by=colour").status, 400);
        QCOMPARE(m_env->call("GET", "/admin/usage?from=2026-13-01").status, 400);
        QCOMPARE(QJsonDocument::fromJson(m_env->call("GET", "/admin/usage?from=2020-01-01&to=2020-01-31").body)
                     .array()
                     .size(),
            0);
    }
};

QTEST_GUILESS_MAIN(TestApps)
#include "tst_apps.moc"
