#pragma once

#include "engine/engineoptions.h"

#include <QList>
#include <QObject>

#include <atomic>
#include <functional>
#include <memory>

class QThread;

namespace route {

class BackgroundStore;
class CatalogRefresher;
class Balancer;
class AffinityTable;
class AppLimits;
class SharedLimits;
class HealthTracker;
class HttpListener;
class Metrics;
class NetworkWorker;
class SnapshotHolder;

// Everything that serves HTTP, off the GUI thread: a listener on the network
// thread that hands each accepted connection to one of several workers, each
// on its own thread (one per core).
class NetworkService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NetworkService)
public:
    NetworkService(const EngineOptions &options, SnapshotHolder *snapshots, BackgroundStore *records);
    ~NetworkService() override;

    // Run on the network thread.
    Q_INVOKABLE bool start(QString *error, const std::atomic<bool> *paused = nullptr);
    Q_INVOKABLE void beginStop();
    bool relisten(const QHostAddress &address, quint16 port, QString *error);
    quint16 port() const;
    HealthTracker *health() const { return m_health; }
    AffinityTable *affinity() const { return m_affinity.get(); }
    // Before start(): told of every new or moved session binding (team mode).
    void setSessionListener(std::function<void(const QByteArray &, qint64)> listener)
    {
        m_sessionListener = std::move(listener);
    }
    int inFlight() const;

Q_SIGNALS:
    void drained();

private:
    HttpListener *makeListener();
    void seedLimits();
    void dispatch(qintptr descriptor);
    void checkDrained();
    void stopWorkers();

    EngineOptions m_options;
    SnapshotHolder *m_snapshots;
    BackgroundStore *m_records;
    HealthTracker *m_health = nullptr;
    std::unique_ptr<AffinityTable> m_affinity;
    std::function<void(const QByteArray &, qint64)> m_sessionListener;
    std::atomic<bool> m_loopback{true};
    std::unique_ptr<Balancer> m_balancer;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<AppLimits> m_limits;
    std::unique_ptr<SharedLimits> m_sharedLimits; // team mode: the limits counted in PostgreSQL
    HttpListener *m_listener = nullptr;
    CatalogRefresher *m_catalog = nullptr; // null when EngineOptions::fetchModels is off
    QList<QThread *> m_threads;
    QList<NetworkWorker *> m_workers;
    int m_next = 0;
    bool m_stopping = false;
};

} // namespace route
