#include "net/peerprocess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QMutex>
#include <QRunnable>
#include <QThreadPool>

#include <algorithm>
#include <functional>

namespace route {

namespace PeerProcess {

namespace {

// "0100007F:1F90" (IPv4) or 32 hex digits and a port (IPv6): the kernel
// writes each 32-bit word of the address in host (little-endian) order.
bool parseEndpoint(QByteArrayView hex, QHostAddress *address, quint16 *port)
{
    const qsizetype colon = hex.indexOf(':');
    if (colon != 8 && colon != 32)
        return false;
    bool ok = false;
    *port = quint16(hex.sliced(colon + 1).toByteArray().toUInt(&ok, 16));
    if (!ok)
        return false;
    quint8 bytes[16];
    for (qsizetype word = 0; word < colon / 8; ++word) {
        const quint32 v = hex.sliced(word * 8, 8).toByteArray().toUInt(&ok, 16);
        if (!ok)
            return false;
        for (int b = 0; b < 4; ++b)
            bytes[word * 4 + b] = quint8(v >> (8 * b));
    }
    if (colon == 8)
        *address = QHostAddress(quint32(bytes[0]) << 24 | quint32(bytes[1]) << 16 | quint32(bytes[2]) << 8 | bytes[3]);
    else
        *address = QHostAddress(bytes);
    return true;
}

bool sameAddress(const QHostAddress &a, const QHostAddress &b)
{
    return a.isEqual(b, QHostAddress::TolerantConversion);
}

// The inode of the socket whose local end is CLIENT:PORT and remote end SERVER:PORT.
QByteArray socketInode(const QHostAddress &client, quint16 clientPort, const QHostAddress &server, quint16 serverPort)
{
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile file(QString::fromLatin1(table));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        file.readLine(); // the header
        while (!file.atEnd()) {
            const QList<QByteArray> f = file.readLine().simplified().split(' ');
            if (f.size() < 10)
                continue;
            QHostAddress local, remote;
            quint16 localPort = 0, remotePort = 0;
            if (!parseEndpoint(f[1], &local, &localPort) || localPort != clientPort
                || !parseEndpoint(f[2], &remote, &remotePort) || remotePort != serverPort)
                continue;
            if (sameAddress(local, client) && sameAddress(remote, server))
                return f[9];
        }
    }
    return QByteArray();
}

QString nameOf(const QString &pid)
{
    const QString exe = QFileInfo(QStringLiteral("/proc/%1/exe").arg(pid)).symLinkTarget();
    if (!exe.isEmpty())
        return QFileInfo(exe).fileName().remove(QStringLiteral(" (deleted)"));
    QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
    return comm.open(QIODevice::ReadOnly) ? QString::fromUtf8(comm.readAll().trimmed()) : QString();
}

// The processes holding the sockets WANTED (inode → name, filled in), in
// one walk over every process's fds; our own process is skipped, since it
// holds the other end of every loopback connection to itself.
void ownersOf(QHash<QByteArray, QString> &wanted)
{
    if (wanted.isEmpty())
        return;
    const QString self = QString::number(QCoreApplication::applicationPid());
    // Newest first: a short-lived client (curl, a script) has one of the
    // highest PIDs, and must be found before it exits.
    QList<qint64> pids;
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool ok = false;
        const qint64 pid = entry.toLongLong(&ok);
        if (ok && entry != self)
            pids << pid;
    }
    std::sort(pids.begin(), pids.end(), std::greater<>());
    qsizetype open = wanted.size();
    for (const qint64 number : std::as_const(pids)) {
        const QString pid = QString::number(number);
        const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
        const QStringList entries = fds.entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot);
        QString name;
        for (const QString &fd : entries) {
            const QString target = QFile::symLinkTarget(fds.filePath(fd));
            const qsizetype at = target.indexOf(QLatin1String("socket:["));
            if (at < 0)
                continue;
            const QByteArray inode = target.mid(at + 8).chopped(1).toLatin1();
            auto it = wanted.find(inode);
            if (it == wanted.end() || !it->isEmpty())
                continue;
            if (name.isEmpty())
                name = nameOf(pid);
            *it = name;
            if (--open == 0)
                return;
        }
    }
}

// Connections come in bursts (a benchmark opens hundreds at once): the
// lookups queue up here, and one job on the pool answers all that are
// queued with one read of the socket tables and one walk over /proc.
class Resolver
{
public:
    struct Pending
    {
        std::shared_ptr<LateText> text;
        QHostAddress client, server;
        quint16 clientPort, serverPort;
    };

    static Resolver &instance()
    {
        static Resolver resolver;
        return resolver;
    }

    void add(Pending p)
    {
        QMutexLocker lock(&m_mutex);
        m_queue << std::move(p);
        if (m_running)
            return;
        m_running = true;
        QThreadPool::globalInstance()->start([this] { run(); });
    }

private:
    void run()
    {
        for (;;) {
            QList<Pending> batch;
            {
                QMutexLocker lock(&m_mutex);
                batch.swap(m_queue);
                if (batch.isEmpty()) {
                    m_running = false;
                    return;
                }
            }
            QHash<QByteArray, QString> owners;
            QList<QByteArray> inodes;
            for (const Pending &p : std::as_const(batch)) {
                const QByteArray inode = socketInode(p.client, p.clientPort, p.server, p.serverPort);
                inodes << inode;
                if (!inode.isEmpty() && inode != "0")
                    owners.insert(inode, QString());
            }
            ownersOf(owners);
            for (qsizetype i = 0; i < batch.size(); ++i)
                batch[i].text->set(owners.value(inodes[i]));
        }
    }

    QMutex m_mutex;
    QList<Pending> m_queue;
    bool m_running = false;
};

} // namespace

QString lookup(const QHostAddress &client, quint16 clientPort, const QHostAddress &server, quint16 serverPort)
{
#ifdef Q_OS_LINUX
    const QByteArray inode = socketInode(client, clientPort, server, serverPort);
    if (inode.isEmpty() || inode == "0")
        return QString();
    QHash<QByteArray, QString> owners{{inode, QString()}};
    ownersOf(owners);
    return owners.value(inode);
#else
    Q_UNUSED(client)
    Q_UNUSED(clientPort)
    Q_UNUSED(server)
    Q_UNUSED(serverPort)
    return QString();
#endif
}

std::shared_ptr<const LateText> lookupLater(
    const QHostAddress &client, quint16 clientPort, const QHostAddress &server, quint16 serverPort)
{
    auto text = std::make_shared<LateText>();
#ifdef Q_OS_LINUX
    Resolver::instance().add({text, client, server, clientPort, serverPort});
#else
    Q_UNUSED(client)
    Q_UNUSED(clientPort)
    Q_UNUSED(server)
    Q_UNUSED(serverPort)
#endif
    return text;
}

QString productOf(QByteArrayView userAgent)
{
    const QByteArrayView ua = userAgent.trimmed();
    qsizetype end = 0;
    while (end < ua.size() && ua[end] != ' ' && ua[end] != '/' && ua[end] != ';' && ua[end] != '(')
        ++end;
    // "OpenAI/JS 6.49.0": a product with a slash and no version digit after it.
    if (end < ua.size() && ua[end] == '/' && end + 1 < ua.size() && !QChar::isDigit(uchar(ua[end + 1]))) {
        qsizetype next = end + 1;
        while (next < ua.size() && ua[next] != ' ' && ua[next] != '/')
            ++next;
        end = next;
    }
    return QString::fromUtf8(ua.first(qMin<qsizetype>(end, 60)));
}

} // namespace PeerProcess

} // namespace route
