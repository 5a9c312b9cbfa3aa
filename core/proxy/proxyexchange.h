#pragma once

#include "balancer/balancer.h"
#include "convert/messageschat.h"
#include "convert/responseschat.h"
#include "domain/snapshot.h"
#include "http/httprequest.h"
#include "http/httpresponder.h"
#include "limits/applimits.h"
#include "proxy/proxyrules.h"
#include "proxy/upstreamcall.h"
#include "records/requestrecord.h"
#include "records/usagescanner.h"
#include "util/lazydeadline.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

namespace route {

class AffinityTable;
class SharedLimits;
class Balancer;
class HealthTracker;
class Metrics;
class RecordSink;
class ProxyHandler;
class UpstreamClient;
struct HttpLimits;

// What every exchange shares: where upstreams, connections and records live.
struct ProxyContext
{
    SnapshotHolder *snapshots = nullptr;
    UpstreamClient *upstreams = nullptr;
    Balancer *balancer = nullptr;
    HealthTracker *health = nullptr;
    Metrics *metrics = nullptr;
    RecordSink *records = nullptr;
    AffinityTable *affinity = nullptr;
    qint64 writeHighWater = 1024 * 1024;
    const std::atomic<int> *catalogPending = nullptr; // model catalog fetches running (SPEC §10)
    AppLimits *limits = nullptr; // app tokens' limits and spend (SPEC §11)
    SharedLimits *sharedLimits = nullptr; // team mode: the same, counted in PostgreSQL (SPEC §12)
};

// One client request through the proxy: tries the candidates in turn until
// one answers with something worth relaying, then relays it as it arrives.
// Nothing is retried once a byte went to the client.
class ProxyExchange final : public QObject, private UpstreamCall::Listener, private HttpResponder::Listener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProxyExchange)
public:
    // Tells the handler once the exchange is over; it is deleted later.
    ProxyExchange(HttpRequest &&request, HttpResponder *responder, const ProxyContext &context, ProxyHandler *handler);
    ~ProxyExchange() override;

    void start();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    // Where the exchange is; every change goes through enter(), which checks it.
    enum class Phase {
        Starting, // choosing the candidates
        Attempting, // a request is with an upstream; the client has nothing yet
        CollectingError, // a failover answer is read in full, to be relayed if nothing better comes
        Relaying, // the client has the status line: nothing is retried from here
        Finished, // recorded; deleted later
    };
    void enter(Phase next);
    static bool isAllowed(Phase from, Phase to);

    struct StoredResponse
    {
        bool converted = false; // from a chat upstream, for a client of another API
        int status = 0;
        QByteArray reason;
        HttpHeaders headers;
        QByteArray body;
    };

    void upstreamEvent(UpstreamCall *call, UpstreamCall::Event event) override;
    void responderEvent(HttpResponder::Event event) override;
    void tryNext();
    void sendAttempt(const Upstream &upstream);
    void onHeaders();
    void onReadyRead();
    void onCallFinished();
    void armIdleTimer();
    void watchHeaders(int timeoutMs);
    void noteActivity();
    void unwatch();
    void onHeaderTimeout();
    void onIdleTimeout();
    void onClientGone();
    void relay();
    void commit(int status);
    void failAttempt(const QString &what, FailureClass failure, qint64 retryAfterMs = -1);
    // Tells the health tracker how the current attempt went; no failure = success.
    void reportAttempt(std::optional<FailureClass> failure, const QString &reason, qint64 retryAfterMs = -1);
    void keepErrorResponse();
    // The verdict on a whole answer of STATUS, once: its failure class or a success.
    void reportAnswer(int status);
    void finishWithError(
        int status, const QString &message, const QString &type, const QString &code, const HttpHeaders &extra = {});
    void finish(Outcome outcome, const QString &error = QString());
    // count_tokens with nobody to ask (or an upstream without it): an
    // estimate from the request, marked as one, without an upstream call.
    void answerCountTokens();
    // An app token's limits, before anything goes upstream; false: refused (answered).
    bool admitAppToken();
    // Team mode: asks the shared count (on its thread); true: asked, and
    // the exchange goes on in admitted(). False: nothing to ask there.
    bool askSharedLimits();
    void admitted(const AppLimits::Admission &a);
    // Answers a refusal of TOKEN's limits; false when A refused.
    bool applyAdmission(const AppToken &token, const AppLimits::Admission &a);
    // The candidates for the request, and the first attempt.
    void chooseAndSend();
    // The answer's tokens into the record and its cost counted to its app
    // token, once: before the last bytes go out when the answer is whole.
    void settleUsage();
    // The record's cost by the price of the model sent, counted to its app token.
    void countCost();
    // The attempt is over without saying anything of the upstream's health.
    void endAttemptWithoutVerdict();
    // Responses: the id of the response this upstream made, for a later
    // turn's previous_response_id.
    void noteResponseId(const QByteArray &chunk);
    // A Responses or Messages stream is whole only with its terminal event.
    bool streamCameToItsEnd() const;
    void dropCall();
    void describeRequest();
    void logLine() const;
    // Upstream bytes on their way to the client: converted when the
    // exchange converts, then delivered.
    void forward(const QByteArray &chunk);
    void deliver(const QByteArray &bytes);
    // Messages for a client, Chat from the upstream (no Anthropic upstream).
    bool convertToChat();
    // Whether this attempt converts (Responses to an upstream without
    // /v1/responses); false when the request cannot be converted (answered).
    bool chooseConversion(const Upstream &upstream);
    // The converted answer's end: the closing events, or the whole JSON.
    QByteArray finishConversion(int status);
    // With body recording on: the assistant's text from the stream's deltas.
    void collectDeltas(const QByteArray &chunk);

    HttpRequest m_request;
    QPointer<HttpResponder> m_responder;
    ProxyContext m_context;
    ProxyHandler *m_handler;
    std::shared_ptr<const Snapshot> m_snapshot;
    QString m_model; // as the client asked; each upstream may get its own alias
    QList<const Upstream *> m_candidates; // in m_snapshot
    RequestTraits m_requestTraits;
    bool m_holdWrites = false; // the last bytes wait in m_held (see onCallFinished)
    QByteArray m_held;
    bool m_usageSettled = false;
    int m_next = 0;
    const Upstream *m_current = &noUpstream(); // the attempt's, in m_snapshot
    static const Upstream &noUpstream()
    {
        static const Upstream none;
        return none;
    }
    QPointer<UpstreamCall> m_call;
    // One deadline for both watches: the response headers of an attempt,
    // then the gaps in the body.
    enum class Watch { None, Headers, Idle };
    Watch m_watch = Watch::None;
    LazyDeadline m_deadline;
    int m_headerTimeoutMs = 0;
    int m_idleTimeoutMs = 0;
    QElapsedTimer m_clock;
    Phase m_phase = Phase::Starting;
    ProxyRules::Endpoint m_endpoint = ProxyRules::Endpoint::Other;
    QByteArray m_affinityKey;
    qint64 m_quotaRestMs = -1; // from the rate-limit headers of the answer relayed
    bool m_responseIdSeen = false;
    // Conversion (SPEC §9): a Messages request over a Chat upstream.
    enum class Convert { None, Stream, Json };
    enum class Conversion { None, MessagesToChat, ResponsesToChat };
    bool m_converting = false; // this attempt
    Conversion m_conversion = Conversion::None;
    QByteArray m_chatBody; // the request as the chat upstream gets it
    QString m_convertModel;
    QByteArray m_responseId; // of a Responses answer made here
    Convert m_convertAnswer = Convert::None;
    std::unique_ptr<StreamConverter> m_convertStream;
    QByteArray m_convertJson; // a JSON answer, collected: it converts as a whole
    bool m_stream = false;
    bool m_attemptOpen = false; // counted as in flight by the health tracker
    bool m_onlyRateLimits = true; // every attempt so far answered 429
    qint64 m_lastRetryAfterMs = -1;
    QList<qint64> m_tried;
    bool m_scanUsage = false;
    bool m_eventStream = false;
    QByteArray m_partialLine; // of an event stream, when bodies are recorded
    QString m_assistantText;
    UsageScanner m_usage;
    std::optional<StoredResponse> m_lastError;
    RequestRecord m_record;
    QStringList m_attemptLog;
};

} // namespace route
