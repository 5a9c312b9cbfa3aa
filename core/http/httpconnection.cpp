#include "http/httpconnection.h"

#include "net/peerprocess.h"

#include "http/errorbody.h"
#include "http/httpresponder.h"
#include "util/logging.h"

#include "net/tcpstream.h"

#include <QTimerEvent>

namespace route {

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
    // ROUTE_NO_CLIENT_APPS=1 turns the lookup off, to compare or to rule it out.
    static const bool disabled = qEnvironmentVariableIntValue("ROUTE_NO_CLIENT_APPS") != 0;
    if (m_limits.findClientApps && !disabled && socket->peerAddress().isLoopback())
        m_peerApp = PeerProcess::lookupLater(
            socket->peerAddress(), socket->peerPort(), socket->localAddress(), socket->localPort());
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
    const HeadLimits limits{m_limits.maxHeaderBytes, m_limits.maxBodyBytes};
    const HeadResult head = HeadParser::parseRequest(m_in, m_request, limits);
    if (head.isInvalid()) {
        fail(HeadParser::statusFor(head.error), HeadParser::messageFor(head.error, limits));
        return false;
    }
    if (!head.isComplete())
        return false;
    m_chunked = head.framing == BodyFraming::Chunked;
    m_contentLength = head.framing == BodyFraming::Length ? head.contentLength : 0;
    if (m_chunked)
        m_chunks = ChunkedDecoder(m_limits.maxBodyBytes, m_limits.maxHeaderBytes);
    m_keepAlive = head.keepAlive;
    if (head.expectContinue) {
        // curl waits a second for this before it sends a large body.
        const bool bodyPending = m_chunked || m_contentLength > m_in.size() - head.consumed;
        if (bodyPending && m_request.versionMinor >= 1)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    m_in.remove(0, head.consumed);
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
    m_request.peerApp = m_peerApp;
    auto *responder = new HttpResponder(
        this, m_socket, m_request.isHead(), m_request.versionMinor, m_keepAlive && !m_closeWhenIdle);
    m_responder = responder;
    m_handler(std::move(m_request), responder);
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

} // namespace route
