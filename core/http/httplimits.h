#pragma once

#include <QtGlobal>

namespace route {

// The edge limits QHttpServer 6.4 lacks; one place for their defaults.
struct HttpLimits
{
    // Loopback clients: which local program owns the connection (SPEC §11),
    // looked up once per connection on a pool thread.
    bool findClientApps = true;
    qint64 maxBodyBytes = 64 * 1024 * 1024;
    int maxHeaderBytes = 64 * 1024;
    int headerTimeoutMs = 30 * 1000; // from the first byte of a request to its last header
    int keepAliveTimeoutMs = 75 * 1000; // idle connection between requests
    qint64 writeHighWater = 1024 * 1024; // pause the producer above this many unsent bytes
    qint64 writeLowWater = 256 * 1024; // and resume below this
};

} // namespace route
