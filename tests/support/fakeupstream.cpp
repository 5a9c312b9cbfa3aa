#include "fakeupstream.h"

#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

using namespace route; // test code reads like code inside the project

FakeUpstream::Behavior FakeUpstream::Behavior::json(int status, const QByteArray &body)
{
    Behavior b;
    b.status = status;
    b.body = body;
    b.headers = {{"Content-Type", "application/json"}};
    return b;
}

FakeUpstream::Behavior FakeUpstream::Behavior::sse(const QList<QByteArray> &events, int intervalMs)
{
    Behavior b;
    b.kind = Kind::Stream;
    b.events = events;
    b.intervalMs = intervalMs;
    b.headers = {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
    return b;
}

QList<QByteArray> FakeUpstream::Behavior::chatEvents(int n, bool done)
{
    QList<QByteArray> events;
    for (int i = 0; i < n; ++i)
        events << "data: {\"choices\":[{\"delta\":{\"content\":\"t" + QByteArray::number(i) + "\"}}]}\n\n";
    if (done)
        events << "data: [DONE]\n\n";
    return events;
}

FakeUpstream::Behavior FakeUpstream::Behavior::of(Kind kind)
{
    Behavior b;
    b.kind = kind;
    return b;
}

// Lives on the fake's thread: one parser per connection, then the behavior.
class FakeUpstreamServer : public QObject
{
public:
    explicit FakeUpstreamServer(FakeUpstream *owner) : m_owner(owner), m_server(this)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                accept(s);
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

private:
    struct Conn
    {
        QByteArray in;
        bool streaming = false;
        bool finished = false;
    };

    void accept(QTcpSocket *socket)
    {
        socket->setParent(this);
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto conn = std::make_shared<Conn>();
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, conn] {
            conn->in += socket->readAll();
            tryParse(socket, conn);
        });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket, conn] {
            if (conn->streaming && !conn->finished)
                m_owner->recordAbort();
            socket->deleteLater();
        });
    }

    void tryParse(QTcpSocket *socket, const std::shared_ptr<Conn> &conn)
    {
        const qsizetype end = conn->in.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QList<QByteArray> lines = conn->in.left(end).split('\n');
        FakeUpstream::Request r;
        const QList<QByteArray> first = lines.first().trimmed().split(' ');
        r.method = first.value(0);
        r.target = first.value(1);
        for (int i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines[i].trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0)
                r.headers.append(line.left(colon), line.mid(colon + 1).trimmed());
        }
        QByteArray rest = conn->in.mid(end + 4);
        if (r.headers.value("transfer-encoding").contains("chunked")) {
            QByteArray body;
            qsizetype pos = 0;
            for (;;) {
                const qsizetype eol = rest.indexOf("\r\n", pos);
                if (eol < 0)
                    return;
                const qint64 size = rest.mid(pos, eol - pos).toLongLong(nullptr, 16);
                if (size == 0) {
                    if (rest.indexOf("\r\n\r\n", eol) < 0 && rest.mid(eol, 4) != "\r\n\r\n")
                        return;
                    break;
                }
                if (rest.size() < eol + 2 + size + 2)
                    return;
                body += rest.mid(eol + 2, size);
                pos = eol + 2 + size + 2;
            }
            r.body = body;
        } else {
            const qint64 length = r.headers.value("content-length").toLongLong();
            if (rest.size() < length)
                return;
            r.body = rest.left(length);
        }
        conn->in.clear();
        respond(socket, conn, m_owner->behaviorFor(r));
    }

    void respond(QTcpSocket *socket, const std::shared_ptr<Conn> &conn, const FakeUpstream::Behavior &b)
    {
        using Kind = FakeUpstream::Behavior::Kind;
        QPointer<QTcpSocket> guard(socket);
        auto run = [this, guard, conn, b] {
            if (!guard)
                return;
            switch (b.kind) {
            case Kind::Hang: return;
            case Kind::Reset:
                guard->setSocketOption(QAbstractSocket::KeepAliveOption, 0);
                guard->abort();
                return;
            case Kind::CloseWithoutResponse: guard->disconnectFromHost(); return;
            case Kind::Raw:
                guard->write(b.body); // as it is: head, framing and all
                guard->disconnectFromHost();
                return;
            case Kind::Respond:
                writeHead(guard, b, b.body.size());
                guard->write(b.body);
                return;
            case Kind::Flood:
                conn->streaming = true;
                writeHead(guard, b, b.floodBytes);
                flood(guard, conn, b.floodBytes);
                return;
            case Kind::Stream:
                conn->streaming = true;
                writeHead(guard, b, -1);
                sendEvent(guard, conn, b, 0);
                return;
            }
        };
        if (b.delayMs > 0)
            QTimer::singleShot(b.delayMs, this, run);
        else
            run();
    }

    static void writeHead(QTcpSocket *socket, const FakeUpstream::Behavior &b, qint64 length)
    {
        QByteArray head = "HTTP/1.1 " + QByteArray::number(b.status) + " X\r\n";
        for (const auto &[name, value] : b.headers)
            head += name + ": " + value + "\r\n";
        if (length >= 0)
            head += "Content-Length: " + QByteArray::number(length) + "\r\n";
        else if (b.chunked)
            head += "Transfer-Encoding: chunked\r\n";
        else
            head += "Connection: close\r\n";
        head += "\r\n";
        socket->write(head);
    }

    void sendEvent(QPointer<QTcpSocket> socket, std::shared_ptr<Conn> conn, FakeUpstream::Behavior b, int index)
    {
        if (!socket)
            return;
        if (index == b.cutAfterEvents) {
            conn->finished = true;
            socket->flush();
            socket->abort();
            return;
        }
        if (index == b.stallAfterEvents)
            return;
        if (index >= b.events.size()) {
            conn->finished = true;
            if (b.chunked)
                socket->write("0\r\n\r\n");
            else
                socket->disconnectFromHost();
            return;
        }
        const QByteArray &e = b.events[index];
        if (b.chunked)
            socket->write(QByteArray::number(e.size(), 16) + "\r\n" + e + "\r\n");
        else
            socket->write(e);
        QTimer::singleShot(
            b.intervalMs, this, [this, socket, conn, b, index] { sendEvent(socket, conn, b, index + 1); });
    }

    void flood(QPointer<QTcpSocket> socket, std::shared_ptr<Conn> conn, qint64 remaining)
    {
        static const QByteArray piece = [] {
            QByteArray p(64 * 1024, Qt::Uninitialized);
            for (int i = 0; i < p.size(); ++i)
                p[i] = char(i * 31 % 251);
            return p;
        }();
        auto pump = std::make_shared<qint64>(remaining);
        auto writeSome = [this, socket, conn, pump] {
            if (!socket)
                return;
            while (*pump > 0 && socket->bytesToWrite() < 256 * 1024) {
                const qint64 n = qMin<qint64>(*pump, piece.size());
                socket->write(piece.constData(), n);
                *pump -= n;
            }
            m_owner->recordQueued(socket->bytesToWrite());
            if (*pump == 0)
                conn->finished = true;
        };
        connect(socket, &QTcpSocket::bytesWritten, this, writeSome);
        writeSome();
    }

    FakeUpstream *m_owner;
    QTcpServer m_server;
};

FakeUpstream::FakeUpstream()
{
    m_script = [](const Request &) { return Behavior::json(200, R"({"ok":true})"); };
    auto *server = new FakeUpstreamServer(this);
    server->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, server, &QObject::deleteLater);
    m_server = server;
    m_thread.start();
    QMetaObject::invokeMethod(
        server, [this, server] { m_port = server->listen() ? server->port() : 0; }, Qt::BlockingQueuedConnection);
}

FakeUpstream::~FakeUpstream()
{
    m_thread.quit();
    m_thread.wait();
}

QString FakeUpstream::baseUrl(const QString &path) const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path);
}

void FakeUpstream::setScript(Script script)
{
    QMutexLocker lock(&m_mutex);
    m_script = std::move(script);
}

void FakeUpstream::setBehavior(const Behavior &behavior)
{
    setScript([behavior](const Request &) { return behavior; });
}

QList<FakeUpstream::Request> FakeUpstream::requests() const
{
    QMutexLocker lock(&m_mutex);
    return m_requests;
}

int FakeUpstream::requestCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_requests.size());
}

int FakeUpstream::clientAborts() const
{
    QMutexLocker lock(&m_mutex);
    return m_aborts;
}

void FakeUpstream::clear()
{
    QMutexLocker lock(&m_mutex);
    m_requests.clear();
    m_aborts = 0;
}

FakeUpstream::Behavior FakeUpstream::behaviorFor(const Request &request)
{
    QMutexLocker lock(&m_mutex);
    m_requests.append(request);
    return m_script(request);
}

qint64 FakeUpstream::maxQueuedBytes() const
{
    QMutexLocker lock(&m_mutex);
    return m_maxQueued;
}

void FakeUpstream::recordQueued(qint64 bytes)
{
    QMutexLocker lock(&m_mutex);
    m_maxQueued = qMax(m_maxQueued, bytes);
}

void FakeUpstream::recordAbort()
{
    QMutexLocker lock(&m_mutex);
    ++m_aborts;
}
