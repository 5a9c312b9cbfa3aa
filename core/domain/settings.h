#pragma once

#include "domain/pricetable.h"
#include "domain/vocabulary.h"

#include <QString>
#include <QStringList>

namespace route {

// The global settings kept in `config_kvs` (the database is the source of
// truth; QSettings holds only GUI preferences).
struct Settings
{
    QStringList tokens; // client tokens; `authorization`, comma-separated
    Policy policy = Policy::Order;
    int timeoutSec = 120; // time to response headers, non-stream
    int streamTimeoutSec = 10; // time to response headers, stream
    int idleTimeoutSec = 120; // gap between body chunks
    bool recordBodies = false;
    int recordRetentionDays = 30; // records older than this are pruned
    int recordMaxRows = 1000000; // and beyond this many
    QString webhookUrl; // outbound alerts; empty = off
    QString webhookFormat = QStringLiteral("generic"); // generic, feishu, matrix
    QStringList allowedHosts; // beyond localhost and the loopback addresses, for a loopback listener
    QStringList allowedOrigins; // browser origins beyond loopback ones that may use /admin
    bool metricsPublic = false; // /metrics without the token
    bool keysInKeychain = false; // new keys go to the system keychain (set by moving the keys there; SPEC §13)
    int modelsRefreshMinutes = 30; // the model catalogs are fetched again this often; 0 = at start and on demand only
    int affinityTtlSec = 3600;
    PriceTable prices = PriceTable::defaults(); // USD per million tokens, by model // a conversation keeps its upstream
                                                // this long after its last turn; 0 = no stickiness
};

// The `config_kvs` keys, in one place.
namespace ConfigKey {
inline constexpr const char authorization[] = "authorization";
inline constexpr const char policy[] = "policy";
inline constexpr const char timeout[] = "timeout";
inline constexpr const char streamTimeout[] = "stream_timeout";
inline constexpr const char idleTimeout[] = "idle_timeout";
inline constexpr const char recordBodies[] = "record_bodies";
inline constexpr const char recordRetentionDays[] = "record_retention_days";
inline constexpr const char recordMaxRows[] = "record_max_rows";
inline constexpr const char webhookUrl[] = "webhook_url";
inline constexpr const char webhookFormat[] = "webhook_format";
inline constexpr const char affinityTtl[] = "affinity_ttl";
inline constexpr const char modelsRefreshMinutes[] = "models_refresh_minutes";
inline constexpr const char prices[] = "prices"; // a JSON array; absent = the shipped table
inline constexpr const char allowedHosts[] = "allowed_hosts";
inline constexpr const char allowedOrigins[] = "allowed_origins";
inline constexpr const char metricsPublic[] = "metrics_public";
inline constexpr const char keysInKeychain[] = "keys_in_keychain";
} // namespace ConfigKey

} // namespace route
