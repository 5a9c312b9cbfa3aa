#pragma once

#include <QLatin1StringView>
#include <QString>
#include <QStringList>

#include <optional>

namespace route {

// The words the proxy, the store, the admin API and the GUI share, as enums.
// Each is turned into text and back in one place (vocabulary.cpp): at the
// edges (database, JSON, command line, metrics), never on the request path.

// How the candidates for a request are ordered (README, Balancing policies).
enum class Policy { Order, RoundRobin, Random, Weighted, LeastInflight, LowestLatency };

// The wire format an upstream speaks, and a request is in.
enum class ApiFormat {
    OpenAI, // Chat Completions, Responses and the rest of /v1; `Authorization: Bearer SK`
    Anthropic, // Messages (/v1/messages); `x-api-key: SK` and `anthropic-version`
};

// How a proxied request ended; the `outcome` of its record.
enum class Outcome {
    Complete, // relayed to its end (whatever the status)
    Failed, // no upstream answered usefully; the client got an error
    CutUpstream, // the upstream broke off after the first byte
    Stalled, // the upstream went silent past the idle timeout
    AbortedByClient, // the client went away
};

// Why an attempt on an upstream failed, as far as its health and failover go.
enum class FailureClass {
    Transport, // refused, reset, TLS, timeout, cut or stalled stream
    ServerError, // 5xx
    RateLimited, // 429
    AuthRejected, // 401/403: the key is dead or lacks access
};

namespace Vocabulary {

QLatin1StringView name(Policy p);
std::optional<Policy> parsePolicy(QStringView text);
QStringList policyNames();

QLatin1StringView name(ApiFormat f);
std::optional<ApiFormat> parseFormat(QStringView text);

QLatin1StringView name(Outcome o);
std::optional<Outcome> parseOutcome(QStringView text);
inline constexpr int outcomeCount = int(Outcome::AbortedByClient) + 1;

// The answers that say "this upstream, not this request": move on to the
// next one (nginx's next_upstream, as a table). None for any other status,
// which is relayed as it is.
std::optional<FailureClass> failureClassOf(int status);

} // namespace Vocabulary

} // namespace route
