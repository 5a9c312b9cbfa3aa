#pragma once

#include "util/result.h"

#include <QHostAddress>

namespace route {

// -addr as the seed reads it: HOST:PORT, :PORT (all interfaces), [V6]:PORT.
struct ListenAddress
{
    QHostAddress address;
    quint16 port = 0;

    static Result<ListenAddress> parse(const QString &text);
};

} // namespace route
