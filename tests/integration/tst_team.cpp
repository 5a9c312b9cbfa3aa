// Team mode behind a real load balancer (SPEC §12): three instances of the
// binary on one private PostgreSQL, Debian's nginx in front with the
// shipped packaging/team-nginx.conf, a steady load, and one instance killed
// with SIGKILL in the middle of it.
#include "fakeupstream.h"
#include "pgcluster.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>
#include <vector>

namespace {

constexpr int kInstances = 3;
constexpr int kRatePerSecond = 50;
constexpr int kLoadMs = 20000;
constexpr int kKillAtMs = 6000;
constexpr int kUpstreamDelayMs = 100; // so that some requests are in flight at any time
const QByteArray kToken = "sk-team-test-token";

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// One request of the load: when it was sent, when its answer ended, and the
// status (0: no answer, the connection failed or was cut).
struct Shot
{
    qint64 sentMs = -1;
    qint64 doneMs = -1;
    int status = 0;
};

// Sends one chat request per tick on a new connection each, as independent
// clients do, and notes what came back. Nothing blocks: the test's event loop
// keeps the ticks even while answers are slow.
class SteadyLoad : public QObject
{
public:
    SteadyLoad(quint16 port, const QElapsedTimer &clock) : m_port(port), m_clock(clock)
    {
        m_tick.setTimerType(Qt::PreciseTimer);
        m_tick.setInterval(1000 / kRatePerSecond);
        QObject::connect(&m_tick, &QTimer::timeout, this, [this] { fire(); });
    }
    void start() { m_tick.start(); }
    void stop() { m_tick.stop(); }
    const std::vector<Shot> &shots() const { return m_shots; }
    int open() const { return m_open; }
    QByteArray firstFailure() const { return m_firstFailure; }

private:
    void fire()
    {
        const size_t index = m_shots.size();
        m_shots.push_back(Shot{m_clock.elapsed(), -1, 0});
        ++m_open;
        auto *socket = new QTcpSocket(this);
        auto *answer = new QByteArray;
        const QByteArray body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        QObject::connect(socket, &QTcpSocket::connected, socket, [socket, body] {
            socket->write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Content-Type: application/json\r\nAuthorization: Bearer "
                + kToken + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        });
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket, answer] { *answer += socket->readAll(); });
        const auto finish = [this, socket, answer, index] {
            if (m_shots[index].doneMs >= 0)
                return;
            *answer += socket->readAll();
            Shot &shot = m_shots[index];
            shot.doneMs = m_clock.elapsed();
            const QRegularExpressionMatch m
                = QRegularExpression(QStringLiteral("^HTTP/1\\.1 (\\d{3}) ")).match(QString::fromLatin1(*answer));
            // A 200 counts only with the whole answer (nginx may cut one short).
            shot.status = m.hasMatch() ? m.captured(1).toInt() : 0;
            if (shot.status == 200 && !answer->endsWith("}"))
                shot.status = 0;
            if (shot.status != 200 && m_firstFailure.isEmpty())
                m_firstFailure = *answer;
            --m_open;
            delete answer;
            socket->deleteLater();
        };
        QObject::connect(socket, &QTcpSocket::disconnected, socket, finish);
        QObject::connect(socket, &QTcpSocket::errorOccurred, socket, [socket, finish](QAbstractSocket::SocketError e) {
            if (e != QAbstractSocket::RemoteHostClosedError || socket->state() == QAbstractSocket::UnconnectedState)
                finish();
        });
        socket->connectToHost(QHostAddress::LocalHost, m_port);
    }

    quint16 m_port;
    const QElapsedTimer &m_clock;
    QTimer m_tick;
    std::vector<Shot> m_shots;
    int m_open = 0;
    QByteArray m_firstFailure;
};

// One line of nginx's access log in the format the test sets: when the
// request ended, its status, and the instance(s) nginx tried, in order.
struct LogLine
{
    double endSec = 0;
    double durationSec = 0;
    int status = 0;
    QStringList upstreams; // "127.0.0.1:PORT", the one that answered last
};

QList<LogLine> readAccessLog(const QString &path)
{
    QList<LogLine> lines;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return lines;
    while (!f.atEnd()) {
        const QString line = QString::fromLatin1(f.readLine()).trimmed();
        const QStringList fields = line.split(QLatin1Char('|'));
        if (fields.size() != 4)
            continue;
        LogLine l;
        l.endSec = fields[0].toDouble();
        l.durationSec = fields[1].toDouble();
        l.status = fields[2].toInt();
        for (const QString &u : fields[3].split(QLatin1Char(',')))
            l.upstreams << u.trimmed();
        lines << l;
    }
    return lines;
}

} // namespace

class TestTeam : public QObject
{
    Q_OBJECT

    std::unique_ptr<PgCluster> m_pg;
    QTemporaryDir m_dir;

    QProcessEnvironment environment() const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        // As the README says: the password in PGPASSWORD, never in -database.
        env.insert(QStringLiteral("PGPASSWORD"), QLatin1String(PgCluster::password));
        env.insert(QStringLiteral("HOME"), m_dir.path());
        env.insert(QStringLiteral("XDG_DATA_HOME"), m_dir.filePath(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("route.*.info=false"));
        return env;
    }

    int runOnce(const QStringList &args, QByteArray *out = nullptr)
    {
        QProcess p;
        p.setProcessEnvironment(environment());
        p.start(QStringLiteral(ROUTE_BINARY), args);
        if (!p.waitForFinished(30000))
            return -1;
        if (out)
            *out = p.readAllStandardOutput() + p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    }

    static bool waitForPort(quint16 port, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, port);
            if (s.waitForConnected(200))
                return true;
            QTest::qWait(100);
        }
        return false;
    }

    // The shipped configuration, with this test's ports, inside a main file
    // that keeps every path nginx writes in the test's folder.
    QString writeNginxConfig(quint16 listenPort, const QList<quint16> &instancePorts)
    {
        QFile shipped(QStringLiteral(TEAM_NGINX_CONF));
        if (!shipped.open(QIODevice::ReadOnly))
            return QString();
        QString team = QString::fromUtf8(shipped.readAll());
        const QRegularExpression serverLine(
            QStringLiteral("^(\\s*)server 127\\.0\\.0\\.1:\\d+( [^;]*);\\n"), QRegularExpression::MultilineOption);
        const QRegularExpressionMatch first = serverLine.match(team);
        if (!first.hasMatch())
            return QString();
        QString servers;
        for (quint16 p : instancePorts)
            servers
                += QStringLiteral("%1server 127.0.0.1:%2%3;\n").arg(first.captured(1)).arg(p).arg(first.captured(2));
        team.replace(serverLine, QString());
        team.insert(first.capturedStart(), servers);
        team.replace(QStringLiteral("listen 127.0.0.1:8888;"), QStringLiteral("listen 127.0.0.1:%1;").arg(listenPort));
        QFile teamFile(m_dir.filePath(QStringLiteral("team.conf")));
        teamFile.open(QIODevice::WriteOnly);
        teamFile.write(team.toUtf8());
        teamFile.close();

        const QString d = m_dir.path();
        const QString main = QStringLiteral(
            "daemon off;\nworker_processes 1;\npid %1/nginx.pid;\nerror_log %1/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "  log_format team '$msec|$request_time|$status|$upstream_addr';\n"
            "  access_log %1/access.log team;\n"
            "  client_body_temp_path %1/body; proxy_temp_path %1/proxy; fastcgi_temp_path %1/fastcgi;\n"
            "  uwsgi_temp_path %1/uwsgi; scgi_temp_path %1/scgi;\n"
            "  include %1/team.conf;\n}\n")
                                 .arg(d);
        QFile mainFile(m_dir.filePath(QStringLiteral("nginx.conf")));
        mainFile.open(QIODevice::WriteOnly);
        mainFile.write(main.toUtf8());
        return mainFile.fileName();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(QStringLiteral(NGINX_BINARY)),
            "nginx not found: scripts/deps.sh --tests unpacks Debian's nginx into .cache/tools (then run cmake again)");
        m_pg = std::make_unique<PgCluster>();
        QVERIFY2(m_pg->error().isEmpty(), qPrintable(m_pg->error()));
    }
    void cleanupTestCase() { m_pg.reset(); }

    // kill -9 of one instance under 50 requests/s (SPEC §12): nothing fails
    // but what was in flight on that instance, and the others take the load.
    void anInstanceKilledUnderLoadCostsOnlyItsInFlightRequests()
    {
        const QString withPassword = m_pg->createDatabase(QStringLiteral("team"));
        QVERIFY2(!withPassword.isEmpty(), qPrintable(m_pg->error()));
        const QString dsn = QStringLiteral("postgresql://route@127.0.0.1:%1/team").arg(m_pg->port());

        FakeUpstream up;
        FakeUpstream::Behavior answer
            = FakeUpstream::Behavior::json(200, "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}");
        answer.delayMs = kUpstreamDelayMs;
        up.setBehavior(answer);

        // Set up as the README's Team mode does: one upstream, one token.
        QByteArray out;
        QCOMPARE(runOnce({QStringLiteral("-database"), dsn, QStringLiteral("-add"), QStringLiteral("-sk"),
                             QStringLiteral("sk-upstream-key"), QStringLiteral("-endpoint"), up.baseUrl()},
                     &out),
            0);
        QCOMPARE(runOnce({QStringLiteral("-database"), dsn, QStringLiteral("-auth"), QString::fromLatin1(kToken),
                             QStringLiteral("-list")},
                     &out),
            0);
        QVERIFY2(!out.contains(PgCluster::password), out.constData());

        QList<quint16> ports;
        std::vector<std::unique_ptr<QProcess>> instances;
        for (int i = 0; i < kInstances; ++i) {
            ports << freePort();
            auto p = std::make_unique<QProcess>();
            p->setProcessEnvironment(environment());
            p->setProcessChannelMode(QProcess::MergedChannels);
            p->start(QStringLiteral(ROUTE_BINARY),
                {QStringLiteral("--no-gui"), QStringLiteral("-database"), dsn, QStringLiteral("-addr"),
                    QStringLiteral("127.0.0.1:%1").arg(ports.last())});
            QVERIFY(p->waitForStarted(5000));
            instances.push_back(std::move(p));
        }
        for (quint16 p : std::as_const(ports))
            QVERIFY2(waitForPort(p, 20000), "an instance did not start listening");

        const quint16 lbPort = freePort();
        const QString conf = writeNginxConfig(lbPort, ports);
        QVERIFY2(!conf.isEmpty(), "packaging/team-nginx.conf did not have the expected server lines");
        QProcess nginx;
        nginx.setProcessChannelMode(QProcess::MergedChannels);
        nginx.start(QStringLiteral(NGINX_BINARY),
            {QStringLiteral("-p"), m_dir.path(), QStringLiteral("-e"), m_dir.filePath(QStringLiteral("error.log")),
                QStringLiteral("-c"), conf});
        QVERIFY(nginx.waitForStarted(5000));
        auto stopNginx = qScopeGuard([&] {
            nginx.terminate(); // by its PID: QProcess started it
            if (!nginx.waitForFinished(5000))
                nginx.kill();
        });
        const auto stopInstances = qScopeGuard([&] {
            for (auto &p : instances) {
                if (p->state() == QProcess::NotRunning)
                    continue;
                p->terminate();
                if (!p->waitForFinished(10000))
                    p->kill();
            }
        });
        QVERIFY2(waitForPort(lbPort, 10000), nginx.readAll().constData());

        QElapsedTimer clock;
        clock.start();
        SteadyLoad load(lbPort, clock);
        load.start();
        QTest::qWait(kKillAtMs);
        const qint64 killedAtMs = clock.elapsed();
        const double killedAtEpoch = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
        const int openAtKill = load.open();
        instances.front()->kill(); // SIGKILL
        QVERIFY(instances.front()->waitForFinished(5000));
        QCOMPARE(instances.front()->exitStatus(), QProcess::CrashExit);
        QTest::qWait(kLoadMs - kKillAtMs);
        load.stop();
        QTRY_COMPARE_WITH_TIMEOUT(load.open(), 0, 15000); // nothing hangs

        const std::vector<Shot> &shots = load.shots();
        QVERIFY2(shots.size() >= size_t(kRatePerSecond * kLoadMs / 1000 * 9 / 10), "the load fell behind its rate");
        int failed = 0;
        for (const Shot &s : shots) {
            if (s.status == 200)
                continue;
            ++failed;
            // A request that failed was sent before the kill and still open then.
            QVERIFY2(s.sentMs <= killedAtMs && s.doneMs >= killedAtMs,
                qPrintable(
                    QStringLiteral("a request sent at %1 ms failed with %2 (kill at %3 ms); the first failure: %4")
                        .arg(s.sentMs)
                        .arg(s.status)
                        .arg(killedAtMs)
                        .arg(QString::fromUtf8(load.firstFailure()))));
        }
        QVERIFY(failed <= openAtKill);

        // nginx's log says which instance had each: the failures were all on
        // the killed one, and after the kill the other two carried the load.
        stopNginx.dismiss();
        nginx.terminate();
        QVERIFY(nginx.waitForFinished(5000)); // flushes its log
        const QList<LogLine> log = readAccessLog(m_dir.filePath(QStringLiteral("access.log")));
        QCOMPARE(qsizetype(log.size()), qsizetype(shots.size()));
        const QString killed = QStringLiteral("127.0.0.1:%1").arg(ports.first());
        int failedInLog = 0;
        int beforeOnKilled = 0;
        QList<int> afterOnEach(kInstances, 0);
        for (const LogLine &l : log) {
            const double startedSec = l.endSec - l.durationSec;
            if (l.status != 200) {
                ++failedInLog;
                QCOMPARE(l.upstreams.last(), killed);
                QVERIFY(startedSec <= killedAtEpoch + 0.002); // $msec has millisecond resolution
                continue;
            }
            if (l.endSec < killedAtEpoch && l.upstreams.last() == killed)
                ++beforeOnKilled;
            if (startedSec > killedAtEpoch + 0.002)
                afterOnEach[int(ports.indexOf(quint16(l.upstreams.last().section(QLatin1Char(':'), 1).toUInt())))]++;
        }
        QCOMPARE(failedInLog, failed);
        QVERIFY2(beforeOnKilled > 0, "the killed instance had no share of the load before");
        QCOMPARE(afterOnEach[0], 0);
        for (int i = 1; i < kInstances; ++i)
            QVERIFY2(afterOnEach[i] > 0, "an instance that lives took no share after the kill");
        qInfo("%zu requests at %d/s, instance 1 killed at %.1f s with %d requests open: %d failed "
              "(in flight on it); after the kill instances 2 and 3 answered %d and %d",
            shots.size(), kRatePerSecond, double(killedAtMs) / 1000, openAtKill, failed, afterOnEach[1],
            afterOnEach[2]);

        // The survivors' records reach the database (the killed one's last
        // unsent batch is lost with its memory).
        const int answered
            = int(std::count_if(shots.begin(), shots.end(), [](const Shot &s) { return s.status == 200; }));
        const auto records = [&] {
            QString n;
            m_pg->sql(QStringLiteral("team"), QStringLiteral("SELECT count(*) FROM records"), &n);
            return n.toInt();
        };
        QTRY_VERIFY_WITH_TIMEOUT(records() >= afterOnEach[1] + afterOnEach[2], 10000);
        QVERIFY(records() <= answered);
    }
};

QTEST_GUILESS_MAIN(TestTeam)
#include "tst_team.moc"
