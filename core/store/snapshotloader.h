#pragma once

#include <QString>

namespace route {

class DbConnection;
class SnapshotHolder;

// Reads upstreams and settings through the caller's connection and publishes
// them as the new snapshot. False (and the reason) when the database cannot
// be read; the old snapshot then stays.
bool reloadSnapshot(SnapshotHolder &holder, DbConnection &conn, QString *error = nullptr);

} // namespace route
