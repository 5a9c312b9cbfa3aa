#pragma once

#include "http/chunkeddecoder.h"
#include "http/httplimits.h"
#include "http/httprequest.h"
#include "util/lazydeadline.h"

#include <QObject>
#include <QPointer>

#include <functional>

namespace route {

class HttpResponder;
class TcpStream;

// Gets each request to keep (it is moved from) and the responder to answer it with.
using HttpHandler = std::function<void(HttpRequest &&, HttpResponder *)>;

// One client connection: parses HTTP/1.x requests (Content-Length or chunked
// bodies), enforces the edge limits, answers one request at a time and keeps
// the connection alive between them.
class HttpConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpConnection)
public:
    HttpConnection(TcpStream *socket, const HttpLimits &limits, HttpHandler handler, QObject *parent);
    ~HttpConnection() override;

    // Closes the connection now if it waits for a request; otherwise after
    // the current response.
    void closeWhenIdle();

Q_SIGNALS:
    void closed();

private:
    friend class HttpResponder;
    enum class State { ReadingHead, ReadingBody, Dispatched, Closed };

    void onReadyRead();
    void onDisconnected();
    void onTimeout();
    void processInput();
    bool parseHead(); // false: need more data or failed (then closed)
    bool readBody(); // false: need more data or failed
    bool readChunkedBody();
    void dispatch();
    void fail(int status, const QByteArray &message);
    void responseDone(bool keepAlive);
    void close();
    void armTimer(int ms);
    void timerEvent(QTimerEvent *event) override;

    TcpStream *m_socket;
    HttpLimits m_limits;
    HttpHandler m_handler;
    LazyDeadline m_deadline; // headers due, body not silent, keep-alive
    State m_state = State::ReadingHead;
    QByteArray m_in;
    QString m_peerText;
    std::shared_ptr<const LateText> m_peerApp; // loopback clients: which program (SPEC §11)
    HttpRequest m_request;
    qint64 m_contentLength = 0;
    bool m_chunked = false;
    ChunkedDecoder m_chunks;
    bool m_keepAlive = true;
    bool m_closeWhenIdle = false;
    QPointer<HttpResponder> m_responder;
};

} // namespace route
