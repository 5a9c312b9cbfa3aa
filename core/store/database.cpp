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

namespace route {

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
        // A host that does not answer is an error after 5 s, not a hang.
        conn->m_db.setConnectOptions(QStringLiteral("connect_timeout=5"));
        if (!conn->m_db.isValid())
            return R::failure(QObject::tr("the PostgreSQL driver (QPSQL) is not installed"));
        if (!conn->m_db.open())
            return R::failure(QObject::tr("cannot open database %1: %2").arg(config.describe(), conn->lastError()));
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

bool DbConnection::ensureOpen()
{
    if (!isPostgres())
        return true;
    if (m_db.isOpen() && QSqlQuery(m_db).exec(QStringLiteral("SELECT 1")))
        return true;
    m_db.close();
    if (!m_db.open())
        return false;
    QSqlQuery(m_db).exec(QStringLiteral("SET client_min_messages TO warning"));
    qCInfo(lcStore) << "connected again to" << m_db.hostName();
    return true;
}

QString DbConnection::lastError() const
{
    return oneLine(m_db.lastError());
}

QString oneLine(const QSqlError &e)
{
    const QString text = (e.databaseText().isEmpty() ? e.text() : e.databaseText()).simplified();
    return text.isEmpty() ? QStringLiteral("the connection is closed") : text;
}

bool DbConnection::isPostgres() const
{
    return m_db.driverName() == QLatin1String("QPSQL");
}

namespace DbTime {

namespace {

// The UTC calendar date of a day count since 1970-01-01 (Howard Hinnant's
// civil_from_days): exact for the proleptic Gregorian calendar Qt uses.
void civilFromDays(qint64 days, qint64 *year, int *month, int *day)
{
    days += 719468;
    const qint64 era = (days >= 0 ? days : days - 146096) / 146097;
    const qint64 dayOfEra = days - era * 146097;
    const qint64 yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
    const qint64 dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    const qint64 shiftedMonth = (5 * dayOfYear + 2) / 153;
    *day = int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1);
    *month = int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9);
    *year = yearOfEra + era * 400 + (*month <= 2 ? 1 : 0);
}

void putDigits(char *&out, qint64 value, int width)
{
    for (int i = width - 1; i >= 0; --i) {
        out[i] = char('0' + value % 10);
        value /= 10;
    }
    out += width;
}

} // namespace

int formatTo(const QDateTime &t, char (&text)[maxFormatted])
{
    if (!t.isValid())
        return -1;
    // By hand, from the epoch milliseconds: QDateTime::toString with a format
    // goes through the calendar and locale machinery (~10 µs per record
    // written), and even the UTC conversion and snprintf showed in profiles.
    constexpr qint64 msPerDay = 24 * 3600 * 1000;
    const qint64 ms = t.toMSecsSinceEpoch();
    const qint64 days = ms >= 0 ? ms / msPerDay : -((-ms + msPerDay - 1) / msPerDay);
    const qint64 msOfDay = ms - days * msPerDay;
    qint64 year = 0;
    int month = 0;
    int day = 0;
    civilFromDays(days, &year, &month, &day);
    if (year < 0 || year > 9999)
        return -1;
    char *out = text;
    const auto put = [&out](char c) { *out++ = c; };
    putDigits(out, year, 4);
    put('-');
    putDigits(out, month, 2);
    put('-');
    putDigits(out, day, 2);
    put(' ');
    putDigits(out, msOfDay / 3600000, 2);
    put(':');
    putDigits(out, msOfDay / 60000 % 60, 2);
    put(':');
    putDigits(out, msOfDay / 1000 % 60, 2);
    put('.');
    putDigits(out, msOfDay % 1000, 3);
    for (char c : "+00:00")
        if (c)
            put(c);
    return int(out - text);
}

QString format(const QDateTime &t)
{
    if (!t.isValid())
        return QString();
    char text[maxFormatted];
    const int size = formatTo(t, text);
    if (size < 0)
        return t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz+00:00"));
    return QString::fromLatin1(text, size);
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

} // namespace route
