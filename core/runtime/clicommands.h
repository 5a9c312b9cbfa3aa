#pragma once

#include "domain/vocabulary.h"
#include "store/database.h"

#include <QString>
#include <QTextStream>

namespace route {

// The command-line actions that work on the database and exit (-add, -list,
// -auth); each returns the process exit status.
namespace CliCommands {

// Opens and migrates the database; the error line goes to `err`.
std::shared_ptr<DbConnection> openDatabase(const DatabaseConfig &config, QTextStream &err);
int add(const DatabaseConfig &config, const QString &sk, const QString &endpoint, ApiFormat format, QTextStream &out,
    QTextStream &err);
int list(const DatabaseConfig &config, QTextStream &out, QTextStream &err);
int setTokens(const DatabaseConfig &config, const QString &tokens, QTextStream &err);
int setPolicy(const DatabaseConfig &config, const QString &policy, QTextStream &err);
// Runs an event loop until the key test ends; 0 when the key works.
int test(const DatabaseConfig &config, qint64 id, QTextStream &out, QTextStream &err);
// Makes an app token and prints it (the only time it is shown).
int tokenAdd(const DatabaseConfig &config, const QString &name, QTextStream &out, QTextStream &err);

// db.sqlite in the platform's app-data folder.
QString defaultDatabasePath();

} // namespace CliCommands

} // namespace route
