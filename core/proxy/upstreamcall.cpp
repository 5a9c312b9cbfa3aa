#include "proxy/upstreamcall.h"

#include "proxy/upstreamclient.h"
#include "util/logging.h"

#include "net/bytestream.h"

namespace route {

namespace {
constexpr qsizetype maxHeadBytes = 64 * 1024;
}

UpstreamCall::UpstreamCall(UpstreamClient *client, std::shared_ptr<const UpstreamOrigin> origin,
    const QByteArray &method, QByteArray requestBytes)
    : QObject(client)
    , m_client(client)
    , m_origin(std::move(origin))
    , m_head(method == "HEAD")
    , m_request(std::move(requestBytes))
{ }

UpstreamCall::~UpstreamCall()
{
    abort();
}

void UpstreamCall::start()
{
    if (!m_client)
        return;
    bool reused = false;
    ByteStream *socket = m_client->acquire(*m_origin, &reused);
    m_reused = reused;
    attach(socket);
    m_state = State::Head;
    sendRequest();
}

void UpstreamCall::notify(Event event)
{
    if (m_listener)
        m_listener->upstreamEvent(this, event);
}

void UpstreamCall::attach(ByteStream *socket)
{
    m_socket = socket;
    // Past this many unread bytes the stream stops reading the kernel socket: TCP
    // then slows the upstream down instead of our memory filling up.
    socket->setReadBufferLimit(maxBufferedBytes);
    if (m_client)
        m_client->setOwner(socket, this);
}

void UpstreamCall::sendRequest()
{
    m_socket->write(m_request);
    // Out now rather than on the next turn of the event loop: saves switching
    // the write notifier on and off, and a wait, per request.
    if (m_socket->isConnected())
        m_socket->flush();
}

void UpstreamCall::detach()
{
    if (!m_socket)
        return;
    if (m_client)
        m_client->setOwner(m_socket, nullptr);
    m_socket = nullptr;
}

void UpstreamCall::abort()
{
    if (!m_socket)
        return;
    ByteStream *socket = m_socket;
    detach();
    if (m_client) {
        m_client->discard(socket);
    } else {
        socket->abort();
        socket->deleteLater();
    }
}

QByteArray UpstreamCall::readAll()
{
    QByteArray out;
    out.swap(m_body);
    // The consumer made room: read on what the socket has kept waiting.
    if (m_socket && m_state == State::Body && !m_processQueued && m_socket->bytesAvailable() > 0) {
        m_processQueued = true;
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_processQueued = false;
                process();
            },
            Qt::QueuedConnection);
    }
    return out;
}

bool UpstreamCall::hasUnparsedInput() const
{
    return !m_in.isEmpty() || (m_socket && m_socket->bytesAvailable() > 0);
}

void UpstreamCall::onReadyRead()
{
    process();
}

void UpstreamCall::process()
{
    if (!m_socket || m_state == State::Done)
        return;
    while (m_state != State::Done) {
        if (m_body.size() < maxBufferedBytes && m_socket && m_socket->bytesAvailable() > 0) {
            m_gotBytes = true;
            // All that is there, taken over without a copy: the stream holds
            // at most maxBufferedBytes itself, so the bound stays (twice it).
            const QByteArray data = m_socket->readAll();
            if (m_in.isEmpty())
                m_in = data;
            else
                m_in += data;
        }
        if (m_state == State::Head) {
            if (!parseHead())
                return;
            continue;
        }
        if (m_state == State::Body) {
            const qint64 before = m_body.size();
            const bool done = parseBody();
            // The read that ends the body goes out with Finished: the
            // exchange judges the answer before its last bytes leave.
            if (m_body.size() > before && !done)
                notify(Event::Data);
            if (done) {
                complete();
                return;
            }
            const bool canRead = m_socket && m_socket->bytesAvailable() > 0 && m_body.size() < maxBufferedBytes;
            if (!canRead)
                return;
        }
    }
}

bool UpstreamCall::parseHead()
{
    const HeadResult head = HeadParser::parseResponse(m_in, m_response, m_head, HeadLimits{maxHeadBytes});
    if (head.isInvalid()) {
        fail(Failure::Protocol, describe(head.error));
        return false;
    }
    if (!head.isComplete())
        return false;
    m_in.remove(0, head.consumed);
    if (head.interim)
        return true; // 100 Continue: the real head follows
    m_keepAlive = head.keepAlive;
    m_framing = head.framing;
    m_remaining = head.framing == BodyFraming::Length ? head.contentLength : 0;
    m_state = State::Body;
    notify(Event::Headers);
    return m_state == State::Body; // the handler may have aborted us
}

QString UpstreamCall::describe(HeadError error)
{
    switch (error) {
    case HeadError::TooLarge: return tr("the upstream's response headers are too large");
    case HeadError::BadStartLine:
    case HeadError::BadVersion: return tr("the upstream did not answer with HTTP/1.x");
    default:
        return tr("the upstream's response is ambiguous or malformed (%1)")
            .arg(QLatin1String(HeadParser::messageFor(error)));
    }
}

bool UpstreamCall::parseBody()
{
    switch (m_framing) {
    case BodyFraming::None: return true;
    case BodyFraming::UntilClose:
        m_received += m_in.size();
        m_body += m_in;
        m_in.clear();
        return false;
    case BodyFraming::Length: {
        const qint64 take = qMin<qint64>(m_remaining, m_in.size());
        if (take == m_in.size()) {
            m_body += m_in;
            m_in.clear();
        } else {
            m_body.append(m_in.constData(), take);
            m_in.remove(0, take);
        }
        m_remaining -= take;
        m_received += take;
        return m_remaining == 0;
    }
    case BodyFraming::Chunked: {
        const qint64 before = m_chunks.decodedBytes();
        const ChunkedDecoder::Result r = m_chunks.decode(m_in, m_body);
        m_received += m_chunks.decodedBytes() - before;
        if (r == ChunkedDecoder::Result::Done)
            return true;
        if (r != ChunkedDecoder::Result::NeedMore)
            fail(Failure::Protocol, tr("the upstream sent a malformed chunk"));
        return false;
    }
    }
    return false;
}

void UpstreamCall::complete()
{
    m_state = State::Done;
    ByteStream *socket = m_socket;
    detach();
    if (socket) {
        const bool reusable
            = m_keepAlive && m_in.isEmpty() && socket->bytesAvailable() == 0 && socket->isConnected() && m_client;
        if (reusable) {
            m_client->release(m_origin->poolKey, socket);
        } else if (m_client) {
            m_client->discard(socket);
        } else {
            socket->abort();
            socket->deleteLater();
        }
    }
    notify(Event::Finished);
}

void UpstreamCall::fail(Failure failure, const QString &message)
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    m_failure = failure;
    m_errorString = message;
    abort();
    notify(Event::Finished);
}

void UpstreamCall::retryOnFreshConnection()
{
    // A kept-alive connection that the upstream had closed before our request
    // reached it: the request was never seen, so a new connection may carry it.
    abort();
    m_retried = true;
    m_reused = false;
    m_in.clear();
    attach(m_client->connectNew(*m_origin));
    sendRequest();
}

void UpstreamCall::onDisconnected()
{
    if (m_state == State::Done || !m_socket)
        return;
    // Whatever arrived before the close is still ours to parse.
    if (m_socket->bytesAvailable() > 0) {
        m_gotBytes = true;
        m_in += m_socket->readAll();
    }
    if (m_state == State::Head && !m_gotBytes && m_reused && !m_retried && m_client) {
        retryOnFreshConnection();
        return;
    }
    if (m_state == State::Head)
        parseHead();
    if (m_state == State::Body) {
        const qint64 before = m_body.size();
        const bool done = parseBody();
        if (m_body.size() > before)
            notify(Event::Data);
        if (done || m_framing == BodyFraming::UntilClose) {
            m_keepAlive = false;
            complete();
            return;
        }
    }
    fail(Failure::Closed,
        m_state == State::Body ? tr("the upstream closed the connection mid-response")
                               : tr("the upstream closed the connection without an answer"));
}

void UpstreamCall::onError()
{
    if (!m_socket || m_state == State::Done)
        return;
    const ByteStream::Error error = m_socket->error();
    if (error == ByteStream::Error::RemoteClosed)
        return; // handled by onDisconnected, which sees the buffered bytes
    const QString text = m_socket->errorString();
    switch (error) {
    case ByteStream::Error::HostNotFound:
    case ByteStream::Error::ConnectionRefused:
    case ByteStream::Error::Network:
        if (!m_gotBytes && m_state == State::Head && !m_socket->isConnected()) {
            fail(Failure::Connect, text);
            return;
        }
        break;
    case ByteStream::Error::Tls: fail(Failure::Tls, text); return;
    default: break;
    }
    if (m_state == State::Head && !m_gotBytes && m_reused && !m_retried && m_client) {
        retryOnFreshConnection();
        return;
    }
    fail(Failure::Closed, text);
}

} // namespace route
