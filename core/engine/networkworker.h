#pragma once

#include "engine/engineoptions.h"

#include <QObject>

#include <atomic>
#include <functional>

namespace route {

class AdminApi;
class Balancer;
class BackgroundStore;
class HealthTracker;
class HttpConnectionSet;
class Metrics;
class ProxyHandler;
class RequestRouter;
class AffinityTable;
class AppLimits;
class SharedLimits;
class SnapshotHolder;
class UpstreamClient;

// What every worker shares (each piece is thread-safe on its own).
struct SharedServices
{
    SnapshotHolder *snapshots = nullptr;
    BackgroundStore *records = nullptr;
    HealthTracker *health = nullptr;
    Balancer *balancer = nullptr;
    AffinityTable *affinity = nullptr;
    Metrics *metrics = nullptr;
    AppLimits *limits = nullptr;
    SharedLimits *sharedLimits = nullptr; // team mode only
    const std::atomic<bool> *paused = nullptr;
    const std::atomic<bool> *loopback = nullptr; // the listener is on a loopback address
    std::function<int()> totalInFlight;
    const std::atomic<int> *catalogPending = nullptr; // model catalog fetches running; null: none are made
};

// One thread's share of the clients: it serves the connections the listener
// hands it, from request parsing to upstream and back, with its own upstream
// connection pool and database connection. Several run side by side, so the
// proxy uses every core.
class NetworkWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NetworkWorker)
public:
    NetworkWorker(const EngineOptions &options, const SharedServices &shared);
    ~NetworkWorker() override;

    // Run on the worker's thread.
    bool setup(QString *error);
    void adopt(qintptr descriptor);
    void beginStop();

    // Readable from any thread.
    int openConnections() const { return m_open.load(); }
    int inFlight() const { return m_inFlight.load(); }

Q_SIGNALS:
    void idle(); // open connections or requests in flight dropped to zero

private:
    EngineOptions m_options;
    SharedServices m_shared;
    UpstreamClient *m_upstreams = nullptr;
    ProxyHandler *m_proxy = nullptr;
    AdminApi *m_admin = nullptr;
    RequestRouter *m_router = nullptr;
    HttpConnectionSet *m_connections = nullptr;
    std::atomic<int> m_open{0};
    std::atomic<int> m_inFlight{0};
    bool m_stopping = false; // worker thread only
};

} // namespace route
