#include "http/httpresponder.h"

#include "http/httpconnection.h"

#include "net/tcpstream.h"
#include "util/bytes.h"

namespace route {

namespace {

bool statusHasNoBody(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

} // namespace

HttpResponder::HttpResponder(
    HttpConnection *connection, TcpStream *socket, bool headRequest, int versionMinor, bool keepAlive)
    : QObject(connection)
    , m_connection(connection)
    , m_socket(socket)
    , m_head(headRequest)
    , m_versionMinor(versionMinor)
    , m_keepAlive(keepAlive)
{ }

QByteArray HttpResponder::reasonPhrase(int status)
{
    switch (status) {
    case 100: return QByteArrayLiteral("Continue");
    case 200: return QByteArrayLiteral("OK");
    case 201: return QByteArrayLiteral("Created");
    case 204: return QByteArrayLiteral("No Content");
    case 301: return QByteArrayLiteral("Moved Permanently");
    case 302: return QByteArrayLiteral("Found");
    case 304: return QByteArrayLiteral("Not Modified");
    case 400: return QByteArrayLiteral("Bad Request");
    case 401: return QByteArrayLiteral("Unauthorized");
    case 403: return QByteArrayLiteral("Forbidden");
    case 404: return QByteArrayLiteral("Not Found");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 409: return QByteArrayLiteral("Conflict");
    case 413: return QByteArrayLiteral("Content Too Large");
    case 417: return QByteArrayLiteral("Expectation Failed");
    case 422: return QByteArrayLiteral("Unprocessable Content");
    case 429: return QByteArrayLiteral("Too Many Requests");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 500: return QByteArrayLiteral("Internal Server Error");
    case 501: return QByteArrayLiteral("Not Implemented");
    case 502: return QByteArrayLiteral("Bad Gateway");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 504: return QByteArrayLiteral("Gateway Timeout");
    default: return QByteArrayLiteral("Status");
    }
}

void HttpResponder::send(int status, const HttpHeaders &headers, const QByteArray &body)
{
    begin(status, headers, body.size());
    write(body);
    end();
}

void HttpResponder::sendJson(int status, const QByteArray &json, const HttpHeaders &extra)
{
    HttpHeaders headers = extra;
    headers.set("Content-Type", "application/json; charset=utf-8");
    send(status, headers, json);
}

void HttpResponder::begin(int status, const HttpHeaders &headers, qint64 contentLength, const QByteArray &reason)
{
    if (m_started || m_clientGone)
        return;
    m_started = true;
    const bool noBody = statusHasNoBody(status);
    // Sized first, so the head is built in one allocation.
    Bytes::Writer head(128 + reason.size() + headers.lineBytes() + m_defaults.lineBytes());
    (head << "HTTP/1.1 ").decimal(status) << ' ' << (reason.isEmpty() ? reasonPhrase(status) : reason) << "\r\n";
    for (const auto &[name, value] : headers)
        if (!HeaderTable::has(name, HeaderTable::Framing)) // ours to write
            head.line(name, value);
    for (const auto &[name, value] : m_defaults)
        if (!headers.contains(name))
            head.line(name, value);
    if (noBody) {
        // no framing headers at all
    } else if (contentLength >= 0) {
        (head << "Content-Length: ").decimal(contentLength) << "\r\n";
    } else if (m_versionMinor >= 1) {
        m_chunked = !m_head;
        head << "Transfer-Encoding: chunked\r\n";
    } else {
        m_keepAlive = false; // HTTP/1.0: the end of the connection ends the body
    }
    if (!m_keepAlive)
        head << "Connection: close\r\n";
    else if (m_versionMinor == 0)
        head << "Connection: keep-alive\r\n";
    head << "\r\n";
    if (noBody)
        m_head = true; // nothing may follow the headers
    writeRaw(head.take());
}

void HttpResponder::write(const QByteArray &data)
{
    if (!m_started || m_finished || m_head || data.isEmpty())
        return;
    m_bodyBytes += data.size();
    if (m_chunked) {
        writeChunk(data);
    } else {
        writeRaw(data);
    }
    flush();
}

void HttpResponder::end()
{
    if (!m_started || m_finished)
        return;
    if (m_chunked)
        writeRaw(QByteArrayLiteral("0\r\n\r\n"));
    flush();
    m_finished = true;
    if (m_connection)
        m_connection->responseDone(m_keepAlive);
}

void HttpResponder::abort()
{
    if (m_finished)
        return;
    m_finished = true;
    m_keepAlive = false;
    if (m_connection)
        m_connection->responseDone(false);
}

qint64 HttpResponder::bufferedBytes() const
{
    return m_socket ? m_socket->bytesToWrite() : 0;
}

void HttpResponder::markClientGone()
{
    if (m_clientGone)
        return;
    m_clientGone = true;
    if (!m_finished && m_listener)
        m_listener->responderEvent(Event::ClientGone);
}

void HttpResponder::markDrained()
{
    if (m_listener)
        m_listener->responderEvent(Event::Drained);
}

void HttpResponder::flush()
{
    // Straight to the kernel instead of on the next turn of the event loop:
    // one write call, no write notifier switched on and off, and the bytes
    // (a streamed event above all) leave at once.
    if (!m_clientGone && m_socket && m_socket->bytesToWrite() > 0)
        m_socket->flush();
}

void HttpResponder::writeChunk(const QByteArray &data)
{
    // A streamed event is small: framed in one buffer, it costs one
    // allocation and one copy instead of three buffers in the queue. A large
    // body is not copied.
    constexpr qsizetype copyBelow = 16 * 1024;
    const bool copy = data.size() < copyBelow;
    Bytes::Writer framed(24 + (copy ? data.size() : 0));
    framed.hex(data.size()) << "\r\n";
    if (!copy) {
        writeRaw(framed.take());
        writeRaw(data);
        writeRaw(QByteArrayLiteral("\r\n"));
        return;
    }
    framed << data << "\r\n";
    writeRaw(framed.take());
}

void HttpResponder::writeRaw(const QByteArray &data)
{
    if (m_clientGone || !m_socket || !m_socket->isConnected())
        return;
    m_socket->write(data);
}

} // namespace route
