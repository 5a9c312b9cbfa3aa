#include "runtime/clicommands.h"

#include "service/configservice.h"
#include "store/configrepository.h"
#include "store/migrations.h"
#include "store/upstreamrepository.h"
#include "util/secrets.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QStandardPaths>

namespace route {

namespace CliCommands {

namespace {
// The texts' context, the same for lupdate and at run time whatever scope
// a call is in.
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(CliCommands)
};
} // namespace

QString defaultDatabasePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/db.sqlite");
}

std::shared_ptr<DbConnection> openDatabase(const DatabaseConfig &config, QTextStream &err)
{
    auto conn = DbConnection::open(config, QStringLiteral("cli"));
    if (!conn) {
        err << conn.error() << Qt::endl;
        return nullptr;
    }
    if (Status migrated = Migrations::run(*conn.value()); !migrated) {
        err << migrated.error() << Qt::endl;
        return nullptr;
    }
    return conn.take();
}

int add(const DatabaseConfig &config, const QString &sk, const QString &endpoint, ApiFormat format, QTextStream &out,
    QTextStream &err)
{
    auto conn = openDatabase(config, err);
    if (!conn)
        return 1;
    UpstreamPatch fields;
    fields.sk = sk;
    fields.endpoint = endpoint;
    fields.format = format;
    const ChangeResult created = ConfigService(conn, nullptr, nullptr).createUpstream(fields);
    if (!created.ok()) {
        err << created.error->translated() << Qt::endl;
        return 1;
    }
    out << created.id << Qt::endl;
    return 0;
}

int list(const DatabaseConfig &config, QTextStream &out, QTextStream &err)
{
    auto conn = openDatabase(config, err);
    if (!conn)
        return 1;
    QString error;
    const auto upstreams = UpstreamRepository(conn->db()).list(&error);
    if (!upstreams) {
        err << Text::tr("cannot read the upstreams: %1").arg(error) << Qt::endl;
        return 1;
    }
    const QStringList header{Text::tr("ID"), Text::tr("NAME"), Text::tr("ENDPOINT"), Text::tr("FORMAT"), Text::tr("SK"),
        Text::tr("ENABLED"), Text::tr("WEIGHT"), Text::tr("MODELS"), Text::tr("SUCCESS"), Text::tr("FAILED")};
    QList<QStringList> rows{header};
    for (const Upstream &u : *upstreams)
        rows << QStringList{QString::number(u.id), u.name, u.endpoint, QString(Vocabulary::name(u.format)),
            Secrets::mask(u.sk), u.enabled ? Text::tr("yes") : Text::tr("no"), QString::number(u.weight),
            u.modelsFetchedAt.isValid() ? QString::number(u.models.size()) : QStringLiteral("-"),
            QString::number(u.successCount), QString::number(u.failedCount)};
    QList<int> widths(header.size(), 0);
    for (const QStringList &row : rows)
        for (int i = 0; i < row.size(); ++i)
            widths[i] = qMax(widths[i], int(row[i].size()));
    for (const QStringList &row : rows) {
        QString line;
        for (int i = 0; i < row.size(); ++i)
            line += row[i].leftJustified(widths[i] + 2);
        out << line.trimmed() << Qt::endl;
    }
    if (upstreams->isEmpty())
        out << Text::tr("(no upstreams; add one with -add -sk KEY -endpoint URL)") << Qt::endl;
    return 0;
}

int tokenAdd(const DatabaseConfig &config, const QString &name, QTextStream &out, QTextStream &err)
{
    auto conn = openDatabase(config, err);
    if (!conn)
        return 1;
    QString token;
    const ChangeResult r = ConfigService(conn, nullptr, nullptr).createAppToken(name, {}, &token);
    if (!r.ok()) {
        err << r.error->translated() << Qt::endl;
        return 1;
    }
    out << token << Qt::endl;
    err << Text::tr("app token %1 (%2): shown only now; valid on /v1 only. Set limits in the Apps page or with PUT "
                    "/admin/tokens/%1.")
               .arg(r.id)
               .arg(name)
        << Qt::endl;
    return 0;
}

int setTokens(const DatabaseConfig &config, const QString &tokens, QTextStream &err)
{
    auto conn = openDatabase(config, err);
    if (!conn)
        return 1;
    if (!ConfigService(conn, nullptr, nullptr).setTokens(tokens.split(QLatin1Char(','))).ok()) {
        err << Text::tr("cannot store the client token in %1").arg(config.describe()) << Qt::endl;
        return 1;
    }
    return 0;
}

int setPolicy(const DatabaseConfig &config, const QString &policy, QTextStream &err)
{
    auto conn = openDatabase(config, err);
    if (!conn)
        return 1;
    QString error;
    std::optional<Settings> settings = ConfigRepository(conn->db()).load(&error);
    const std::optional<Policy> parsed = Vocabulary::parsePolicy(policy);
    if (settings && parsed) {
        settings->policy = *parsed;
        if (ConfigService(conn, nullptr, nullptr).saveSettings(*settings).ok())
            return 0;
    }
    err << Text::tr("cannot store the policy in %1").arg(config.describe()) << Qt::endl;
    return 1;
}

int test(const DatabaseConfig &config, qint64 id, QTextStream &out, QTextStream &err)
{
    auto conn = openDatabase(config, err);
    if (!conn)
        return 1;
    const auto upstream = UpstreamRepository(conn->db()).get(id);
    if (!upstream) {
        err << Text::tr("no upstream with ID %1").arg(id) << Qt::endl;
        return 1;
    }
    ConfigService service(conn, nullptr, nullptr);
    QEventLoop loop;
    ProbeResult result;
    service.testUpstream(id, [&](const ProbeResult &r) {
        result = r;
        loop.quit();
    });
    loop.exec();
    const QString who = QStringLiteral("%1 %2 (%3)").arg(id).arg(upstream->endpoint, Secrets::mask(upstream->sk));
    if (result.ok) {
        out << Text::tr("OK: upstream %1 answered in %2 ms, %3 models")
                   .arg(who)
                   .arg(result.latencyMs)
                   .arg(result.modelCount)
            << Qt::endl;
        return 0;
    }
    out << Text::tr("FAILED: upstream %1: %2")
               .arg(who,
                   result.status ? QStringLiteral("HTTP %1: %2").arg(result.status).arg(result.error) : result.error)
        << Qt::endl;
    return 1;
}

} // namespace CliCommands

} // namespace route
