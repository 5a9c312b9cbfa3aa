#pragma once

#include "util/latetext.h"

#include <memory>

#include "http/headparser.h"

#include <QByteArray>
#include <QHostAddress>
#include <QString>

namespace route {

// A complete HTTP/1.x request as read from a client: its head, its body, and
// who sent it.
struct HttpRequest : RequestHead
{
    QByteArray body;
    QHostAddress peer;
    QString peerText; // peer as text, made once per connection
    int clientTokenId = 0; // which seed client token was accepted (1-based); 0 = none needed
    qint64 appTokenId = 0; // or which app token (SPEC §11)
    std::shared_ptr<const LateText> peerApp; // the local program behind the connection, found later; null: not loopback
};

} // namespace route
