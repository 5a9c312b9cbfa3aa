#pragma once

#include <QString>
#include <QStringList>

#include <optional>

namespace route {

// The parsed command line (README, Command line): the seed's single-dash flags, their
// double-dash forms, and this project's additions.
struct CommandLine
{
    enum class Action { Serve, Add, List, Test, TokenAdd, Help, Version, UsageError };

    Action action = Action::Serve;
    QString addr = QStringLiteral("127.0.0.1:8888");
    QString database; // empty: the default in the app-data folder
    QString sk;
    QString endpoint = QStringLiteral("https://api.openai.com/v1");
    QString format = QStringLiteral("openai"); // -format, for -add
    bool noAuth = false;
    bool noGui = false;
    std::optional<QString> auth;
    std::optional<QString> policy;
    QString language; // -lang: en, zh_CN; empty = the saved choice or the system's
    qint64 testId = 0;
    QString tokenName; // -token-add
    QString error; // for UsageError
    QString helpText;

    static CommandLine parse(const QStringList &arguments);
};

} // namespace route
