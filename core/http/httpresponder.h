#pragma once

#include "http/httpheaders.h"

#include <QObject>
#include <QPointer>

namespace route {

class HttpConnection;
class TcpStream;

// Writes one response to a client: all at once, or streamed (chunked on
// HTTP/1.1 when the length is unknown). Owned by its connection; handlers
// hold it through a QPointer because the client may vanish at any time.
class HttpResponder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpResponder)
public:
    enum class Event {
        ClientGone,
        Drained, // unsent bytes fell below the low-water mark: the producer may go on
    };
    // The handler that streams into the responder hears of it through this;
    // a callback instead of signals, for the cost of connecting them per request.
    class Listener
    {
    public:
        virtual void responderEvent(Event event) = 0;

    protected:
        ~Listener() = default;
    };

    HttpResponder(HttpConnection *connection, TcpStream *socket, bool headRequest, int versionMinor, bool keepAlive);

    // One listener; nullptr stops the events (before the listener goes away).
    void setListener(Listener *listener) { m_listener = listener; }

    // Headers added to whatever response follows (CORS).
    void setDefaultHeaders(const HttpHeaders &headers) { m_defaults = headers; }

    void send(int status, const HttpHeaders &headers, const QByteArray &body);
    void sendJson(int status, const QByteArray &json, const HttpHeaders &extra = {});

    // Streaming: begin once, write any number of times, then end or abort.
    void begin(int status, const HttpHeaders &headers, qint64 contentLength = -1, const QByteArray &reason = {});
    void write(const QByteArray &data);
    void end();
    // Sends what is queued now (write() and end() do so themselves).
    void flush();
    // Ends the response abnormally: the connection is closed without the
    // final chunk, so the client sees an error and never a clean end.
    void abort();

    bool isStarted() const { return m_started; }
    bool isFinished() const { return m_finished; }
    bool isClientGone() const { return m_clientGone; }
    qint64 bufferedBytes() const;
    qint64 bytesSent() const { return m_bodyBytes; }

    static QByteArray reasonPhrase(int status);

private:
    friend class HttpConnection;
    void markClientGone();
    void markDrained();
    void writeRaw(const QByteArray &data);
    void writeChunk(const QByteArray &data);

    Listener *m_listener = nullptr;
    HttpHeaders m_defaults;
    QPointer<HttpConnection> m_connection;
    QPointer<TcpStream> m_socket;
    bool m_head;
    int m_versionMinor;
    bool m_keepAlive;
    bool m_chunked = false;
    bool m_started = false;
    bool m_finished = false;
    bool m_clientGone = false;
    qint64 m_bodyBytes = 0;
};

} // namespace route
