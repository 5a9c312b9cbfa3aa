#include "catalog/catalogrefresher.h"

#include "domain/snapshot.h"
#include "proxy/upstreamprobe.h"
#include "service/configservice.h"
#include "util/logging.h"

namespace route {

CatalogRefresher::CatalogRefresher(const DatabaseConfig &database, SnapshotHolder *snapshots, QObject *parent)
    : QObject(parent), m_database(database), m_snapshots(snapshots)
{
    connect(&m_period, &QTimer::timeout, this, &CatalogRefresher::refreshAll);
}

CatalogRefresher::~CatalogRefresher() = default;

bool CatalogRefresher::start(QString *error)
{
    auto conn = DbConnection::open(m_database, QStringLiteral("catalog"));
    if (!conn) {
        *error = conn.error();
        return false;
    }
    // No health tracker: a background fetch says nothing about a key's rest.
    m_service = new ConfigService(conn.take(), m_snapshots, nullptr, nullptr, this);
    // Published from any thread; handled here, after the publisher is done.
    connect(m_snapshots, &SnapshotHolder::changed, this, &CatalogRefresher::onSnapshotChanged, Qt::QueuedConnection);
    onSnapshotChanged();
    return true;
}

QString CatalogRefresher::signatureOf(const Upstream &u)
{
    return u.endpoint + QLatin1Char('\n') + u.sk + QLatin1Char('\n') + QLatin1String(Vocabulary::name(u.format))
        + QLatin1Char('\n') + u.proxy;
}

void CatalogRefresher::onSnapshotChanged()
{
    const std::shared_ptr<const Snapshot> snapshot = m_snapshots->current();
    schedule(snapshot->settings.modelsRefreshMinutes);
    QSet<qint64> present;
    for (const Upstream &u : snapshot->upstreams) {
        present.insert(u.id);
        if (u.enabled && m_fetchedFor.value(u.id) != signatureOf(u))
            fetch(u);
    }
    for (auto it = m_fetchedFor.begin(); it != m_fetchedFor.end();)
        it = present.contains(it.key()) ? std::next(it) : m_fetchedFor.erase(it);
    for (auto it = m_failures.begin(); it != m_failures.end();)
        it = present.contains(it.key()) ? std::next(it) : m_failures.erase(it);
}

void CatalogRefresher::schedule(int minutes)
{
    if (minutes == m_periodMinutes)
        return;
    m_periodMinutes = minutes;
    if (minutes <= 0) {
        m_period.stop();
        return;
    }
    m_period.start(minutes * 60 * 1000);
}

void CatalogRefresher::refreshAll()
{
    for (const Upstream &u : m_snapshots->current()->upstreams)
        if (u.enabled)
            fetch(u);
}

void CatalogRefresher::fetch(const Upstream &upstream)
{
    if (!m_service || m_inFlight.contains(upstream.id))
        return;
    const qint64 id = upstream.id;
    m_fetchedFor.insert(id, signatureOf(upstream));
    m_inFlight.insert(id);
    ++m_pending;
    m_service->refreshModels(upstream, [this, id](const ProbeResult &r) {
        m_inFlight.remove(id);
        --m_pending;
        if (r.ok) {
            m_failures.remove(id);
            return;
        }
        qCInfo(lcCatalog) << "upstream" << id << "did not list its models:" << r.error;
        retryLater(id);
    });
}

// A fetch that failed (the network not up yet at login, an upstream down
// for a minute) is tried again soon, then less and less often, instead of
// waiting for the next period.
void CatalogRefresher::retryLater(qint64 id)
{
    const int failures = ++m_failures[id];
    const qint64 delayMs = qMin<qint64>(m_firstRetryMs << qMin(failures - 1, 10), maxRetryMs);
    QTimer::singleShot(delayMs, this, [this, id] {
        for (const Upstream &u : m_snapshots->current()->upstreams)
            if (u.id == id && u.enabled && m_failures.contains(id))
                fetch(u);
    });
}

} // namespace route
