#include "domain/upstream.h"

#include <QUrl>

#include <algorithm>

namespace route {

bool isValidEndpoint(const QString &endpoint)
{
    const QUrl url(endpoint, QUrl::StrictMode);
    return url.isValid() && (url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https"))
        && !url.host().isEmpty() && !url.hasQuery() && !url.hasFragment();
}

bool Upstream::serves(const QString &model) const
{
    if (model.isEmpty())
        return false;
    return std::binary_search(models.cbegin(), models.cend(), model) || modelMap.matches(model);
}

void UpstreamPatch::applyTo(Upstream &u) const
{
    if (name)
        u.name = *name;
    if (sk)
        u.sk = *sk;
    if (endpoint)
        u.endpoint = *endpoint;
    if (enabled)
        u.enabled = *enabled;
    if (weight)
        u.weight = *weight;
    if (allow)
        u.allow = *allow;
    if (deny)
        u.deny = *deny;
    if (timeoutSec)
        u.timeoutSec = *timeoutSec;
    if (streamTimeoutSec)
        u.streamTimeoutSec = *streamTimeoutSec;
    if (sortOrder)
        u.sortOrder = *sortOrder;
    if (format)
        u.format = *format;
    if (responses)
        u.responses = *responses;
    if (modelMap)
        u.modelMap = *modelMap;
    if (proxy)
        u.proxy = *proxy;
}

} // namespace route
