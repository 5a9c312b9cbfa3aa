#include "pgcluster.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QtDebug>

#include <unistd.h>

namespace {

// Debian keeps the server's programs out of PATH, under a version folder.
QString findBinDir()
{
    const QString fromPath = QStandardPaths::findExecutable(QStringLiteral("initdb"));
    if (!fromPath.isEmpty())
        return QFileInfo(QFileInfo(fromPath).canonicalFilePath()).absolutePath(); // a link in /usr/local/bin
    QDir versions(QStringLiteral("/usr/lib/postgresql"));
    QStringList found = versions.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    std::sort(found.begin(), found.end(), [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
    for (const QString &v : std::as_const(found))
        if (QFile::exists(versions.filePath(v + QStringLiteral("/bin/initdb"))))
            return versions.filePath(v + QStringLiteral("/bin"));
    return QString();
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

} // namespace

PgCluster::PgCluster()
{
    m_bin = findBinDir();
    if (m_bin.isEmpty()) {
        m_error = QStringLiteral("PostgreSQL's initdb was not found (scripts/deps.sh installs postgresql)");
        return;
    }
    m_dir = std::make_unique<QTemporaryDir>();
    m_data = m_dir->filePath(QStringLiteral("data"));
    m_asPostgresUser = ::geteuid() == 0;
    if (m_asPostgresUser) {
        // initdb will not run as root: the cluster belongs to Debian's postgres user.
        QFile::setPermissions(m_dir->path(), QFileDevice::Permissions(0x7755));
        if (!run(QStringLiteral("chown"), {QStringLiteral("postgres:postgres"), m_dir->path()}))
            return;
    }
    QFile pw(m_dir->filePath(QStringLiteral("pw")));
    pw.open(QIODevice::WriteOnly);
    pw.write(password);
    pw.close();
    if (m_asPostgresUser)
        run(QStringLiteral("chown"), {QStringLiteral("postgres:postgres"), pw.fileName()});
    if (!run(tool(QStringLiteral("initdb")),
            {QStringLiteral("-D"), m_data, QStringLiteral("-U"), QStringLiteral("route"), QStringLiteral("--pwfile"),
                pw.fileName(), QStringLiteral("-A"), QStringLiteral("scram-sha-256"), QStringLiteral("-E"),
                QStringLiteral("UTF8"), QStringLiteral("--no-sync")}))
        return;
    m_port = freePort();
    QFile conf(m_data + QStringLiteral("/postgresql.conf"));
    conf.open(QIODevice::Append);
    // fsync off: a test cluster need not survive a power cut; commits stay
    // synchronous, so an immediate stop (an outage) loses nothing committed.
    conf.write(QStringLiteral("listen_addresses = '127.0.0.1'\nport = %1\nunix_socket_directories = '%2'\n"
                              "fsync = off\nfull_page_writes = off\nmax_connections = 200\n")
                   .arg(m_port)
                   .arg(m_dir->path())
                   .toUtf8());
    conf.close();
    start();
}

PgCluster::~PgCluster()
{
    if (m_error.isEmpty() && !m_data.isEmpty())
        stop();
}

bool PgCluster::start()
{
    if (!run(tool(QStringLiteral("pg_ctl")),
            {QStringLiteral("-D"), m_data, QStringLiteral("-l"), m_dir->filePath(QStringLiteral("log")),
                QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("30"), QStringLiteral("start")}))
        return false;
    m_error.clear();
    return true;
}

bool PgCluster::stop()
{
    // pg_ctl stops the postmaster by the PID in its data folder.
    return run(tool(QStringLiteral("pg_ctl")),
        {QStringLiteral("-D"), m_data, QStringLiteral("-m"), QStringLiteral("immediate"), QStringLiteral("-w"),
            QStringLiteral("stop")});
}

QString PgCluster::createDatabase(const QString &name)
{
    if (!sql(QStringLiteral("postgres"), QStringLiteral("CREATE DATABASE \"%1\"").arg(name)))
        return QString();
    return QStringLiteral("postgresql://route:%1@127.0.0.1:%2/%3").arg(QLatin1String(password)).arg(m_port).arg(name);
}

bool PgCluster::sql(const QString &name, const QString &statement, QString *output)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PGPASSWORD"), QLatin1String(password));
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(tool(QStringLiteral("psql")),
        {QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-A"), QStringLiteral("-t"), QStringLiteral("-v"),
            QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
            QString::number(m_port), QStringLiteral("-U"), QStringLiteral("route"), QStringLiteral("-d"), name,
            QStringLiteral("-c"), statement});
    const bool ok = p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (output)
        *output = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    if (!ok)
        qWarning() << "psql failed:" << statement << p.exitCode() << p.errorString() << p.readAllStandardError()
                   << (output ? *output : QString());
    return ok;
}

bool PgCluster::run(const QString &program, const QStringList &args, QString *output, int timeoutMs)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    if (m_asPostgresUser && program.startsWith(m_bin)) {
        // runuser keeps the environment; the cluster's files are postgres's.
        p.start(QStringLiteral("runuser"),
            QStringList{QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--"), program} + args);
    } else {
        p.start(program, args);
    }
    const bool ok = p.waitForFinished(timeoutMs) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    if (output)
        *output = out;
    if (!ok)
        m_error = QStringLiteral("%1 failed: %2").arg(QFileInfo(program).fileName(), out.right(600));
    return ok;
}
