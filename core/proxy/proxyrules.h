#pragma once

#include "domain/vocabulary.h"
#include "http/httpheaders.h"
#include "proxy/upstreamtarget.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QUrl>

namespace route {

// The pure rules of forwarding, kept apart so they can be tested alone.
namespace ProxyRules {

// /v1/REST?QUERY on ENDPOINT (whose own path replaces the client's /v1).
// Invalid when the endpoint is not an http(s) URL. Endpoints are parsed once
// per thread and remembered. PROXY: the upstream's outbound proxy setting.
UpstreamTarget upstreamTarget(
    const QString &endpoint, const QByteArray &clientPath, const QByteArray &query, const QString &proxy = QString());

// Client headers as they go upstream: no hop-by-hop headers, no Host, none
// of the client's credentials; the upstream's own by its format, unless SK is
// empty: `Authorization: Bearer SK`, or `x-api-key: SK` with the client's
// `anthropic-version` (or 2023-06-01).
HttpHeaders upstreamRequestHeaders(const HttpHeaders &client, const QString &sk, ApiFormat format = ApiFormat::OpenAI);
inline constexpr char defaultAnthropicVersion[] = "2023-06-01";

// What kind of API a client path is: /v1/messages* are Anthropic's, the rest OpenAI's.
enum class Endpoint { Chat, Responses, Messages, CountTokens, Other };
Endpoint endpointOf(QByteArrayView path);
inline ApiFormat formatOf(Endpoint e)
{
    return e == Endpoint::Messages || e == Endpoint::CountTokens ? ApiFormat::Anthropic : ApiFormat::OpenAI;
}

// Upstream headers as they go to the client: no hop-by-hop or framing
// headers, and none that would show the upstream key.
HttpHeaders clientResponseHeaders(const QList<std::pair<QByteArray, QByteArray>> &upstream, const QString &sk);

struct BodyTraits
{
    QString model;
    bool stream = false;
    QString promptCacheKey; // OpenAI's cache routing hint
    QString previousResponseId; // Responses: the turn this one continues
    QString metadataUserId; // Messages: metadata.user_id (Claude Code puts its session in it)
};
// `model`, `stream` and the session hints from a JSON body, or `model` from a multipart form.
BodyTraits inspectBody(const QByteArray &contentType, const QByteArray &body);
// A JSON BODY with its top-level `model` set to MODEL, the rest byte for
// byte; unchanged when it has no string `model` (or is not JSON: a
// multipart form keeps its name).
QByteArray withModel(const QByteArray &body, const QString &model);

// The affinity key of a request (SPEC §9): the first present of the session
// headers Claude Code and Codex send, then the body's hints. Empty: none.
// `previous_response_id` is returned as "resp:ID", the key under which the
// upstream that made that response was bound.
QByteArray affinityKey(const HttpHeaders &headers, const BodyTraits &body);

// When an upstream's rate-limit headers say nothing is left (OpenAI's
// x-ratelimit-remaining-*, Anthropic's anthropic-ratelimit-*-remaining): the
// milliseconds until the reset they give (1 s when they give none). -1: not
// exhausted.
qint64 quotaExhaustedForMs(const HttpHeaders &headers);
qint64 quotaExhaustedForMs(const HttpHeaders &headers, const QDateTime &now);

// Retry-After in milliseconds (delta-seconds or an HTTP date); -1 when absent or unreadable.
qint64 retryAfterMs(const QByteArray &value, const QDateTime &now = QDateTime::currentDateTimeUtc());

} // namespace ProxyRules

} // namespace route
