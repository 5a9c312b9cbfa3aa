#pragma once

#include "domain/modelmap.h"
#include "domain/vocabulary.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

namespace route {

// One API key behind the proxy: a row of `openai_upstreams`.
struct Upstream
{
    qint64 id = 0;
    QString name;
    QString sk;
    // "keychain:…" when the key lives in the system keychain (SPEC §13): the
    // database holds this reference and `sk` is the key read from there
    // (empty while the keychain cannot be read). Empty: the key is in the database.
    QString skRef;
    QString endpoint;
    bool enabled = true;
    int weight = 1;
    QStringList allow; // models or paths; empty = everything
    QStringList deny;
    int timeoutSec = 0; // 0 = the global default
    int streamTimeoutSec = 0;
    int sortOrder = 0;
    ApiFormat format = ApiFormat::OpenAI;
    bool responses = true; // openai: serves /v1/responses itself; false = Responses are converted to Chat for it
    ModelMap modelMap; // client model name → the name sent here
    QString proxy; // http://, socks5:// (credentials allowed), "direct", or empty = the environment's default
    // The catalog: the model ids this upstream listed when last asked,
    // sorted; when that was; and why the last fetch failed (empty: it did not).
    QStringList models;
    QDateTime modelsFetchedAt;
    QString modelsError;
    qint64 successCount = 0;
    qint64 failedCount = 0;
    QDateTime lastCallSuccessTime;
    QDateTime createdAt;
    QDateTime updatedAt;

    // Listed in its catalog, or a ModelMap key matches.
    bool serves(const QString &model) const;
    // The name this upstream gets for the client's MODEL.
    QString modelFor(const QString &model) const { return modelMap.resolve(model).value_or(model); }
};

// An http:// or https:// URL with a host and no query or fragment.
bool isValidEndpoint(const QString &endpoint);

// The fields a caller may set when creating or editing an upstream; unset
// optionals keep the stored value (PUT semantics).
struct UpstreamPatch
{
    std::optional<QString> name;
    std::optional<QString> sk;
    std::optional<QString> endpoint;
    std::optional<bool> enabled;
    std::optional<int> weight;
    std::optional<QStringList> allow;
    std::optional<QStringList> deny;
    std::optional<int> timeoutSec;
    std::optional<int> streamTimeoutSec;
    std::optional<int> sortOrder;
    std::optional<ApiFormat> format;
    std::optional<bool> responses;
    std::optional<ModelMap> modelMap;
    std::optional<QString> proxy;

    void applyTo(Upstream &u) const;
};

} // namespace route
