#pragma once

#include "domain/snapshot.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace route {

// The proxy's own /v1/models (SPEC §10), made from the upstreams' catalogs
// in the snapshot: never a request to an upstream.
namespace ModelList {

enum class Shape { OpenAI, Anthropic };

struct Entry
{
    QString id;
    QString ownedBy; // the first upstream that serves it: its name, or its endpoint's host
    QDateTime created; // when that upstream's list was fetched
};

// The union over enabled upstreams of their lists and their ModelMap names
// (globs left out), each filtered by the upstream's Allow/Deny model
// patterns; deduplicated, sorted. OpenAI's shape lists what an OpenAI
// client can reach, the openai-format upstreams; Anthropic's lists every
// upstream, since a Messages request converts to a chat upstream.
QList<Entry> merged(const Snapshot &snapshot, Shape shape);
std::optional<Entry> find(const Snapshot &snapshot, Shape shape, const QString &id);
// Whether any enabled upstream was ever asked (a list, or an error): with
// none, a caller may wait for the first fetches.
bool anyFetched(const Snapshot &snapshot);

QByteArray listJson(const QList<Entry> &entries, Shape shape);
QByteArray modelJson(const Entry &entry, Shape shape);

} // namespace ModelList

} // namespace route
