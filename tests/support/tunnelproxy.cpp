#include "tunnelproxy.h"

#include <QTcpServer>
#include <QTcpSocket>

// One client connection: the handshake, then bytes both ways.
class Tunnel : public QObject
{
public:
    Tunnel(TunnelProxy *owner, QTcpSocket *client) : m_owner(owner), m_client(client)
    {
        client->setParent(this);
        connect(client, &QTcpSocket::readyRead, this, &Tunnel::onClientData);
        connect(client, &QTcpSocket::disconnected, this, &Tunnel::close);
    }

private:
    enum class Step { Greeting, Auth, Request, Open };

    void onClientData()
    {
        m_in += m_client->readAll();
        if (m_step == Step::Open) {
            flushToTarget();
            return;
        }
        if (m_owner->m_kind == TunnelProxy::Kind::HttpConnect)
            readConnect();
        else
            readSocks();
    }

    void readConnect()
    {
        const qsizetype end = m_in.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QList<QByteArray> lines = m_in.left(end).split('\n');
        m_in.remove(0, end + 4);
        const QList<QByteArray> request = lines.first().trimmed().split(' ');
        if (request.size() != 3 || request[0] != "CONNECT") {
            reply("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        if (!m_owner->m_user.isEmpty()) {
            const QByteArray expected
                = "Basic " + (m_owner->m_user + QLatin1Char(':') + m_owner->m_password).toUtf8().toBase64();
            bool ok = false;
            for (const QByteArray &line : lines)
                if (line.toLower().startsWith("proxy-authorization:") && line.mid(20).trimmed() == expected)
                    ok = true;
            if (!ok) {
                // As squid does: the connection stays for the next try, with credentials.
                m_owner->noteRefusal();
                m_client->write("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
                                "realm=\"test\"\r\nContent-Length: 0\r\n\r\n");
                if (!m_in.isEmpty())
                    readConnect();
                return;
            }
        }
        const QByteArray target = request[1];
        const qsizetype colon = target.lastIndexOf(':');
        open(QString::fromLatin1(target.left(colon)), quint16(target.mid(colon + 1).toUInt()));
    }

    void readSocks()
    {
        if (m_step == Step::Greeting) {
            if (m_in.size() < 2 || m_in.size() < 2 + quint8(m_in[1]))
                return;
            const QByteArray methods = m_in.mid(2, quint8(m_in[1]));
            m_in.remove(0, 2 + methods.size());
            const char wanted = m_owner->m_user.isEmpty() ? 0x00 : 0x02;
            if (!methods.contains(wanted)) {
                m_owner->noteRefusal();
                reply(QByteArray("\x05\xff", 2));
                return;
            }
            m_client->write(QByteArray("\x05", 1) + wanted);
            m_step = wanted == 0x02 ? Step::Auth : Step::Request;
        }
        if (m_step == Step::Auth) {
            if (m_in.size() < 2 || m_in.size() < 3 + quint8(m_in[1]))
                return;
            const int userLength = quint8(m_in[1]);
            const int passwordLength = quint8(m_in[2 + userLength]);
            if (m_in.size() < 3 + userLength + passwordLength)
                return;
            const QString user = QString::fromUtf8(m_in.mid(2, userLength));
            const QString password = QString::fromUtf8(m_in.mid(3 + userLength, passwordLength));
            m_in.remove(0, 3 + userLength + passwordLength);
            if (user != m_owner->m_user || password != m_owner->m_password) {
                m_owner->noteRefusal();
                reply(QByteArray("\x01\x01", 2));
                return;
            }
            m_client->write(QByteArray("\x01\x00", 2));
            m_step = Step::Request;
        }
        if (m_step == Step::Request) {
            if (m_in.size() < 5)
                return;
            const char type = m_in[3];
            QString host;
            qsizetype at = 4;
            if (type == 0x01) { // IPv4
                if (m_in.size() < 10)
                    return;
                host = QStringLiteral("%1.%2.%3.%4")
                           .arg(quint8(m_in[4]))
                           .arg(quint8(m_in[5]))
                           .arg(quint8(m_in[6]))
                           .arg(quint8(m_in[7]));
                at = 8;
            } else if (type == 0x03) { // a name: the proxy resolves it
                const int length = quint8(m_in[4]);
                if (m_in.size() < 5 + length + 2)
                    return;
                host = QString::fromLatin1(m_in.mid(5, length));
                at = 5 + length;
            } else {
                reply(QByteArray("\x05\x08\x00\x01\0\0\0\0\0\0", 10));
                return;
            }
            const quint16 port = quint16((quint8(m_in[at]) << 8) | quint8(m_in[at + 1]));
            m_in.remove(0, at + 2);
            open(host, port);
        }
    }

    void open(const QString &host, quint16 port)
    {
        m_owner->noteTarget(host + QLatin1Char(':') + QString::number(port));
        m_target = new QTcpSocket(this);
        connect(m_target, &QTcpSocket::connected, this, [this] {
            m_step = Step::Open;
            if (m_owner->m_kind == TunnelProxy::Kind::HttpConnect)
                m_client->write("HTTP/1.1 200 Connection established\r\n\r\n");
            else
                m_client->write(QByteArray("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00", 10));
            flushToTarget();
        });
        connect(m_target, &QTcpSocket::readyRead, this, [this] { m_client->write(m_target->readAll()); });
        connect(m_target, &QTcpSocket::disconnected, this, &Tunnel::close);
        connect(m_target, &QTcpSocket::errorOccurred, this, [this] {
            if (m_step != Step::Open)
                reply(m_owner->m_kind == TunnelProxy::Kind::HttpConnect
                        ? QByteArray("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        : QByteArray("\x05\x05\x00\x01\0\0\0\0\0\0", 10));
        });
        m_target->connectToHost(QHostAddress::LocalHost, port);
    }

    void flushToTarget()
    {
        if (m_target && !m_in.isEmpty()) {
            m_target->write(m_in);
            m_in.clear();
        }
    }

    void reply(const QByteArray &bytes)
    {
        m_client->write(bytes);
        m_client->disconnectFromHost();
    }

    void close()
    {
        if (m_closed)
            return;
        m_closed = true;
        m_client->disconnectFromHost();
        if (m_target)
            m_target->disconnectFromHost();
        deleteLater();
    }

    TunnelProxy *m_owner;
    QTcpSocket *m_client;
    QTcpSocket *m_target = nullptr;
    QByteArray m_in;
    Step m_step = Step::Greeting;
    bool m_closed = false;
};

class TunnelProxyServer : public QObject
{
public:
    explicit TunnelProxyServer(TunnelProxy *owner) : m_owner(owner), m_server(this)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                new Tunnel(m_owner, s);
        });
    }
    quint16 listen() { return m_server.listen(QHostAddress::LocalHost, 0) ? m_server.serverPort() : 0; }

private:
    TunnelProxy *m_owner;
    QTcpServer m_server;
};

TunnelProxy::TunnelProxy(Kind kind, const QString &user, const QString &password)
    : m_kind(kind), m_user(user), m_password(password)
{
    auto *server = new TunnelProxyServer(this);
    server->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, server, &QObject::deleteLater);
    m_thread.start();
    QMetaObject::invokeMethod(
        server, [this, server] { m_port = server->listen(); }, Qt::BlockingQueuedConnection);
}

TunnelProxy::~TunnelProxy()
{
    m_thread.quit();
    m_thread.wait();
}

QString TunnelProxy::url() const
{
    const QString scheme = m_kind == Kind::HttpConnect ? QStringLiteral("http") : QStringLiteral("socks5");
    const QString credentials
        = m_user.isEmpty() ? QString() : m_user + QLatin1Char(':') + m_password + QLatin1Char('@');
    return scheme + QStringLiteral("://") + credentials + QStringLiteral("127.0.0.1:") + QString::number(m_port);
}

QStringList TunnelProxy::targets() const
{
    QMutexLocker lock(&m_mutex);
    return m_targets;
}

int TunnelProxy::refusals() const
{
    QMutexLocker lock(&m_mutex);
    return m_refusals;
}

void TunnelProxy::noteTarget(const QString &target)
{
    QMutexLocker lock(&m_mutex);
    m_targets << target;
}

void TunnelProxy::noteRefusal()
{
    QMutexLocker lock(&m_mutex);
    ++m_refusals;
}
