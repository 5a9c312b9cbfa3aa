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
#include <QRegularExpression>
#include <QTextStream>
#include <QTranslator>

#include <cstdio>
#include <memory>

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
    if (translator->load(locale, QStringLiteral("openai-api-route"), QStringLiteral("_"), QStringLiteral(":/i18n")))
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

} // namespace

int main(int argc, char *argv[])
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);

    const CommandLine cl = CommandLine::parse(arguments);
    switch (cl.action) {
    case CommandLine::Action::UsageError: return usageError(err, cl.error);
    case CommandLine::Action::Help: {
        // Translations need an application object; the help is parsed again under them.
        QCoreApplication helpApp(argc, argv);
        installTranslations(helpApp, cl.language);
        out << CommandLine::parse(arguments).helpText;
        return 0;
    }
    case CommandLine::Action::Version:
        out << "openai-api-route " << ROUTE_VERSION << " (Qt " << qVersion() << ")" << Qt::endl;
        return 0;
    default: break;
    }

    bool headless = cl.noGui || cl.action != CommandLine::Action::Serve;
    if (!headless && !hasDisplay()) {
        err << QCoreApplication::translate("main", "No display found; running headless (as with --no-gui).")
            << Qt::endl;
        headless = true;
    }
    RequestLog::installBatching();
    std::unique_ptr<QCoreApplication> app;
    if (headless)
        app = std::make_unique<QCoreApplication>(argc, argv);
    else
        app = std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("openai-api-route"));
    QCoreApplication::setApplicationVersion(QStringLiteral(ROUTE_VERSION));
    installTranslations(*app,
        cl.language.isEmpty() && !headless ? Preferences::value(Preferences::Key::Language).toString() : cl.language);

    const QString dsn = cl.database.isEmpty() ? CliCommands::defaultDatabasePath() : cl.database;
    auto database = DatabaseConfig::fromDsn(dsn);
    if (!database)
        return usageError(err, database.error());

    if (cl.action == CommandLine::Action::Add)
        return CliCommands::add(database.value(), cl.sk, cl.endpoint, out, err);
    if (cl.action == CommandLine::Action::List)
        return CliCommands::list(database.value(), out, err);
    if (cl.action == CommandLine::Action::Test)
        return CliCommands::test(database.value(), cl.testId, out, err);
    if (cl.auth && CliCommands::setTokens(database.value(), *cl.auth, err) != 0)
        return 1;
    if (cl.policy && CliCommands::setPolicy(database.value(), *cl.policy, err) != 0)
        return 1;

    const ListenAddress listen = ListenAddress::parse(cl.addr).value();
    EngineOptions options;
    options.database = database.value();
    options.address = listen.address;
    options.port = listen.port;
    options.noAuth = cl.noAuth;

    // One desktop instance per database: a second launch shows the first
    // one's window. Headless instances may share a database.
    SingleInstance instance(database.value().describe());
    if (!headless && !instance.claim()) {
        out << QCoreApplication::translate("main", "openai-api-route already runs with %1; showing its window.")
                   .arg(database.value().describe())
            << Qt::endl;
        return 0;
    }

    Engine engine(options);
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
    out << QCoreApplication::translate("main", "database: %1").arg(database.value().describe()) << Qt::endl;
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
