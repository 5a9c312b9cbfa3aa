#pragma once

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
    qint64 successCount = 0;
    qint64 failedCount = 0;
    QDateTime lastCallSuccessTime;
    QDateTime createdAt;
    QDateTime updatedAt;
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

    void applyTo(Upstream &u) const;
};

} // namespace route
