#include "runtime/commandline.h"

#include "domain/settings.h"
#include "domain/upstream.h"
#include "runtime/listenaddress.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QRegularExpression>

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("CommandLine", text);
}

} // namespace

CommandLine CommandLine::parse(const QStringList &arguments)
{
    CommandLine c;
    QCommandLineParser parser;
    // The seed is a Go program: "-addr" is one long option, not -a -d -d -r.
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser.setApplicationDescription(tr("One local OpenAI-compatible base URL in front of all your API keys."));
    const QCommandLineOption add(
        QStringLiteral("add"), tr("Add an upstream from -sk and -endpoint, print its ID and exit."));
    const QCommandLineOption addr(QStringLiteral("addr"),
        tr("Listen address: HOST:PORT, :PORT (all interfaces) or [::1]:PORT; port 0 picks a free one."), tr("address"),
        c.addr);
    const QCommandLineOption database(QStringLiteral("database"),
        tr("SQLite database file, created if missing, or postgresql://user:pass@host:port/db (default: db.sqlite in "
           "the app-data folder)."),
        tr("dsn"));
    const QCommandLineOption endpoint(
        QStringLiteral("endpoint"), tr("Upstream base URL for -add."), tr("url"), c.endpoint);
    const QCommandLineOption list(QStringLiteral("list"), tr("List the upstreams (keys masked) and exit."));
    const QCommandLineOption noauth(QStringLiteral("noauth"),
        tr("Do not check the Authorization header of /v1 requests (the admin API still does)."));
    const QCommandLineOption sk(QStringLiteral("sk"), tr("Upstream API key for -add (sk-xxxxx)."), tr("key"));
    const QCommandLineOption noGui(QStringList{QStringLiteral("no-gui"), QStringLiteral("nogui")},
        tr("Run the proxy without window or tray icon."));
    const QCommandLineOption auth(QStringLiteral("auth"),
        tr("Set the client token(s), comma-separated, store them in the database and go on."), tr("tokens"));
    const QCommandLineOption policy(QStringLiteral("policy"),
        tr("Balancing policy, stored in the database: %1.").arg(Vocabulary::policyNames().join(QStringLiteral(", "))),
        tr("name"));
    const QCommandLineOption test(QStringLiteral("test"),
        tr("Test the key of upstream ID with GET {endpoint}/models (costs no tokens) and exit."), tr("id"));
    const QCommandLineOption lang(
        QStringLiteral("lang"), tr("Language of the interface: en or zh_CN (default: the system's)."), tr("code"));
    const QCommandLineOption help(
        QStringList{QStringLiteral("help"), QStringLiteral("h")}, tr("Show this help and exit."));
    const QCommandLineOption version(
        QStringList{QStringLiteral("version"), QStringLiteral("v")}, tr("Show the version and exit."));
    for (const QCommandLineOption &o :
        {add, addr, database, endpoint, list, noauth, sk, noGui, auth, policy, test, lang, help, version})
        parser.addOption(o);

    // Qt prints "--flag"; the seed's users know "-flag". Both work.
    c.helpText
        = parser.helpText()
              .replace(QRegularExpression(QStringLiteral("^(\\S+): \\S+")), QStringLiteral("\\1: openai-api-route"))
              .replace(QStringLiteral("  --"), QStringLiteral("   -"))
              .replace(QStringLiteral(", --"), QStringLiteral(",  -"))
        + tr("\nEvery flag also works with two dashes (--addr). Exit status: 0 success, 1 runtime failure, 2 usage "
             "error.\n");
    if (!parser.parse(arguments)) {
        c.action = Action::UsageError;
        c.error = parser.errorText();
        return c;
    }
    if (!parser.positionalArguments().isEmpty()) {
        c.action = Action::UsageError;
        c.error = tr("unexpected argument '%1'").arg(parser.positionalArguments().first());
        return c;
    }
    c.language = parser.value(lang).trimmed();
    if (parser.isSet(help)) {
        c.action = Action::Help;
        return c;
    }
    if (parser.isSet(version)) {
        c.action = Action::Version;
        return c;
    }
    c.addr = parser.value(addr);
    c.database = parser.value(database);
    c.sk = parser.value(sk);
    c.endpoint = parser.value(endpoint).trimmed();
    c.noAuth = parser.isSet(noauth);
    c.noGui = parser.isSet(noGui);
    if (parser.isSet(auth))
        c.auth = parser.value(auth);

    if (parser.isSet(policy)) {
        c.policy = parser.value(policy).trimmed();
        if (!Vocabulary::parsePolicy(*c.policy)) {
            c.action = Action::UsageError;
            c.error = tr("unknown policy '%1'; use one of: %2")
                          .arg(*c.policy, Vocabulary::policyNames().join(QStringLiteral(", ")));
            return c;
        }
    }
    if (parser.isSet(test)) {
        bool ok = false;
        c.testId = parser.value(test).toLongLong(&ok);
        if (!ok || c.testId <= 0) {
            c.action = Action::UsageError;
            c.error = tr("-test needs an upstream ID (see -list)");
            return c;
        }
        c.action = Action::Test;
        return c;
    }
    if (parser.isSet(add) && parser.isSet(list)) {
        c.action = Action::UsageError;
        c.error = tr("-add and -list cannot be used together");
        return c;
    }
    if (parser.isSet(add)) {
        c.action = Action::Add;
        if (c.sk.trimmed().isEmpty()) {
            c.action = Action::UsageError;
            c.error = tr("-add needs -sk KEY");
            return c;
        }
        if (!isValidEndpoint(c.endpoint)) {
            c.action = Action::UsageError;
            c.error = tr("-endpoint must be an http:// or https:// URL, got '%1'").arg(c.endpoint);
            return c;
        }
        return c;
    }
    if (parser.isSet(list)) {
        c.action = Action::List;
        return c;
    }
    if (auto parsed = ListenAddress::parse(c.addr); !parsed) {
        c.action = Action::UsageError;
        c.error = parsed.error();
        return c;
    }
    if (c.auth && c.auth->split(QLatin1Char(','), Qt::SkipEmptyParts).isEmpty()) {
        c.action = Action::UsageError;
        c.error = tr("-auth needs at least one token");
    }
    return c;
}
