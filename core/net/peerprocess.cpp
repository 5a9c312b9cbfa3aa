#include "net/peerprocess.h"

#include "util/batchscheduling.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QMutex>
#include <QRunnable>
#include <QThreadPool>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#ifdef Q_OS_LINUX
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace route {

namespace PeerProcess {

#ifdef Q_OS_LINUX
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

// One connection to name: its client's and server's ends, and what was found.
struct Wanted
{
    QHostAddress client, server;
    quint16 clientPort = 0, serverPort = 0;
    QByteArray inode; // of the client's socket; empty until found
    QString name;
};

// The first TEN space-separated fields of LINE, as views into it.
int fieldsOf(QByteArrayView line, QByteArrayView (&fields)[10])
{
    int count = 0;
    qsizetype i = 0;
    while (count < 10 && i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        const qsizetype start = i;
        while (i < line.size() && line[i] != ' ')
            ++i;
        if (i > start)
            fields[count++] = line.sliced(start, i - start);
    }
    return count;
}

// The port of "ADDRESS:PORT" in hex, or -1.
int portOf(QByteArrayView endpoint)
{
    const qsizetype colon = endpoint.indexOf(':');
    if (colon < 0 || endpoint.size() - colon - 1 != 4)
        return -1;
    int port = 0;
    for (char c : endpoint.sliced(colon + 1)) {
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0)
            return -1;
        port = port * 16 + digit;
    }
    return port;
}

// The whole of a /proc file, read in large pieces: the kernel walks the
// socket table from its start again for every read() of /proc/net/tcp, so
// QFile's small reads made one read of the table quadratic in its size.
QByteArray readProcFile(const char *path)
{
    QByteArray all;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return all;
    constexpr qsizetype piece = 256 * 1024;
    for (;;) {
        const qsizetype at = all.size();
        all.resize(at + piece);
        const ssize_t got = ::read(fd, all.data() + at, piece);
        all.resize(at + qMax<ssize_t>(got, 0));
        if (got <= 0)
            break;
    }
    ::close(fd);
    return all;
}

// The socket inodes of the connections in WANTED, from /proc/net/tcp{,6}
// (when netlink is not there): one read of each table, which holds a line
// for every TCP socket of the machine; a line is parsed further only when
// both its ports are those of a wanted connection.
void inodesFromProcNet(QList<Wanted> &wanted)
{
    QHash<quint32, QList<qsizetype>> byPorts; // client port << 16 | server port → wanted
    for (qsizetype i = 0; i < wanted.size(); ++i)
        byPorts[quint32(wanted[i].clientPort) << 16 | wanted[i].serverPort] << i;
    qsizetype open = wanted.size();
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        const QByteArray all = readProcFile(table);
        QByteArrayView rest(all);
        rest = rest.sliced(qMin(rest.size(), rest.indexOf('\n') + 1)); // the header
        while (!rest.isEmpty() && open > 0) {
            const qsizetype end = rest.indexOf('\n');
            const QByteArrayView line = end < 0 ? rest : rest.first(end);
            rest = end < 0 ? QByteArrayView() : rest.sliced(end + 1);
            QByteArrayView f[10];
            if (fieldsOf(line, f) < 10)
                continue;
            const int localPort = portOf(f[1]);
            const int remotePort = portOf(f[2]);
            if (localPort < 0 || remotePort < 0)
                continue;
            const auto candidates = byPorts.constFind(quint32(localPort) << 16 | quint32(remotePort));
            if (candidates == byPorts.constEnd())
                continue;
            QHostAddress local, remote;
            quint16 lp = 0, rp = 0;
            if (!parseEndpoint(f[1], &local, &lp) || !parseEndpoint(f[2], &remote, &rp))
                continue;
            for (qsizetype i : *candidates) {
                Wanted &w = wanted[i];
                if (w.inode.isEmpty() && sameAddress(local, w.client) && sameAddress(remote, w.server) && f[9] != "0") {
                    w.inode = f[9].toByteArray();
                    --open;
                }
            }
        }
    }
}

// Fills DIAG's address with A, as the kernel keeps it for FAMILY.
bool putAddress(const QHostAddress &a, int family, __be32 (&out)[4])
{
    std::memset(out, 0, sizeof out);
    bool isV4 = false;
    const quint32 v4 = a.toIPv4Address(&isV4);
    if (family == AF_INET) {
        if (!isV4)
            return false;
        out[0] = htonl(v4);
        return true;
    }
    const Q_IPV6ADDR v6
        = isV4 ? QHostAddress(QStringLiteral("::ffff:%1").arg(a.toString())).toIPv6Address() : a.toIPv6Address();
    std::memcpy(out, v6.c, sizeof out);
    return true;
}

// Asks the kernel for the one socket whose local end is CLIENT:PORT and
// remote end SERVER:PORT (sock_diag, as `ss` does): its inode, or empty.
QByteArray inodeByNetlink(int nl, const Wanted &w, int family, quint32 sequence)
{
    struct
    {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.header.nlmsg_seq = sequence;
    message.request.sdiag_family = quint8(family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    message.request.id.idiag_sport = htons(w.clientPort);
    message.request.id.idiag_dport = htons(w.serverPort);
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    if (!putAddress(w.client, family, message.request.id.idiag_src)
        || !putAddress(w.server, family, message.request.id.idiag_dst))
        return QByteArray();
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(nl, &message, sizeof message, 0, reinterpret_cast<sockaddr *>(&kernel), sizeof kernel) < 0)
        return QByteArray();
    alignas(nlmsghdr) char answer[8192];
    for (;;) {
        const ssize_t got = ::recv(nl, answer, sizeof answer, 0);
        if (got <= 0)
            return QByteArray();
        int left = int(got);
        for (auto *h = reinterpret_cast<nlmsghdr *>(answer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != sequence)
                continue; // an answer to an earlier question that timed out
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
                return QByteArray(); // NLMSG_ERROR (no such socket) or NLMSG_DONE
            const auto *diag = static_cast<const inet_diag_msg *>(NLMSG_DATA(h));
            return diag->idiag_inode ? QByteArray::number(diag->idiag_inode) : QByteArray();
        }
    }
}

// The socket inodes of every connection in WANTED, one question to the
// kernel each; false when netlink cannot be used here.
bool inodesFromNetlink(QList<Wanted> &wanted)
{
    const int nl = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return false;
    timeval timeout{1, 0}; // a kernel that does not answer must not hold the lookups
    ::setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    quint32 sequence = 0;
    for (Wanted &w : wanted) {
        // The client's socket is IPv4 unless it connected over IPv6 itself;
        // an IPv6 socket may also have reached an IPv4 address, mapped.
        bool isV4 = false;
        w.client.toIPv4Address(&isV4);
        w.inode = inodeByNetlink(nl, w, isV4 ? AF_INET : AF_INET6, ++sequence);
        if (w.inode.isEmpty() && isV4)
            w.inode = inodeByNetlink(nl, w, AF_INET6, ++sequence);
    }
    ::close(nl);
    return true;
}

void findInodes(QList<Wanted> &wanted, SocketTable table)
{
    if (table == SocketTable::ProcNet || !inodesFromNetlink(wanted))
        inodesFromProcNet(wanted);
}

QString nameOf(qint64 pid)
{
    const QString exe = QFileInfo(QStringLiteral("/proc/%1/exe").arg(pid)).symLinkTarget();
    if (!exe.isEmpty())
        return QFileInfo(exe).fileName().remove(QStringLiteral(" (deleted)"));
    QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
    return comm.open(QIODevice::ReadOnly) ? QString::fromUtf8(comm.readAll().trimmed()) : QString();
}

// Every process's PID but ours, newest first: a short-lived client (curl,
// a script) has one of the highest PIDs, and must be found before it exits.
// Our own process holds the other end of every loopback connection to itself.
QList<qint64> processes()
{
    QList<qint64> pids;
    const qint64 self = QCoreApplication::applicationPid();
    DIR *proc = opendir("/proc");
    if (!proc)
        return pids;
    while (const dirent *entry = readdir(proc)) {
        char *end = nullptr;
        const qint64 pid = std::strtoll(entry->d_name, &end, 10);
        if (end && *end == '\0' && pid > 0 && pid != self)
            pids << pid;
    }
    closedir(proc);
    std::sort(pids.begin(), pids.end(), std::greater<>());
    return pids;
}

// Names the owner of every socket in INODES (inode → wanted) that PID
// holds; how many it named. Reads the links in /proc/PID/fd straight
// through POSIX: QDir and QFile stat every entry and resolve every link
// twice, which multiplied over all processes' descriptors made a lookup
// cost milliseconds.
qsizetype nameOwnersIn(qint64 pid, QHash<QByteArray, QList<qsizetype>> &inodes, QList<Wanted> &wanted)
{
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%lld/fd", static_cast<long long>(pid));
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    qsizetype named = 0;
    QString name;
    char target[64];
    constexpr char prefix[] = "socket:[";
    constexpr qsizetype prefixSize = sizeof prefix - 1;
    while (const dirent *entry = readdir(dir)) {
        if (entry->d_name[0] == '.')
            continue;
        const ssize_t size = readlinkat(dirfd(dir), entry->d_name, target, sizeof target);
        if (size <= prefixSize + 1 || size >= ssize_t(sizeof target) || std::memcmp(target, prefix, prefixSize) != 0)
            continue;
        const QByteArray inode = QByteArray::fromRawData(target + prefixSize, size - prefixSize - 1);
        const auto it = inodes.find(inode);
        if (it == inodes.end())
            continue;
        if (name.isEmpty())
            name = nameOf(pid);
        for (qsizetype i : std::as_const(*it))
            wanted[i].name = name;
        named += it->size();
        inodes.erase(it);
    }
    closedir(dir);
    return named;
}

// Names the owner of every connection in WANTED whose inode was found:
// first among RECENT (the processes that were clients lately: the same
// agent opens connection after connection), then in a walk over every
// process. RECENT gets the owners found, most recent first.
void findOwners(QList<Wanted> &wanted, QList<qint64> &recent)
{
    QHash<QByteArray, QList<qsizetype>> inodes;
    for (qsizetype i = 0; i < wanted.size(); ++i)
        if (!wanted[i].inode.isEmpty())
            inodes[wanted[i].inode] << i;
    QList<qint64> owners;
    const auto search = [&](qint64 pid) {
        if (nameOwnersIn(pid, inodes, wanted) > 0)
            owners << pid;
        return inodes.isEmpty();
    };
    bool done = inodes.isEmpty();
    for (qsizetype i = 0; !done && i < recent.size(); ++i)
        done = search(recent[i]);
    if (!done)
        for (const qint64 pid : processes())
            if (!recent.contains(pid) && search(pid))
                break;
    constexpr qsizetype recentKept = 16;
    for (qint64 pid : std::as_const(recent))
        if (owners.size() < recentKept && !owners.contains(pid))
            owners << pid;
    recent = owners;
}

// The names of the connections in WANTED; RECENT as in findOwners().
void resolve(QList<Wanted> &wanted, QList<qint64> &recent, SocketTable table = SocketTable::Netlink)
{
    findInodes(wanted, table);
    findOwners(wanted, recent);
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
        BatchScheduling yield; // a burst of new connections is served first
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
            QList<Wanted> wanted;
            wanted.reserve(batch.size());
            for (const Pending &p : std::as_const(batch))
                wanted.append({p.client, p.server, p.clientPort, p.serverPort, {}, {}});
            resolve(wanted, m_recentOwners);
            for (qsizetype i = 0; i < batch.size(); ++i)
                batch[i].text->set(wanted[i].name);
        }
    }

    QMutex m_mutex;
    QList<Pending> m_queue;
    bool m_running = false;
    QList<qint64> m_recentOwners; // the running job's only
};

} // namespace
#endif // Q_OS_LINUX

QString lookup(
    const QHostAddress &client, quint16 clientPort, const QHostAddress &server, quint16 serverPort, SocketTable table)
{
#ifdef Q_OS_LINUX
    QList<Wanted> wanted{{client, server, clientPort, serverPort, {}, {}}};
    QList<qint64> recent;
    resolve(wanted, recent, table);
    return wanted.first().name;
#else
    Q_UNUSED(client)
    Q_UNUSED(clientPort)
    Q_UNUSED(server)
    Q_UNUSED(serverPort)
    Q_UNUSED(table)
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
