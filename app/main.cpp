// openai-api-route: parse the command line, then run headless on
// QCoreApplication or with a tray icon on QApplication. Both run the same Engine.

#include "appcontroller.h"
#include "engine/engine.h"
#include "preferences.h"
#include "runtime/clicommands.h"
#include "runtime/commandline.h"
#include "runtime/listenaddress.h"
#include "runtime/signalwatcher.h"
#include "runtime/singleinstance.h"
#include "util/logging.h"

#include <QApplication>
#include <QCoreApplication>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTextStream>
#include <QTranslator>

#include <cstdio>
#include <memory>
#include <optional>

using namespace route;

namespace {

bool hasDisplay()
{
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    if (!qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") || !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        return true;
    const QString display = qEnvironmentVariable("DISPLAY");
    if (display.isEmpty())
        return false;
    // A local display (":0") whose X server is gone would make Qt abort;
    // its socket tells whether it is there. Remote ones are trusted.
    static const QRegularExpression local(QStringLiteral("^(unix)?:(\\d+)(\\.\\d+)?$"));
    const QRegularExpressionMatch m = local.match(display);
    return !m.hasMatch() || QFileInfo::exists(QStringLiteral("/tmp/.X11-unix/X") + m.captured(2));
#else
    return true;
#endif
}

// The interface language: -lang, else the saved choice, else the system's.
void installTranslations(QCoreApplication &app, const QString &language)
{
    const QLocale locale = language.isEmpty() ? QLocale::system() : QLocale(language);
    auto *translator = new QTranslator(&app);
    // A system without a language (the C locale of many servers) gets the
    // English catalogue, for its plurals ("1 key", not "1 key(s)").
    if (translator->load(locale, QStringLiteral("openai-api-route"), QStringLiteral("_"), QStringLiteral(":/i18n"))
        || translator->load(QStringLiteral(":/i18n/openai-api-route_en")))
        QCoreApplication::installTranslator(translator);
    // Qt's own dialogs (buttons of message boxes), when the system has them.
    auto *qt = new QTranslator(&app);
    if (qt->load(
            locale, QStringLiteral("qtbase"), QStringLiteral("_"), QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QCoreApplication::installTranslator(qt);
    if (!language.isEmpty())
        QLocale::setDefault(locale);
}

int usageError(QTextStream &err, const QString &message)
{
    err << "openai-api-route: " << message << Qt::endl;
    err << QCoreApplication::translate("main", "Run 'openai-api-route -help' for the list of flags.") << Qt::endl;
    return 2;
}

// -help, -version and usage errors: answered before any application exists
// (help needs one for its translations). None: go on.
std::optional<int> answerWithoutStarting(
    const CommandLine &cl, const QStringList &arguments, int argc, char *argv[], QTextStream &out, QTextStream &err)
{
    switch (cl.action) {
    case CommandLine::Action::UsageError: return usageError(err, cl.error);
    case CommandLine::Action::Help: {
        QCoreApplication helpApp(argc, argv);
        installTranslations(helpApp, cl.language);
        out << CommandLine::parse(arguments).helpText; // parsed again, under the translations
        return 0;
    }
    case CommandLine::Action::Version:
        out << "openai-api-route " << ROUTE_VERSION << " (Qt " << qVersion() << ")" << Qt::endl;
        return 0;
    default: return std::nullopt;
    }
}

bool runsHeadless(const CommandLine &cl, QTextStream &err)
{
    if (cl.noGui || cl.action != CommandLine::Action::Serve)
        return true;
    if (hasDisplay())
        return false;
    err << QCoreApplication::translate("main", "No display found; running headless (as with --no-gui).") << Qt::endl;
    return true;
}

std::unique_ptr<QCoreApplication> makeApplication(bool headless, int &argc, char *argv[], const CommandLine &cl)
{
    std::unique_ptr<QCoreApplication> app;
    if (headless)
        app = std::make_unique<QCoreApplication>(argc, argv);
    else
        app = std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("openai-api-route"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ROUTE_VERSION));
    installTranslations(*app,
        cl.language.isEmpty() && !headless ? Preferences::value(Preferences::Key::Language).toString() : cl.language);
    return app;
}

// -add, -list and -test end the process; -auth and -policy are stored before
// the start. None: go on and serve.
std::optional<int> runDatabaseCommands(
    const CommandLine &cl, const DatabaseConfig &database, QTextStream &out, QTextStream &err)
{
    // A command's output is its answer; the info lines a server logs would be noise here
    // (QT_LOGGING_RULES still wins).
    if (cl.action != CommandLine::Action::Serve)
        QLoggingCategory::setFilterRules(QStringLiteral("route.*.info=false"));
    // -auth and -policy are stored first, whatever else the command line
    // asks for: "-auth TOKEN -list" sets the token and then lists.
    if (cl.auth && CliCommands::setTokens(database, *cl.auth, err) != 0)
        return 1;
    if (cl.policy && CliCommands::setPolicy(database, *cl.policy, err) != 0)
        return 1;
    if (cl.action == CommandLine::Action::Add)
        return CliCommands::add(
            database, cl.sk, cl.endpoint, Vocabulary::parseFormat(cl.format).value_or(ApiFormat::OpenAI), out, err);
    if (cl.action == CommandLine::Action::List)
        return CliCommands::list(database, out, err);
    if (cl.action == CommandLine::Action::Test)
        return CliCommands::test(database, cl.testId, out, err);
    if (cl.action == CommandLine::Action::TokenAdd)
        return CliCommands::tokenAdd(database, cl.tokenName, out, err);
    return std::nullopt;
}

EngineOptions engineOptions(const CommandLine &cl, const DatabaseConfig &database)
{
    const ListenAddress listen = ListenAddress::parse(cl.addr).value(); // checked by CommandLine::parse
    EngineOptions options;
    options.database = database;
    options.address = listen.address;
    options.port = listen.port;
    options.noAuth = cl.noAuth;
    return options;
}

// What a headless user needs to get going, and the journal keeps.
void printStarted(
    const Engine &engine, const CommandLine &cl, const DatabaseConfig &database, bool headless, QTextStream &out)
{
    out << QCoreApplication::translate("main", "database: %1").arg(database.describe()) << Qt::endl;
    out << QCoreApplication::translate("main", "listening on %1 — base URL %2")
               .arg(engine.listenAddress(), engine.baseUrl())
        << Qt::endl;
    if (!engine.generatedToken().isEmpty() && headless)
        out << QCoreApplication::translate(
            "main", "client token (generated now, shown once; use it as the API key): %1")
                   .arg(engine.generatedToken())
            << Qt::endl;
    if (cl.noAuth)
        out << QCoreApplication::translate("main", "authentication is off for /v1 (-noauth)") << Qt::endl;
}

} // namespace

int main(int argc, char *argv[])
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);

    const CommandLine cl = CommandLine::parse(arguments);
    if (const std::optional<int> answered = answerWithoutStarting(cl, arguments, argc, argv, out, err))
        return *answered;
    const bool headless = runsHeadless(cl, err);
    RequestLog::installBatching();
    const std::unique_ptr<QCoreApplication> app = makeApplication(headless, argc, argv, cl);

    const QString dsn = cl.database.isEmpty() ? CliCommands::defaultDatabasePath() : cl.database;
    const auto database = DatabaseConfig::fromDsn(dsn);
    if (!database)
        return usageError(err, database.error());
    if (const std::optional<int> done = runDatabaseCommands(cl, database.value(), out, err))
        return *done;

    // One desktop instance per database: a second launch shows the first
    // one's window. Headless instances may share a database.
    SingleInstance instance(database.value().describe());
    if (!headless && !instance.claim()) {
        out << QCoreApplication::translate("main", "openai-api-route already runs with %1; showing its window.")
                   .arg(database.value().describe())
            << Qt::endl;
        return 0;
    }

    Engine engine(engineOptions(cl, database.value()));
    // Installed before the start, so that a SIGTERM is never the default
    // (abrupt) one once the address has been printed.
    SignalWatcher signals;
    QObject::connect(&signals, &SignalWatcher::terminationRequested, &engine, [&engine, &out](int) {
        if (!engine.isRunning()) {
            QCoreApplication::exit(0);
            return;
        }
        out << QCoreApplication::translate("main", "stopping: finishing requests in flight…") << Qt::endl;
        engine.stop(30000);
    });
    if (Status started = engine.start(); !started) {
        err << "openai-api-route: " << started.error() << Qt::endl;
        return 1;
    }
    printStarted(engine, cl, database.value(), headless, out);
    QObject::connect(&engine, &Engine::stopped, app.get(), &QCoreApplication::quit);

    std::unique_ptr<AppController> gui;
    if (!headless) {
        QApplication::setQuitOnLastWindowClosed(false);
        gui = std::make_unique<AppController>(&engine, database.value());
        QObject::connect(gui.get(), &AppController::quitRequested, &engine, [&engine] { engine.stop(5000); });
        QObject::connect(&instance, &SingleInstance::activationRequested, gui.get(), &AppController::showWindow);
        QString error;
        if (!gui->start(&error)) {
            err << "openai-api-route: " << error << Qt::endl;
            return 1;
        }
    }
    const int status = app->exec();
    RequestLog::flush();
    return status;
}
