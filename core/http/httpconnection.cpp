#include "http/httpconnection.h"

#include "http/errorbody.h"
#include "http/httpresponder.h"
#include "util/bytes.h"
#include "util/logging.h"

#include "http/tcpstream.h"

#include <QTimerEvent>

namespace {

bool isTokenChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '#'
        || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' || c == '-' || c == '.' || c == '^'
        || c == '_' || c == '`' || c == '|' || c == '~';
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!isTokenChar(c))
            return false;
    return true;
}

// Strict: digits only, no sign, no overflow.
bool parseLength(const QByteArray &s, qint64 *out)
{
    const QByteArray t = s.trimmed();
    if (t.isEmpty() || t.size() > 18)
        return false;
    qint64 v = 0;
    for (char c : t) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

} // namespace

HttpConnection::HttpConnection(TcpStream *socket, const HttpLimits &limits, HttpHandler handler, QObject *parent)
    : QObject(parent), m_socket(socket), m_limits(limits), m_handler(std::move(handler))
{
    socket->setParent(this);
    connect(socket, &TcpStream::readyRead, this, &HttpConnection::onReadyRead);
    connect(socket, &TcpStream::disconnected, this, &HttpConnection::onDisconnected);
    connect(socket, &TcpStream::bytesWritten, this, [this] {
        if (m_responder && m_socket->bytesToWrite() <= m_limits.writeLowWater)
            m_responder->markDrained();
    });
    armTimer(m_limits.headerTimeoutMs);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::closeWhenIdle()
{
    m_closeWhenIdle = true;
    if (m_state == State::ReadingHead && m_in.isEmpty())
        close();
}

void HttpConnection::armTimer(int ms)
{
    m_deadline.armIn(ms, this);
}

void HttpConnection::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_deadline.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    if (m_deadline.fire(this))
        onTimeout();
}

void HttpConnection::onReadyRead()
{
    if (m_state == State::Dispatched || m_state == State::Closed)
        return; // read on after the response: pipelined requests wait their turn
    processInput();
}

void HttpConnection::processInput()
{
    while (m_state == State::ReadingHead || m_state == State::ReadingBody) {
        if (m_socket->bytesAvailable() > 0) {
            const bool wasEmpty = m_in.isEmpty() && m_state == State::ReadingHead;
            m_in += m_socket->readAll();
            if (wasEmpty)
                armTimer(m_limits.headerTimeoutMs); // a new request: its headers must arrive in time
            else if (m_state == State::ReadingBody)
                armTimer(m_limits.headerTimeoutMs); // bodies may be slow, but not silent
        }
        if (m_state == State::ReadingHead && !parseHead())
            return;
        if (m_state == State::ReadingBody) {
            if (!readBody())
                return;
            dispatch();
        }
    }
}

bool HttpConnection::parseHead()
{
    // RFC 9112 2.2: ignore empty lines before a request line.
    while (m_in.startsWith("\r\n"))
        m_in.remove(0, 2);
    const qsizetype end = Bytes::indexOf(m_in, "\r\n\r\n");
    if (end < 0) {
        if (m_in.size() > m_limits.maxHeaderBytes)
            fail(431, "request headers are too large");
        return false;
    }
    if (end > m_limits.maxHeaderBytes) {
        fail(431, "request headers are too large");
        return false;
    }
    // Parsed in place; the head leaves m_in once all of it is copied out.
    const QByteArrayView head = QByteArrayView(m_in).first(end);
    const qsizetype headBytes = end + 4;

    const qsizetype firstEnd = Bytes::indexOf(head, '\n');
    QByteArrayView requestLine = head.first(firstEnd < 0 ? head.size() : firstEnd).trimmed();
    const qsizetype sp1 = Bytes::indexOf(requestLine, ' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : Bytes::indexOf(requestLine, ' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || Bytes::indexOf(requestLine, ' ', sp2 + 1) >= 0 || sp2 == sp1 + 1
        || !isToken(requestLine.first(sp1))) {
        fail(400, "malformed request line");
        return false;
    }
    m_request = HttpRequest();
    m_request.method = requestLine.first(sp1).toByteArray();
    m_request.target = requestLine.sliced(sp1 + 1, sp2 - sp1 - 1).toByteArray();
    const QByteArrayView version = requestLine.sliced(sp2 + 1);
    if (version == "HTTP/1.1")
        m_request.versionMinor = 1;
    else if (version == "HTTP/1.0")
        m_request.versionMinor = 0;
    else {
        fail(version.startsWith("HTTP/") ? 505 : 400, "unsupported HTTP version");
        return false;
    }
    QByteArray target = m_request.target;
    if (target.startsWith("http://") || target.startsWith("https://")) {
        // absolute-form: keep only the path and query
        const qsizetype slash = target.indexOf('/', target.indexOf("//") + 2);
        target = slash < 0 ? QByteArray("/") : target.mid(slash);
    }
    if (!target.startsWith('/') && !(target == "*" && m_request.method == "OPTIONS")) {
        fail(400, "malformed request target");
        return false;
    }
    const qsizetype q = target.indexOf('?');
    m_request.path = q < 0 ? target : target.left(q);
    m_request.query = q < 0 ? QByteArray() : target.mid(q + 1);

    m_request.headers.reserve(16);
    const bool wellFormed
        = firstEnd < 0 || HttpHeaders::forEachLine(head.sliced(firstEnd + 1), [this](QByteArrayView line) {
              const qsizetype colon = Bytes::indexOf(line, ':');
              if (colon <= 0 || line.startsWith(' ') || line.startsWith('\t') || !isToken(line.first(colon)))
                  return false;
              m_request.headers.appendCopy(line.first(colon), line.sliced(colon + 1).trimmed());
              return true;
          });
    if (!wellFormed) {
        fail(400, "malformed header line");
        return false;
    }

    m_chunked = false;
    m_contentLength = 0;
    const QByteArray te = m_request.headers.value("transfer-encoding");
    if (!te.isEmpty()) {
        if (m_request.headers.contains("content-length") || !te.trimmed().toLower().endsWith("chunked")) {
            fail(400, "unsupported transfer encoding");
            return false;
        }
        m_chunked = true;
        m_chunks = ChunkedDecoder(m_limits.maxBodyBytes, m_limits.maxHeaderBytes);
    } else {
        QByteArray lengthValue;
        for (const auto &[name, value] : m_request.headers) {
            if (!HttpHeaders::nameEquals(name, "content-length"))
                continue;
            if (!lengthValue.isNull() && value.trimmed() != lengthValue.trimmed()) {
                fail(400, "conflicting Content-Length headers");
                return false;
            }
            lengthValue = value;
        }
        if (!lengthValue.isNull() && !parseLength(lengthValue, &m_contentLength)) {
            fail(400, "malformed Content-Length");
            return false;
        }
    }
    if (m_contentLength > m_limits.maxBodyBytes) {
        fail(413, "request body is larger than the limit of " + QByteArray::number(m_limits.maxBodyBytes) + " bytes");
        return false;
    }

    const bool closeRequested = m_request.headers.hasToken("connection", "close");
    m_keepAlive
        = m_request.versionMinor >= 1 ? !closeRequested : m_request.headers.hasToken("connection", "keep-alive");

    const QByteArray expect = m_request.headers.value("expect");
    if (!expect.isEmpty()) {
        if (!HttpHeaders::nameEquals(expect.trimmed(), "100-continue")) {
            fail(417, "unsupported Expect header");
            return false;
        }
        // curl waits a second for this before it sends a large body.
        const bool bodyPending = m_chunked || m_contentLength > m_in.size() - headBytes;
        if (bodyPending && m_request.versionMinor >= 1)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    m_in.remove(0, headBytes);
    if (m_contentLength > 0)
        m_request.body.reserve(m_contentLength);
    m_state = State::ReadingBody;
    return true;
}

bool HttpConnection::readBody()
{
    if (m_chunked)
        return readChunkedBody();
    const qint64 need = m_contentLength - m_request.body.size();
    if (need > 0 && !m_in.isEmpty()) {
        const qint64 take = qMin<qint64>(need, m_in.size());
        if (take == m_in.size()) {
            m_request.body += m_in;
            m_in.clear();
        } else {
            m_request.body.append(m_in.constData(), take);
            m_in.remove(0, take);
        }
    }
    return m_request.body.size() == m_contentLength;
}

bool HttpConnection::readChunkedBody()
{
    switch (m_chunks.decode(m_in, m_request.body)) {
    case ChunkedDecoder::Result::NeedMore: return false;
    case ChunkedDecoder::Result::Done: return true;
    case ChunkedDecoder::Result::Malformed: fail(400, "malformed chunk"); return false;
    case ChunkedDecoder::Result::TooLarge:
        fail(413, "request body is larger than the limit of " + QByteArray::number(m_limits.maxBodyBytes) + " bytes");
        return false;
    case ChunkedDecoder::Result::TrailerTooLarge: fail(431, "request trailers are too large"); return false;
    }
    return false;
}

void HttpConnection::dispatch()
{
    m_deadline.disarm(); // the handler takes its time; its own timeouts apply
    m_state = State::Dispatched;
    m_request.peer = m_socket->peerAddress();
    if (m_peerText.isNull())
        m_peerText = m_request.peer.toString(); // once: a kept-alive connection serves many requests
    m_request.peerText = m_peerText;
    auto *responder = new HttpResponder(
        this, m_socket, m_request.isHead(), m_request.versionMinor, m_keepAlive && !m_closeWhenIdle);
    m_responder = responder;
    m_handler(m_request, responder);
}

void HttpConnection::responseDone(bool keepAlive)
{
    if (m_state != State::Dispatched)
        return;
    if (m_responder) {
        m_responder->deleteLater();
        m_responder = nullptr;
    }
    m_request = HttpRequest();
    if (!keepAlive || m_closeWhenIdle) {
        close();
        return;
    }
    m_state = State::ReadingHead;
    armTimer(m_limits.keepAliveTimeoutMs);
    // Pipelined bytes may be waiting; parse them after the current call
    // stack unwinds, so a handler that answers at once does not recurse.
    if (!m_in.isEmpty() || m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::processInput, Qt::QueuedConnection);
}

void HttpConnection::fail(int status, const QByteArray &message)
{
    qCDebug(lcHttp) << "rejecting request from" << m_socket->peerAddress() << status << message;
    const QByteArray body = openAiErrorBody(QString::fromUtf8(message), QStringLiteral("invalid_request_error"));
    QByteArray response = "HTTP/1.1 " + QByteArray::number(status) + ' ' + HttpResponder::reasonPhrase(status)
        + "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nConnection: close\r\n\r\n" + body;
    m_socket->write(response);
    close();
}

void HttpConnection::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    // Flushes what is queued (the end of a stream, an error reply), then closes.
    m_socket->disconnectFromHost();
}

void HttpConnection::onTimeout()
{
    if (m_state == State::ReadingHead && m_in.isEmpty()) {
        close(); // idle keep-alive connection
        return;
    }
    if (m_state == State::ReadingHead || m_state == State::ReadingBody)
        fail(408, "request was not received in time");
}

void HttpConnection::onDisconnected()
{
    m_state = State::Closed;
    m_deadline.stop();
    if (m_responder)
        m_responder->markClientGone();
    Q_EMIT closed();
    deleteLater();
}
