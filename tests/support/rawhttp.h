#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <functional>

using namespace route; // test code reads like code inside the project

// A blocking HTTP/1.1 client on a raw socket: it sees exactly what the
// proxy sends (framing, timing of each chunk, abnormal ends).
struct RawResponse
{
    int status = 0;
    HttpHeaders headers;
    QByteArray body;
    bool complete = false; // the body ended as its framing says
    bool closedByPeer = false;
    qint64 headersArrivalMs = -1; // since the request was sent
    QList<qint64> chunkArrivalMs; // per decoded chunk, since the request was sent
    QList<QByteArray> chunks;
    QString error;
};

struct RawRequest
{
    QByteArray method = "GET";
    QByteArray target = "/";
    HttpHeaders headers;
    QByteArray body;
    int timeoutMs = 10000;
};

RawResponse rawHttp(quint16 port, const RawRequest &request);
// A JSON POST with AUTHORIZATION (e.g. "Bearer sk-…"), as SDKs send it.
RawRequest jsonPost(const QByteArray &target, const QByteArray &body, const QByteArray &authorization);

// What COUNT requests sent at once (one thread each, SEND(i) makes the
// i-th) got: 200, 429 with error code REFUSALCODE (each saying when to
// retry, or not), or anything else.
struct ParallelVerdicts
{
    int ok = 0;
    int refused = 0;
    int other = 0;
    bool refusalsSayWhen = true; // every refusal had a Retry-After of 1 s or more
};
ParallelVerdicts sendAtOnce(int count, const std::function<RawResponse(int)> &send, const QString &refusalCode);
// Sends bytes as they are and returns everything read until close or timeout.
QByteArray rawExchange(quint16 port, const QByteArray &bytes, int timeoutMs = 3000);
// Parses one response from `data` at `offset`; the offset moves past it.
RawResponse parseResponse(const QByteArray &data, qsizetype *offset);
