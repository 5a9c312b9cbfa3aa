#pragma once

#include "util/result.h"

#include <QString>

#include <optional>

namespace route {

// API keys in the system keychain (SPEC §13; Secret Service on Linux,
// through QtKeychain): opt-in on the desktop. The database then holds a
// reference, "keychain:" and an id, in place of the key; a key typed into
// the table by hand stays a key, as in the seed. Every call blocks (a local
// event loop, at most a few seconds) and runs off the request path: when a
// snapshot is loaded, and when the user moves keys in or out.
namespace KeyVault {

inline constexpr char referencePrefix[] = "keychain:";

bool isReference(const QString &sk);
// A new, unused reference.
QString newReference();

// Whether a keychain can be used here; else why not, in one line the
// Settings page shows (built without QtKeychain, no Secret Service running…).
Status availability();

// The key behind REFERENCE. Read once and then cached for the process, so a
// reload of the configuration asks the keychain only about new references.
Result<QString> read(const QString &reference);
// What read() found before, without asking the keychain (any thread).
std::optional<QString> cached(const QString &reference);
Status write(const QString &reference, const QString &key);
Status remove(const QString &reference);

} // namespace KeyVault

} // namespace route
