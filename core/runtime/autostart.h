#pragma once

#include <QString>

namespace route {

// "Start at login" through an XDG autostart entry (~/.config/autostart).
namespace Autostart {
QString entryPath();
bool isEnabled();
// Writes or removes the entry; false when the folder is not writable.
bool setEnabled(bool enabled, const QString &executable);
} // namespace Autostart

} // namespace route
