// /admin/usage over a year of records (SPEC §11): one million rows spread
// over 365 days, grouped by each key, for a month and for the whole year.
// Label `bench`: it prints the times and fails only past generous bounds.
#include "store/database.h"
#include "store/migrations.h"
#include "store/recordrepository.h"

#include <QElapsedTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace route; // test code reads like code inside the project

class TestUsageScale : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aYearOfRecordsIsQuick()
    {
        QTemporaryDir dir;
        DatabaseConfig config;
        config.path = dir.filePath(QStringLiteral("year.sqlite"));
        auto conn = DbConnection::open(config, QStringLiteral("scale")).take();
        QVERIFY(Migrations::run(*conn).ok());
        QElapsedTimer clock;
        clock.start();
        // One row every ~31.5 s of a year that ends today, five apps, three
        // tokens, four upstreams, six models.
        const QDate last = QDateTime::currentDateTimeUtc().date();
        const QDateTime start(last.addDays(-364), QTime(0, 0), Qt::UTC);
        QSqlQuery q(conn->db());
        QVERIFY2(q.exec(QStringLiteral(
                     "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999) "
                     "INSERT INTO records (created_at, ip, method, path, model, status, outcome, upstream_id, "
                     "prompt_tokens, cached_tokens, completion_tokens, total_tokens, cost_usd, app_token_id, "
                     "client_app) SELECT strftime('%Y-%m-%d %H:%M:%f', %1 + i * 31.536, 'unixepoch') || '+00:00', "
                     "'127.0.0.1', 'POST', '/v1/chat/completions', 'model-' || (i % 6), CASE WHEN i % 50 = 0 THEN 500 "
                     "ELSE 200 END, 'complete', 1 + i % 4, 1000, 200, 300, 1300, 0.004, i % 3, 'app-' || (i % 5) "
                     "FROM n")
                            .arg(start.toSecsSinceEpoch())),
            qPrintable(q.lastError().text()));
        qInfo("inserted 1,000,000 records in %lld ms", clock.elapsed());

        RecordRepository records(conn->db());
        for (const auto &[by, name] :
            QList<std::pair<UsageBy, const char *>>{{UsageBy::Day, "day"}, {UsageBy::Token, "token"},
                {UsageBy::App, "app"}, {UsageBy::Upstream, "upstream"}, {UsageBy::Model, "model"}}) {
            clock.restart();
            const auto month = records.usage(last.addDays(-29), last, by);
            const qint64 monthMs = clock.elapsed();
            clock.restart();
            const auto year = records.usage(last.addDays(-364), last, by);
            const qint64 yearMs = clock.elapsed();
            QVERIFY(month && year);
            qint64 requests = 0;
            for (const UsageRow &r : *year)
                requests += r.requests;
            QCOMPARE(requests, qint64(1000000));
            qInfo(
                "by %-8s 30 days %4lld ms, 365 days %4lld ms (%lld keys)", name, monthMs, yearMs, qint64(year->size()));
            QVERIFY2(monthMs < 2000 && yearMs < 20000, name);
        }
        clock.restart();
        const auto chart = records.usagePerDay(last.addDays(-29), last, UsageBy::App);
        QVERIFY(chart && chart->size() == 30 * 5);
        qInfo("per day by app, 30 days: %lld ms", clock.elapsed());
    }
};

QTEST_GUILESS_MAIN(TestUsageScale)
#include "tst_usage_scale.moc"
