#pragma once

#include "store/database.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <memory>

namespace route {

class ConfigService;
class SnapshotHolder;
struct Upstream;

// Keeps every enabled upstream's model catalog fresh in the background
// (SPEC §10): at start, when an upstream is added or its endpoint, key,
// format or proxy changes, every ModelsRefreshMinutes, and again soon after
// a fetch failed. Each fetch uses
// the upstream's own key and proxy and is stored through the ConfigService,
// so a restart begins with the last lists and a failing upstream keeps its
// own. Lives on the network service's thread with its own connection; no
// request ever waits for it.
class CatalogRefresher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CatalogRefresher)
public:
    CatalogRefresher(const DatabaseConfig &database, SnapshotHolder *snapshots, QObject *parent = nullptr);
    ~CatalogRefresher() override;

    // On the refresher's thread: opens its connection and fetches every list.
    bool start(QString *error);
    // Fetches are running: /v1/models may wait for them briefly (readable anywhere).
    const std::atomic<int> *pending() const { return &m_pending; }

    // A failed fetch is tried again after firstRetryMs (30 s by default),
    // then twice as long each time, at most 15 minutes.
    void setFirstRetryMs(qint64 ms) { m_firstRetryMs = ms; }
    static constexpr qint64 maxRetryMs = 15 * 60 * 1000;

public Q_SLOTS:
    void refreshAll();

private:
    void onSnapshotChanged();
    void fetch(const Upstream &upstream);
    void schedule(int minutes);
    void retryLater(qint64 id);
    // What a catalog depends on: a change of any of these fetches it again.
    static QString signatureOf(const Upstream &upstream);

    DatabaseConfig m_database;
    SnapshotHolder *m_snapshots;
    ConfigService *m_service = nullptr;
    QTimer m_period;
    int m_periodMinutes = -1;
    QHash<qint64, QString> m_fetchedFor; // upstream id → its signature when last fetched
    QSet<qint64> m_inFlight;
    QHash<qint64, int> m_failures; // upstream id → fetches failed in a row
    qint64 m_firstRetryMs = 30 * 1000;
    std::atomic<int> m_pending{0};
};

} // namespace route
