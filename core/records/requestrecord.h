#pragma once

#include "domain/vocabulary.h"
#include "util/latetext.h"

#include <QDateTime>
#include <QMetaType>
#include <QString>

#include <memory>

namespace route {

// What happened to one proxied request; becomes a row of `records`.
struct RequestRecord
{
    qint64 id = 0;
    QDateTime createdAt;
    QString clientIp;
    int clientTokenId = 0; // 1-based position of the seed's client token; 0 = -noauth or an app token
    qint64 appTokenId = 0; // the app token (SPEC §11); 0 = none
    QString clientApp; // the program that sent it: its executable (loopback) or the User-Agent's product
    std::shared_ptr<const LateText> peerApp; // the executable, when its lookup is done (read by the store)
    QString method;
    QString path;
    QString model; // as the client asked
    QString
        upstreamModel; // as the upstream that answered was asked, when an alias made it another name; empty = `model`
    bool stream = false;
    qint64 upstreamId = 0; // the upstream that answered; 0 = none
    int status = 0;
    qint64 ttfbMs = 0;
    qint64 durationMs = 0;
    int attempts = 0;
    QString attemptLog; // "3:503 1:200": upstream id and status/error class per attempt
    qint64 requestBytes = 0;
    qint64 responseBytes = 0;
    int promptTokens = 0; // all input, cached included
    int completionTokens = 0;
    int totalTokens = 0;
    int cachedTokens = 0; // input read from a prompt cache
    int cacheWriteTokens = 0; // input written to a prompt cache (Anthropic)
    int reasoningTokens = 0; // of the completion, thinking
    double costUsd = 0; // by the price of the model sent; 0 when it has none
    QString session; // the affinity key the request was bound by, shortened; empty = none
    bool sessionBound = false; // the binding chose the upstream (not the policy)
    bool converted = false;
    bool limited = false; // refused by its app token's limits (not stored: for the tray's notice) // the request went
                          // to an upstream of the other format, converted
    Outcome outcome = Outcome::Failed;
    QString error;
    QString userAgent;
    QString body; // only when the user turns body recording on
    QString response;
    // Per-upstream outcome, for the counters: ids that failed and the one that served.
    QList<qint64> failedUpstreams;
    bool upstreamSucceeded = false;
};

// Every member moves by memcpy: the queue of records grows without running
// a move constructor per record.

} // namespace route

Q_DECLARE_TYPEINFO(route::RequestRecord, Q_RELOCATABLE_TYPE);
Q_DECLARE_METATYPE(route::RequestRecord)
