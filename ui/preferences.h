#pragma once

#include <QVariant>

namespace route {

// GUI preferences only (window geometry, language, …): the one owner of
// QSettings. Upstreams, tokens and the policy live in the database.
namespace Preferences {

enum class Key { WindowGeometry, WindowState, Language, RevealKeys, Notifications };

QVariant value(Key key);
void setValue(Key key, const QVariant &value);

} // namespace Preferences

} // namespace route
