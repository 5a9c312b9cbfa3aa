#include "runtime/autostart.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

namespace route {

namespace Autostart {

QString entryPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::ConfigLocation)
        + QStringLiteral("/autostart/io.github.openai_api_route.desktop");
}

bool isEnabled()
{
    return QFile::exists(entryPath());
}

bool setEnabled(bool enabled, const QString &executable)
{
    const QString path = entryPath();
    if (!enabled)
        return !QFile::exists(path) || QFile::remove(path);
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return false;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    const QString exec
        = executable.contains(QLatin1Char(' ')) ? QLatin1Char('"') + executable + QLatin1Char('"') : executable;
    f.write("[Desktop Entry]\nType=Application\nName=openai-api-route\n"
            "Comment=OpenAI-compatible API key router\nIcon=openai-api-route\nTerminal=false\n"
            "X-GNOME-Autostart-enabled=true\nExec=");
    f.write(exec.toUtf8());
    f.write("\n");
    return f.error() == QFile::NoError;
}

} // namespace Autostart

} // namespace route
