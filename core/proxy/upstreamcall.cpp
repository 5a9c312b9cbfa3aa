#include "proxy/upstreamcall.h"

#include "proxy/upstreamclient.h"
#include "util/bytes.h"
#include "util/logging.h"

#include "http/bytestream.h"

namespace {
constexpr int maxHeadBytes = 64 * 1024;
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
    // Past this many unread bytes Qt stops reading the kernel socket: TCP
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
            if (m_body.size() > before)
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
    const qsizetype end = Bytes::indexOf(m_in, "\r\n\r\n");
    if (end < 0) {
        if (m_in.size() > maxHeadBytes)
            fail(Failure::Protocol, tr("the upstream's response headers are too large"));
        return false;
    }
    const QByteArrayView head = QByteArrayView(m_in).first(end);
    const qsizetype firstEnd = Bytes::indexOf(head, '\n');
    const QByteArrayView statusLine = head.first(firstEnd < 0 ? head.size() : firstEnd).trimmed();
    const qsizetype sp1 = Bytes::indexOf(statusLine, ' ');
    const QByteArrayView version = sp1 < 0 ? statusLine : statusLine.first(sp1);
    const qsizetype sp2 = sp1 < 0 ? -1 : Bytes::indexOf(statusLine, ' ', sp1 + 1);
    bool ok = false;
    const int status
        = sp1 < 0 ? 0 : statusLine.sliced(sp1 + 1, (sp2 < 0 ? statusLine.size() : sp2) - sp1 - 1).toInt(&ok);
    if (sp1 < 0 || !version.startsWith("HTTP/1.") || !ok || status < 100 || status > 999) {
        fail(Failure::Protocol, tr("the upstream did not answer with HTTP/1.x"));
        return false;
    }
    if (status >= 100 && status < 200 && status != 101) {
        m_in.remove(0, end + 4);
        return true; // interim response (100 Continue): the real one follows
    }

    m_status = status;
    m_reason = sp2 < 0 ? QByteArray() : statusLine.sliced(sp2 + 1).toByteArray();
    m_headers.reserve(16);
    if (firstEnd >= 0) {
        HttpHeaders::forEachLine(head.sliced(firstEnd + 1), [this](QByteArrayView line) {
            const qsizetype colon = Bytes::indexOf(line, ':');
            if (colon > 0)
                m_headers.appendCopy(line.first(colon).trimmed(), line.sliced(colon + 1).trimmed());
            return true;
        });
    }
    const bool http10 = version == "HTTP/1.0";
    m_in.remove(0, end + 4);
    m_keepAlive = http10 ? m_headers.hasToken("connection", "keep-alive") : !m_headers.hasToken("connection", "close");
    bool lengthOk = false;
    const qint64 length = m_headers.value("content-length").trimmed().toLongLong(&lengthOk);
    if (m_head || status == 204 || status == 304) {
        m_framing = Framing::None;
    } else if (m_headers.hasToken("transfer-encoding", "chunked")) {
        m_framing = Framing::Chunked;
    } else if (lengthOk && length >= 0) {
        m_framing = Framing::Length;
        m_remaining = length;
    } else {
        m_framing = Framing::UntilClose;
        m_keepAlive = false;
    }
    m_state = State::Body;
    notify(Event::Headers);
    return m_state == State::Body; // the handler may have aborted us
}

bool UpstreamCall::parseBody()
{
    switch (m_framing) {
    case Framing::None: return true;
    case Framing::UntilClose:
        m_received += m_in.size();
        m_body += m_in;
        m_in.clear();
        return false;
    case Framing::Length: {
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
    case Framing::Chunked: {
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
        if (done || m_framing == Framing::UntilClose) {
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
