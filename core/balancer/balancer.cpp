#include "balancer/balancer.h"

namespace Balancer {

bool matches(const QString &pattern, const RequestTraits &traits)
{
    const QString &subject = pattern.startsWith(QLatin1Char('/')) ? traits.path : traits.model;
    if (pattern.endsWith(QLatin1Char('*')))
        return subject.startsWith(QStringView(pattern).chopped(1));
    return subject == pattern;
}

bool isEligible(const Upstream &u, const RequestTraits &traits)
{
    if (!u.enabled)
        return false;
    if (!u.allow.isEmpty()) {
        bool allowed = false;
        for (const QString &p : u.allow)
            allowed = allowed || matches(p, traits);
        if (!allowed)
            return false;
    }
    for (const QString &p : u.deny)
        if (matches(p, traits))
            return false;
    return true;
}

QList<Upstream> candidates(const Snapshot &snapshot, const RequestTraits &traits)
{
    QList<Upstream> out;
    for (const Upstream &u : snapshot.upstreams)
        if (isEligible(u, traits))
            out << u;
    return out;
}

} // namespace Balancer
