#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QHostAddress>
#include <QString>

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
    QString peerText; // peer as text, made once per connection
    int clientTokenId = 0; // which client token was accepted (1-based); 0 = none needed

    bool isHead() const { return method == "HEAD"; }
};
