#include "http/httpresponder.h"

#include "http/httpconnection.h"

#include "http/tcpstream.h"

namespace {

bool statusHasNoBody(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

bool isFramingHeader(QByteArrayView name)
{
    return HttpHeaders::nameEquals(name, "content-length") || HttpHeaders::nameEquals(name, "transfer-encoding")
        || HttpHeaders::nameEquals(name, "connection") || HttpHeaders::nameEquals(name, "keep-alive");
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
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
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
    QByteArray head;
    head.reserve(256 + 64 * int(headers.size()));
    head
        += "HTTP/1.1 " + QByteArray::number(status) + ' ' + (reason.isEmpty() ? reasonPhrase(status) : reason) + "\r\n";
    for (const auto &[name, value] : headers) {
        if (isFramingHeader(name))
            continue;
        head += name + ": " + value + "\r\n";
    }
    for (const auto &[name, value] : m_defaults)
        if (!headers.contains(name))
            head += name + ": " + value + "\r\n";
    if (noBody) {
        // no framing headers at all
    } else if (contentLength >= 0) {
        head += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
    } else if (m_versionMinor >= 1) {
        m_chunked = !m_head;
        head += "Transfer-Encoding: chunked\r\n";
    } else {
        m_keepAlive = false; // HTTP/1.0: the end of the connection ends the body
    }
    if (!m_keepAlive)
        head += "Connection: close\r\n";
    else if (m_versionMinor == 0)
        head += "Connection: keep-alive\r\n";
    head += "\r\n";
    if (noBody)
        m_head = true; // nothing may follow the headers
    writeRaw(head);
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
    flushNow();
}

void HttpResponder::end()
{
    if (!m_started || m_finished)
        return;
    if (m_chunked)
        writeRaw(QByteArrayLiteral("0\r\n\r\n"));
    flushNow();
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
    if (!m_finished)
        Q_EMIT clientGone();
}

void HttpResponder::flushNow()
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
    // allocation and one copy instead of three buffers in the queue.
    constexpr qsizetype copyBelow = 16 * 1024;
    char hex[20];
    int n = int(sizeof hex);
    hex[--n] = '\n';
    hex[--n] = '\r';
    for (quint64 left = quint64(data.size()); n == int(sizeof hex) - 2 || left > 0; left >>= 4)
        hex[--n] = "0123456789abcdef"[left & 0xf];
    const QByteArrayView prefix(hex + n, qsizetype(sizeof hex) - n);
    if (data.size() >= copyBelow) {
        writeRaw(prefix.toByteArray());
        writeRaw(data);
        writeRaw(QByteArrayLiteral("\r\n"));
        return;
    }
    QByteArray framed;
    framed.reserve(prefix.size() + data.size() + 2);
    framed.append(prefix).append(data).append("\r\n", 2);
    writeRaw(framed);
}

void HttpResponder::writeRaw(const QByteArray &data)
{
    if (m_clientGone || !m_socket || !m_socket->isConnected())
        return;
    m_socket->write(data);
}
