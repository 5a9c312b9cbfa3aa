#pragma once

#include <QObject>

class QLocalServer;

namespace route {

// One instance per database: the first one listens on a local socket named
// after the database; a second launch asks it to show itself and exits.
class SingleInstance final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SingleInstance)
public:
    explicit SingleInstance(const QString &databasePath, QObject *parent = nullptr);

    // True when this process is the first; otherwise the first was asked to
    // show its window.
    bool claim();
    QString serverName() const { return m_name; }

Q_SIGNALS:
    void activationRequested();

private:
    QString m_name;
    QLocalServer *m_server = nullptr;
};

} // namespace route
