#include "rawhttp.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>

#include <atomic>
#include <thread>
#include <vector>

using namespace route; // test code reads like code inside the project

namespace {

QByteArray requestBytes(const RawRequest &r)
{
    QByteArray out = r.method + ' ' + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto &[name, value] : r.headers)
        out += name + ": " + value + "\r\n";
    if (!r.body.isEmpty() || r.method == "POST" || r.method == "PUT")
        if (!r.headers.contains("content-length") && !r.headers.contains("transfer-encoding"))
            out += "Content-Length: " + QByteArray::number(r.body.size()) + "\r\n";
    out += "\r\n";
    return out + r.body;
}

// Incremental parser over a growing buffer.
class Parser
{
public:
    explicit Parser(RawResponse *out, bool headRequest) : m_out(out), m_head(headRequest) { }

    // Returns true when the response is complete.
    bool feed(const QByteArray &data, qint64 nowMs)
    {
        m_buf += data;
        if (!m_headersDone) {
            const qsizetype end = m_buf.indexOf("\r\n\r\n");
            if (end < 0)
                return false;
            const QList<QByteArray> lines = m_buf.left(end).split('\n');
            m_out->status = lines.first().split(' ').value(1).toInt();
            for (int i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines[i].trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon > 0)
                    m_out->headers.append(line.left(colon), line.mid(colon + 1).trimmed());
            }
            m_buf.remove(0, end + 4);
            m_headersDone = true;
            m_out->headersArrivalMs = nowMs;
            m_chunked = m_out->headers.value("transfer-encoding").contains("chunked");
            bool ok = false;
            m_length = m_out->headers.value("content-length").toLongLong(&ok);
            if (!ok)
                m_length = -1;
            if (m_head || m_out->status == 204 || m_out->status == 304
                || (m_out->status >= 100 && m_out->status < 200)) {
                if (m_out->status == 100) { // interim: start over
                    m_headersDone = false;
                    m_out->headers = HttpHeaders();
                    return feed(QByteArray(), nowMs);
                }
                m_out->complete = true;
                return true;
            }
        }
        if (m_chunked) {
            for (;;) {
                const qsizetype eol = m_buf.indexOf("\r\n");
                if (eol < 0)
                    return false;
                const qint64 size = m_buf.left(eol).toLongLong(nullptr, 16);
                if (size == 0) {
                    if (m_buf.size() < eol + 4)
                        return false;
                    m_buf.remove(0, eol + 4);
                    m_out->complete = true;
                    return true;
                }
                if (m_buf.size() < eol + 2 + size + 2)
                    return false;
                const QByteArray chunk = m_buf.mid(eol + 2, size);
                m_out->body += chunk;
                m_out->chunks << chunk;
                m_out->chunkArrivalMs << nowMs;
                m_buf.remove(0, eol + 2 + size + 2);
            }
        }
        if (!m_buf.isEmpty()) {
            const qint64 take = m_length < 0 ? m_buf.size() : qMin<qint64>(m_buf.size(), m_length - m_out->body.size());
            m_out->chunks << m_buf.left(take);
            m_out->chunkArrivalMs << nowMs;
            m_out->body += m_buf.left(take);
            m_buf.remove(0, take);
        }
        if (m_length >= 0 && m_out->body.size() >= m_length) {
            m_out->complete = true;
            return true;
        }
        return false;
    }

    void peerClosed()
    {
        m_out->closedByPeer = true;
        if (m_headersDone && !m_chunked && m_length < 0)
            m_out->complete = true; // a body delimited by the end of the connection
    }

    QByteArray leftover() const { return m_buf; }

private:
    RawResponse *m_out;
    bool m_head;
    QByteArray m_buf;
    bool m_headersDone = false;
    bool m_chunked = false;
    qint64 m_length = -1;
};

} // namespace

RawResponse rawHttp(quint16 port, const RawRequest &request)
{
    RawResponse out;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(request.timeoutMs)) {
        out.error = socket.errorString();
        return out;
    }
    socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    QElapsedTimer clock;
    clock.start();
    socket.write(requestBytes(request));
    Parser parser(&out, request.method == "HEAD");
    while (clock.elapsed() < request.timeoutMs) {
        if (socket.bytesAvailable() == 0
            && !socket.waitForReadyRead(int(qMax<qint64>(1, request.timeoutMs - clock.elapsed())))) {
            if (socket.state() != QAbstractSocket::ConnectedState
                || socket.error() == QAbstractSocket::RemoteHostClosedError) {
                parser.peerClosed();
                return out;
            }
            continue;
        }
        if (parser.feed(socket.readAll(), clock.elapsed()))
            return out;
    }
    out.error = QStringLiteral("timeout");
    return out;
}

QByteArray rawExchange(quint16 port, const QByteArray &bytes, int timeoutMs)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(timeoutMs))
        return QByteArray();
    socket.write(bytes);
    QByteArray all;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeoutMs) {
        if (!socket.waitForReadyRead(int(qMax<qint64>(1, timeoutMs - clock.elapsed())))) {
            if (socket.state() != QAbstractSocket::ConnectedState)
                break;
            continue;
        }
        all += socket.readAll();
    }
    all += socket.readAll();
    return all;
}

RawResponse parseResponse(const QByteArray &data, qsizetype *offset)
{
    RawResponse out;
    Parser parser(&out, false);
    parser.feed(data.mid(*offset), 0);
    *offset = data.size() - parser.leftover().size();
    return out;
}

RawRequest jsonPost(const QByteArray &target, const QByteArray &body, const QByteArray &authorization)
{
    RawRequest r;
    r.method = "POST";
    r.target = target;
    r.headers.append("Authorization", authorization);
    r.headers.append("Content-Type", "application/json");
    r.body = body;
    return r;
}

ParallelVerdicts sendAtOnce(int count, const std::function<RawResponse(int)> &send, const QString &refusalCode)
{
    std::atomic<int> ok{0}, refused{0}, other{0};
    std::atomic<bool> sayWhen{true};
    std::vector<std::thread> clients;
    for (int i = 0; i < count; ++i)
        clients.emplace_back([&, i] {
            const RawResponse r = send(i);
            const QString code
                = QJsonDocument::fromJson(r.body).object().value("error").toObject().value("code").toString();
            if (r.status == 200) {
                ++ok;
            } else if (r.status == 429 && code == refusalCode) {
                ++refused;
                if (r.headers.value("retry-after").toInt() < 1)
                    sayWhen = false;
            } else {
                ++other;
            }
        });
    for (std::thread &c : clients)
        c.join();
    return {ok.load(), refused.load(), other.load(), sayWhen.load()};
}
