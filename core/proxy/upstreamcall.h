#pragma once

#include "http/chunkeddecoder.h"
#include "http/headparser.h"
#include "proxy/upstreamtarget.h"

#include <QObject>
#include <QPointer>

namespace route {

class ByteStream;
class UpstreamClient;

// One request to an upstream and its response, parsed as it arrives. Body
// bytes are buffered up to a bound; past it the socket is no longer read, so
// TCP pushes back on the upstream (a slow client never costs unbounded memory).
class UpstreamCall final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamCall)
public:
    enum class Failure {
        None,
        Connect, // refused, unreachable, DNS: nothing was sent
        Tls, // handshake or certificate
        Closed, // reset or closed by the upstream
        Protocol, // not HTTP/1.x as we know it
    };

    enum class Event {
        Headers, // status() and headers() are there
        Data, // body bytes wait in readAll()
        Finished, // success or failure(); body bytes may still wait in readAll()
    };
    // Whoever owns the call hears of it through this, not through signals:
    // a connection made and removed per request cost more than parsing the
    // response head. The listener may drop or delete the call from within.
    class Listener
    {
    public:
        virtual void upstreamEvent(UpstreamCall *call, Event event) = 0;

    protected:
        ~Listener() = default;
    };

    UpstreamCall(UpstreamClient *client, std::shared_ptr<const UpstreamOrigin> origin, const QByteArray &method,
        QByteArray requestBytes);
    ~UpstreamCall() override;

    // One listener; nullptr stops the events (before the listener goes away).
    void setListener(Listener *listener) { m_listener = listener; }

    void start();
    // Closes the connection at once (it is not reused).
    void abort();

    bool hasHeaders() const { return m_state >= State::Body; }
    bool isFinished() const { return m_state == State::Done; }
    int status() const { return m_response.status; }
    const QByteArray &reason() const { return m_response.reason; }
    const HttpHeaders &headers() const { return m_response.headers; }
    qint64 contentLength() const { return m_framing == BodyFraming::Length ? m_remaining + m_received : -1; }
    Failure failure() const { return m_failure; }
    QString errorString() const { return m_errorString; }
    bool headersWereReceived() const { return hasHeaders(); }

    qint64 bytesAvailable() const { return m_body.size(); }
    // Received but not yet parsed: the body that came with the headers.
    bool hasUnparsedInput() const;
    QByteArray readAll();

    static constexpr qint64 maxBufferedBytes = 256 * 1024;

private:
    friend class UpstreamClient;
    enum class State { Idle, Sending, Head, Body, Done };

    void notify(Event event);
    void attach(ByteStream *socket);
    void detach();
    void sendRequest();
    void onReadyRead();
    void onDisconnected();
    void onError();
    void process();
    bool parseHead();
    static QString describe(HeadError error);
    bool parseBody();
    void complete();
    void fail(Failure failure, const QString &message);
    void retryOnFreshConnection();

    Listener *m_listener = nullptr;
    QPointer<UpstreamClient> m_client;
    std::shared_ptr<const UpstreamOrigin> m_origin;
    bool m_head;
    QByteArray m_request;
    QPointer<ByteStream> m_socket;
    bool m_reused = false;
    bool m_retried = false;
    bool m_gotBytes = false;
    State m_state = State::Idle;
    QByteArray m_in;
    QByteArray m_body;
    ResponseHead m_response;
    bool m_keepAlive = true;
    BodyFraming m_framing = BodyFraming::None;
    qint64 m_remaining = 0;
    qint64 m_received = 0;
    ChunkedDecoder m_chunks;
    Failure m_failure = Failure::None;
    QString m_errorString;
    bool m_processQueued = false;
};

} // namespace route
