#pragma once

#include "util/result.h"

namespace route {

class DbConnection;

// Numbered, forward-only schema changes. Version 1 is the Go tool's gorm
// layout, so a database of the Go tool is simply "at version 1" and later
// versions add this project's columns with defaults.
namespace Migrations {
Status run(DbConnection &conn);
int latestVersion();
int currentVersion(DbConnection &conn);
} // namespace Migrations

} // namespace route
