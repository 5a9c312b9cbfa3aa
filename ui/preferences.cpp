#include "preferences.h"

#include <QSettings>

namespace route {

namespace Preferences {

namespace {

struct Entry
{
    const char *name;
    QVariant fallback;
};

Entry entry(Key key)
{
    switch (key) {
    case Key::WindowGeometry: return {"window/geometry", QVariant()};
    case Key::WindowState: return {"window/state", QVariant()};
    case Key::Language: return {"ui/language", QString()}; // empty: follow the system
    case Key::RevealKeys: return {"ui/revealKeys", false};
    case Key::Notifications: return {"ui/notifications", true};
    }
    return {"", QVariant()};
}

// ~/.config/openai-api-route/openai-api-route.conf, whatever the organization name.
QSettings settings()
{
    return QSettings(QSettings::NativeFormat, QSettings::UserScope, QStringLiteral("openai-api-route"),
        QStringLiteral("openai-api-route"));
}

} // namespace

QVariant value(Key key)
{
    const Entry e = entry(key);
    return settings().value(QLatin1String(e.name), e.fallback);
}

void setValue(Key key, const QVariant &value)
{
    settings().setValue(QLatin1String(entry(key).name), value);
}

} // namespace Preferences

} // namespace route
