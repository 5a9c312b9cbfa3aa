#pragma once

#include "balancer/health.h"
#include "http/httplimits.h"
#include "store/database.h"

#include <QHostAddress>

namespace route {

// How an Engine is started: the same for GUI, headless and tests.
struct EngineOptions
{
    DatabaseConfig database;
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 8888;
    bool noAuth = false;
    HttpLimits limits;
    HealthTuning health;
    int workers = 0; // network worker threads; 0 = two per core (2 to 16)
    // Model catalogs fetched in the background (SPEC §10); tests of other
    // things turn it off, so their fake upstreams see only their requests.
    bool fetchModels = true;
    int modelsFirstRetryMs = 30 * 1000; // a failed catalog fetch is tried again this soon, then less often
    const Clock *clock = nullptr; // rests and cool-downs; nullptr = the system clock (tests advance their own)
};

} // namespace route
