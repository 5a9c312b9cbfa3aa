#include "runtime/commandline.h"

#include "domain/settings.h"
#include "domain/upstream.h"
#include "runtime/listenaddress.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QRegularExpression>

namespace route {

namespace {

// The texts' context, the same for lupdate and at run time whatever scope
// a call is in.
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(CommandLine)
};

// Every flag, declared once; the defaults shown in the help are the struct's.
struct Options
{
    QCommandLineOption add, addr, database, endpoint, format, list, noauth, sk, noGui, auth, policy, test, tokenAdd,
        lang, help, version;

    explicit Options(const CommandLine &defaults)
        : add(QStringLiteral("add"), Text::tr("Add an upstream from -sk and -endpoint, print its ID and exit."))
        , addr(QStringLiteral("addr"),
              Text::tr("Listen address: HOST:PORT, :PORT (all interfaces) or [::1]:PORT; port 0 picks a free one."),
              Text::tr("address"), defaults.addr)
        , database(QStringLiteral("database"),
              Text::tr("SQLite database file, created if missing, or postgresql://user:pass@host:port/db (default: "
                       "db.sqlite in the app-data folder)."),
              Text::tr("dsn"))
        , endpoint(
              QStringLiteral("endpoint"), Text::tr("Upstream base URL for -add."), Text::tr("url"), defaults.endpoint)
        , format(QStringLiteral("format"),
              Text::tr("API of the upstream for -add: openai (Chat Completions, Responses…) or anthropic (Messages)."),
              Text::tr("name"), defaults.format)
        , list(QStringLiteral("list"), Text::tr("List the upstreams (keys masked) and exit."))
        , noauth(QStringLiteral("noauth"),
              Text::tr("Do not check the Authorization header of /v1 requests (the admin API still does)."))
        , sk(QStringLiteral("sk"), Text::tr("Upstream API key for -add (sk-xxxxx)."), Text::tr("key"))
        , noGui(QStringList{QStringLiteral("no-gui"), QStringLiteral("nogui")},
              Text::tr("Run the proxy without window or tray icon."))
        , auth(QStringLiteral("auth"),
              Text::tr("Set the client token(s), comma-separated, store them in the database and go on."),
              Text::tr("tokens"))
        , policy(QStringLiteral("policy"),
              Text::tr("Balancing policy, stored in the database: %1.")
                  .arg(Vocabulary::policyNames().join(QStringLiteral(", "))),
              Text::tr("name"))
        , test(QStringLiteral("test"),
              Text::tr("Test the key of upstream ID with GET {endpoint}/models (costs no tokens) and exit."),
              Text::tr("id"))
        , tokenAdd(QStringLiteral("token-add"),
              Text::tr("Make an app token called NAME (valid on /v1 only), print it once and exit."), Text::tr("name"))
        , lang(QStringLiteral("lang"), Text::tr("Language of the interface: en or zh_CN (default: the system's)."),
              Text::tr("code"))
        , help(QStringList{QStringLiteral("help"), QStringLiteral("h")}, Text::tr("Show this help and exit."))
        , version(QStringList{QStringLiteral("version"), QStringLiteral("v")}, Text::tr("Show the version and exit."))
    { }

    QList<QCommandLineOption> all() const
    {
        return {add, addr, database, endpoint, format, list, noauth, sk, noGui, auth, policy, test, tokenAdd, lang,
            help, version};
    }
};

// Qt prints "--flag"; the seed's users know "-flag". Both work.
QString helpTextOf(const QCommandLineParser &parser)
{
    return parser.helpText()
               .replace(QRegularExpression(QStringLiteral("^(\\S+): \\S+")), QStringLiteral("\\1: openai-api-route"))
               .replace(QStringLiteral("  --"), QStringLiteral("   -"))
               .replace(QStringLiteral(", --"), QStringLiteral(",  -"))
        + Text::tr(
            "\nEvery flag also works with two dashes (--addr). Exit status: 0 success, 1 runtime failure, 2 usage "
            "error.\n");
}

CommandLine &refuse(CommandLine &c, const QString &error)
{
    c.action = CommandLine::Action::UsageError;
    c.error = error;
    return c;
}

// The values every action reads, as given.
void readValues(CommandLine &c, const QCommandLineParser &parser, const Options &o)
{
    c.addr = parser.value(o.addr);
    c.database = parser.value(o.database);
    c.sk = parser.value(o.sk);
    c.endpoint = parser.value(o.endpoint).trimmed();
    c.format = parser.value(o.format).trimmed().toLower();
    c.noAuth = parser.isSet(o.noauth);
    c.noGui = parser.isSet(o.noGui);
    if (parser.isSet(o.auth))
        c.auth = parser.value(o.auth);
    if (parser.isSet(o.policy))
        c.policy = parser.value(o.policy).trimmed();
}

// Which action the flags ask for, and whether its values can work.
CommandLine &chooseAction(CommandLine &c, const QCommandLineParser &parser, const Options &o)
{
    if (c.policy && !Vocabulary::parsePolicy(*c.policy))
        return refuse(c,
            Text::tr("unknown policy '%1'; use one of: %2")
                .arg(*c.policy, Vocabulary::policyNames().join(QStringLiteral(", "))));
    if (parser.isSet(o.test)) {
        bool ok = false;
        c.testId = parser.value(o.test).toLongLong(&ok);
        if (!ok || c.testId <= 0)
            return refuse(c, Text::tr("-test needs an upstream ID (see -list)"));
        c.action = CommandLine::Action::Test;
        return c;
    }
    if (parser.isSet(o.tokenAdd)) {
        c.tokenName = parser.value(o.tokenAdd).trimmed();
        if (c.tokenName.isEmpty())
            return refuse(c, Text::tr("-token-add needs a NAME for the app or person"));
        c.action = CommandLine::Action::TokenAdd;
        return c;
    }
    if (parser.isSet(o.add) && parser.isSet(o.list))
        return refuse(c, Text::tr("-add and -list cannot be used together"));
    if (parser.isSet(o.add)) {
        if (c.sk.trimmed().isEmpty())
            return refuse(c, Text::tr("-add needs -sk KEY"));
        if (!Vocabulary::parseFormat(c.format))
            return refuse(c, Text::tr("-format must be openai or anthropic, got '%1'").arg(c.format));
        if (!isValidEndpoint(c.endpoint))
            return refuse(c, Text::tr("-endpoint must be an http:// or https:// URL, got '%1'").arg(c.endpoint));
        c.action = CommandLine::Action::Add;
        return c;
    }
    if (parser.isSet(o.list)) {
        c.action = CommandLine::Action::List;
        return c;
    }
    if (auto parsed = ListenAddress::parse(c.addr); !parsed)
        return refuse(c, parsed.error());
    if (c.auth && c.auth->split(QLatin1Char(','), Qt::SkipEmptyParts).isEmpty())
        return refuse(c, Text::tr("-auth needs at least one token"));
    return c;
}

} // namespace

CommandLine CommandLine::parse(const QStringList &arguments)
{
    CommandLine c;
    const Options options(c);
    QCommandLineParser parser;
    // The seed is a Go program: "-addr" is one long option, not -a -d -d -r.
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    parser.setApplicationDescription(Text::tr("One local OpenAI-compatible base URL in front of all your API keys."));
    for (const QCommandLineOption &o : options.all())
        parser.addOption(o);
    c.helpText = helpTextOf(parser);

    if (!parser.parse(arguments))
        return refuse(c, parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return refuse(c, Text::tr("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    c.language = parser.value(options.lang).trimmed();
    if (parser.isSet(options.help)) {
        c.action = Action::Help;
        return c;
    }
    if (parser.isSet(options.version)) {
        c.action = Action::Version;
        return c;
    }
    readValues(c, parser, options);
    return chooseAction(c, parser, options);
}

} // namespace route
