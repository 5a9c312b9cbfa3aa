#pragma once

#include "store/snapshot.h"

#include <QList>
#include <QString>

// What a request asks for, as far as choosing an upstream goes.
struct RequestTraits
{
    QString model;
    QString path; // the client's path, e.g. /v1/chat/completions
};

// Turns the snapshot into the ordered list of upstreams to try for one request.
namespace Balancer {

// Enabled and allowed for the request (allow list first, then deny list).
bool isEligible(const Upstream &u, const RequestTraits &traits);
// Patterns match model names or, when they start with '/', paths; a
// trailing '*' matches any suffix.
bool matches(const QString &pattern, const RequestTraits &traits);
QList<Upstream> candidates(const Snapshot &snapshot, const RequestTraits &traits);

} // namespace Balancer
