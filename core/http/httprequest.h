#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QHostAddress>

// A complete HTTP/1.x request as read from a client.
struct HttpRequest
{
    QByteArray method;
    QByteArray target; // as sent: path and query
    QByteArray path; // still percent-encoded
    QByteArray query; // without '?'
    int versionMinor = 1;
    HttpHeaders headers;
    QByteArray body;
    QHostAddress peer;

    bool isHead() const { return method == "HEAD"; }
};
