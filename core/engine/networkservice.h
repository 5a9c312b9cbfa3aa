#pragma once

#include "engine/engineoptions.h"

#include <QObject>

#include <atomic>
#include <memory>

class AdminApi;
class Balancer;
class HealthTracker;
class Metrics;
class BackgroundStore;
class HttpServer;
class UpstreamClient;
class ProxyHandler;
class RequestRouter;
class SnapshotHolder;

// Everything that serves HTTP, created and run on the network thread so the
// GUI thread never waits for a client or an upstream.
class NetworkService : public QObject
{
    Q_OBJECT
public:
    NetworkService(const EngineOptions &options, SnapshotHolder *snapshots, BackgroundStore *records);
    ~NetworkService() override;

    // Run on the network thread.
    Q_INVOKABLE bool start(QString *error, const std::atomic<bool> *paused = nullptr);
    bool relisten(const QHostAddress &address, quint16 port, QString *error);
    HealthTracker *health() const { return m_health; }
    Q_INVOKABLE void beginStop();
    quint16 port() const;

Q_SIGNALS:
    void drained();

private:
    void checkDrained();

    EngineOptions m_options;
    SnapshotHolder *m_snapshots;
    BackgroundStore *m_records;
    UpstreamClient *m_upstreams = nullptr;
    HealthTracker *m_health = nullptr;
    std::unique_ptr<Balancer> m_balancer;
    std::unique_ptr<Metrics> m_metrics;
    ProxyHandler *m_proxy = nullptr;
    AdminApi *m_admin = nullptr;
    RequestRouter *m_router = nullptr;
    HttpServer *m_server = nullptr;
    bool m_stopping = false;
};
