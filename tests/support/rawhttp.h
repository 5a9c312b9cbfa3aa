#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QList>
#include <QString>

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
// Sends bytes as they are and returns everything read until close or timeout.
QByteArray rawExchange(quint16 port, const QByteArray &bytes, int timeoutMs = 3000);
// Parses one response from `data` at `offset`; the offset moves past it.
RawResponse parseResponse(const QByteArray &data, qsizetype *offset);
