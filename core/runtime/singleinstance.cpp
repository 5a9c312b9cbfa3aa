#include "runtime/singleinstance.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>

namespace route {

SingleInstance::SingleInstance(const QString &databasePath, QObject *parent) : QObject(parent)
{
    const QByteArray hash
        = QCryptographicHash::hash(QFileInfo(databasePath).absoluteFilePath().toUtf8(), QCryptographicHash::Sha256)
              .toHex()
              .left(16);
    m_name = QStringLiteral("openai-api-route-") + QString::fromLatin1(hash);
}

bool SingleInstance::claim()
{
    QLocalSocket probe;
    probe.connectToServer(m_name);
    if (probe.waitForConnected(500)) {
        probe.write("show\n");
        probe.waitForBytesWritten(500);
        probe.disconnectFromServer();
        return false;
    }
    // No one answered: a socket file left by a crash is stale.
    QLocalServer::removeServer(m_name);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(m_name))
        return true; // cannot guard, but can still run
    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket *s = m_server->nextPendingConnection()) {
            connect(s, &QLocalSocket::readyRead, this, [this, s] {
                if (s->readAll().contains("show"))
                    Q_EMIT activationRequested();
                s->deleteLater();
            });
        }
    });
    return true;
}

} // namespace route
