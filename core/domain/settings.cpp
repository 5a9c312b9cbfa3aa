#include "domain/settings.h"

QStringList Settings::knownPolicies()
{
    return {QStringLiteral("order"), QStringLiteral("round_robin"), QStringLiteral("random"),
        QStringLiteral("weighted"), QStringLiteral("least_inflight"), QStringLiteral("lowest_latency")};
}
