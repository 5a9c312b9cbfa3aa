#pragma once

#include <QString>
#include <QTemporaryDir>

#include <memory>

// A private PostgreSQL server for one test program (SPEC §12 is tested
// against the real thing): Debian's initdb and pg_ctl, a cluster in a
// temporary folder owned by an unprivileged user (initdb refuses root),
// listening on a free port of 127.0.0.1 only, stopped and removed in the
// destructor. Each test takes a fresh database of its own.
class PgCluster
{
public:
    PgCluster();
    ~PgCluster();
    PgCluster(const PgCluster &) = delete;
    PgCluster &operator=(const PgCluster &) = delete;

    // Empty when the cluster runs, else what went wrong (no PostgreSQL
    // installed: scripts/deps.sh installs it).
    QString error() const { return m_error; }
    quint16 port() const { return m_port; }
    // A new, empty database; its DSN, postgresql://route:…@127.0.0.1:PORT/NAME.
    QString createDatabase(const QString &name);
    // psql -c SQL on database NAME; false (and a warning) when it failed.
    bool sql(const QString &name, const QString &sql, QString *output = nullptr);
    // Stops and starts the server (an outage in the middle of a test).
    bool stop();
    bool start();

    static constexpr const char *password = "route-test-pw";

private:
    bool run(const QString &program, const QStringList &args, QString *output = nullptr, int timeoutMs = 60000);
    QString tool(const QString &name) const { return m_bin + QLatin1Char('/') + name; }

    QString m_error;
    QString m_bin;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_data;
    quint16 m_port = 0;
    bool m_asPostgresUser = false;
};
