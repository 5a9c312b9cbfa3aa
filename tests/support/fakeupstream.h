#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QThread>

#include <functional>

using namespace route; // test code reads like code inside the project

// A scriptable OpenAI-like upstream on 127.0.0.1:0, running on its own
// thread so tests may block. It can answer, stream, stall, reset or hang.
class FakeUpstream
{
public:
    struct Request
    {
        QByteArray method;
        QByteArray target;
        HttpHeaders headers;
        QByteArray body;
    };

    struct Behavior
    {
        // Raw: `body` is the whole response, written as it is, then the connection closed.
        enum class Kind { Respond, Stream, Reset, Hang, CloseWithoutResponse, Flood, Raw };
        Kind kind = Kind::Respond;
        int status = 200;
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray body;
        int delayMs = 0; // before the response headers
        // Stream: each event is written as one chunk, intervalMs apart.
        QList<QByteArray> events;
        int intervalMs = 0;
        int cutAfterEvents = -1; // close the connection abruptly after this many
        int stallAfterEvents = -1; // stop sending (keep the connection) after this many
        bool chunked = true;
        // Flood: floodBytes of a repeating pattern, written only as fast as
        // the peer reads (so the fake itself buffers little).
        qint64 floodBytes = 0;

        static Behavior json(int status, const QByteArray &body);
        static Behavior sse(const QList<QByteArray> &events, int intervalMs);
        static Behavior of(Kind kind);
        // n chat-completion delta events, then "data: [DONE]" unless done is false.
        static QList<QByteArray> chatEvents(int n, bool done = true);
    };

    using Script = std::function<Behavior(const Request &)>;

    FakeUpstream();
    ~FakeUpstream();

    quint16 port() const { return m_port; }
    QString baseUrl(const QString &path = QStringLiteral("/v1")) const;
    void setScript(Script script);
    void setBehavior(const Behavior &behavior);

    QList<Request> requests() const;
    int requestCount() const;
    // Streams whose client went away before the stream ended.
    int clientAborts() const;
    // Flood: the most bytes the fake had queued and unsent at once.
    qint64 maxQueuedBytes() const;
    void clear();

private:
    friend class FakeUpstreamServer;
    Behavior behaviorFor(const Request &request);
    void recordAbort();
    void recordQueued(qint64 bytes);

    QThread m_thread;
    QObject *m_server = nullptr;
    quint16 m_port = 0;
    mutable QMutex m_mutex;
    Script m_script;
    QList<Request> m_requests;
    int m_aborts = 0;
    qint64 m_maxQueued = 0;
};
