#include "store/database.h"

#include "util/logging.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>

#include <cstdio>

QString DatabaseConfig::describe() const
{
    if (kind == Kind::Sqlite)
        return path;
    return QStringLiteral("postgresql://%1@%2:%3/%4").arg(user, host).arg(port).arg(name);
}

Result<DatabaseConfig> DatabaseConfig::fromDsn(const QString &dsn)
{
    DatabaseConfig c;
    if (dsn.startsWith(QLatin1String("postgres://")) || dsn.startsWith(QLatin1String("postgresql://"))) {
        const QUrl url(dsn, QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty())
            return Result<DatabaseConfig>::failure(
                QObject::tr("invalid PostgreSQL address: %1").arg(url.toString(QUrl::RemovePassword)));
        c.kind = Kind::Postgres;
        c.host = url.host();
        c.port = url.port(5432);
        c.user = url.userName();
        c.password = url.password();
        c.name = url.path().mid(1);
        return c;
    }
    QString path = dsn;
    if (path.startsWith(QLatin1String("sqlite:")))
        path = path.mid(7);
    if (path.isEmpty())
        return Result<DatabaseConfig>::failure(QObject::tr("empty database path"));
    c.path = QFileInfo(path).absoluteFilePath();
    return c;
}

Result<std::shared_ptr<DbConnection>> DbConnection::open(
    const DatabaseConfig &config, const QString &purpose, int busyTimeoutMs)
{
    using R = Result<std::shared_ptr<DbConnection>>;
    static QAtomicInteger<int> counter;
    std::shared_ptr<DbConnection> conn(new DbConnection);
    conn->m_name = QStringLiteral("route-%1-%2").arg(purpose).arg(counter.fetchAndAddRelaxed(1));

    if (config.kind == DatabaseConfig::Kind::Postgres) {
        conn->m_db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), conn->m_name);
        conn->m_db.setHostName(config.host);
        conn->m_db.setPort(config.port);
        conn->m_db.setUserName(config.user);
        conn->m_db.setPassword(config.password);
        conn->m_db.setDatabaseName(config.name);
        if (!conn->m_db.isValid())
            return R::failure(QObject::tr("the PostgreSQL driver (QPSQL) is not installed"));
        if (!conn->m_db.open())
            return R::failure(
                QObject::tr("cannot open database %1: %2").arg(config.describe(), conn->m_db.lastError().text()));
        // "relation already exists, skipping" and the like are not for the user.
        QSqlQuery(conn->m_db).exec(QStringLiteral("SET client_min_messages TO warning"));
        return conn;
    }

    // The file holds API keys: a new folder and a new file are for the owner
    // only (SQLite gives the -wal and -shm files the same mode).
    const QFileInfo file(config.path);
    const bool created = !file.exists();
    if (!file.dir().exists()) {
        if (!QDir().mkpath(file.absolutePath()))
            return R::failure(QObject::tr("cannot create folder %1").arg(file.absolutePath()));
        QFile::setPermissions(file.absolutePath(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    }
    conn->m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), conn->m_name);
    if (!conn->m_db.isValid())
        return R::failure(QObject::tr("the SQLite driver (QSQLITE) is not installed"));
    conn->m_db.setDatabaseName(config.path);
    conn->m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(busyTimeoutMs));
    if (!conn->m_db.open())
        return R::failure(QObject::tr("cannot open database %1: %2").arg(config.path, conn->m_db.lastError().text()));

    // Reading the schema proves the file is a database, not just a file.
    QSqlQuery q(conn->m_db);
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")))
        return R::failure(QObject::tr("cannot read database %1: %2").arg(config.path, q.lastError().text()));
    q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
    if (created)
        QFile::setPermissions(config.path, QFile::ReadOwner | QFile::WriteOwner);
    return conn;
}

DbConnection::~DbConnection()
{
    if (m_db.isOpen())
        m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_name);
}

bool DbConnection::isPostgres() const
{
    return m_db.driverName() == QLatin1String("QPSQL");
}

namespace DbTime {

QString format(const QDateTime &t)
{
    if (!t.isValid())
        return QString();
    // By hand: QDateTime::toString with a format goes through the calendar
    // and locale machinery, ~10 µs per record written.
    const QDateTime utc = t.toUTC();
    const QDate d = utc.date();
    const QTime time = utc.time();
    char text[48];
    const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00:00", d.year(), d.month(),
        d.day(), time.hour(), time.minute(), time.second(), time.msec());
    return QString::fromLatin1(text, qBound(0, n, int(sizeof text) - 1));
}

QDateTime parse(const QVariant &v)
{
    if (v.isNull())
        return {};
    if (v.metaType().id() == QMetaType::QDateTime)
        return v.toDateTime();
    QString s = v.toString().trimmed();
    if (s.isEmpty())
        return {};
    // Go writes nanoseconds and a numeric zone; Qt's ISO parser wants at most
    // milliseconds and a 'T'.
    s.replace(QLatin1Char(' '), QLatin1Char('T'));
    static const QRegularExpression fraction(QStringLiteral("\\.(\\d{3})\\d+"));
    s.replace(fraction, QStringLiteral(".\\1"));
    // Times written without a zone are ours or hand-written: read them as UTC.
    static const QRegularExpression zone(QStringLiteral("(Z|[+-]\\d{2}:?\\d{2})$"));
    if (!zone.match(s).hasMatch())
        s += QLatin1Char('Z');
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(s, Qt::ISODate);
    return t;
}

QVariant now()
{
    return format(QDateTime::currentDateTimeUtc());
}

} // namespace DbTime
