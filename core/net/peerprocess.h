#pragma once

#include "util/latetext.h"

#include <QByteArrayView>
#include <QHostAddress>
#include <QString>

#include <memory>

namespace route {

// Which program made a request (SPEC §11): for a loopback client, the
// local process that owns the client's end of the connection. Linux:
// the kernel (sock_diag, or /proc/net/tcp{,6}) gives the socket's inode for
// the client's address and port, the process whose /proc/PID/fd holds that socket is the owner, and
// its executable (or, for another user's process, its comm) is the name.
namespace PeerProcess {

// Starts the lookup on a pool thread; the result arrives in the returned
// text (empty if nothing was found). Never blocks the caller.
std::shared_ptr<const LateText> lookupLater(
    const QHostAddress &client, quint16 clientPort, const QHostAddress &server, quint16 serverPort);
// Where the socket of a connection is looked up: the kernel's sock_diag
// netlink (one question per connection), or /proc/net/tcp{,6} (the whole
// table; also where netlink cannot be opened).
enum class SocketTable { Netlink, ProcNet };
// The same, on this thread (tests).
QString lookup(const QHostAddress &client, quint16 clientPort, const QHostAddress &server, quint16 serverPort,
    SocketTable table = SocketTable::Netlink);
// The product of a User-Agent: "curl/8.5.0" → "curl", "OpenAI/JS 6.49.0" → "OpenAI/JS".
QString productOf(QByteArrayView userAgent);

} // namespace PeerProcess

} // namespace route
