#pragma once

#include "domain/apptoken.h"
#include "domain/pricetable.h"
#include "domain/settings.h"
#include "domain/upstream.h"
#include "proxy/upstreamprobe.h"

#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

namespace route {

class DbConnection;
class HealthTracker;
class SnapshotHolder;
class UpstreamClient;

// Why a change was refused. The text is written once, in English, and shown
// to programs as it is (the admin API, logs) and to people translated (the
// GUI, the command line).
struct ChangeError
{
    enum class Kind { Invalid, NotFound, Conflict, Internal };
    Kind kind = Kind::Internal;
    const char *text = ""; // a QT_TRANSLATE_NOOP source, with %1 for `arg`
    QString arg;

    QString english() const;
    QString translated() const;
};

// What a change did: the new upstream's ID, or why nothing changed.
struct ChangeResult
{
    qint64 id = 0;
    std::optional<ChangeError> error;
    bool ok() const { return !error; }
};

// The one write path for upstreams, client tokens and settings. The admin
// API, the GUI and the command line all go through it, so the rules are the
// same everywhere: it validates, writes through its thread's connection,
// publishes the new snapshot (when there is a running proxy) and logs.
// One instance per thread that writes, each with that thread's connection.
class ConfigService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConfigService)
public:
    // `snapshots` and `health`: the running proxy's, or nullptr (the command
    // line changes only the database). `client`: for key tests; nullptr
    // makes one on this thread when first needed.
    ConfigService(std::shared_ptr<DbConnection> connection, SnapshotHolder *snapshots, HealthTracker *health,
        UpstreamClient *client = nullptr, QObject *parent = nullptr);
    ~ConfigService() override;

    ChangeResult createUpstream(const UpstreamPatch &fields);
    ChangeResult createUpstream(Upstream upstream);
    ChangeResult updateUpstream(qint64 id, const UpstreamPatch &fields);
    ChangeResult deleteUpstream(qint64 id);
    // Puts the upstreams in this order (the `order` policy's), renumbering
    // sort_order in one transaction.
    ChangeResult reorderUpstreams(const QList<qint64> &ids);

    ChangeResult saveSettings(const Settings &settings);
    // The seed's client tokens (`-auth`, Settings' token field); blanks dropped.
    ChangeResult setTokens(const QStringList &tokens);

    // App tokens (SPEC §11). A new one is made here; its text is in
    // *TOKEN, the only time it exists outside the client: only its hash is stored.
    ChangeResult createAppToken(const QString &name, const AppTokenPatch &limits, QString *token);
    ChangeResult updateAppToken(qint64 id, const AppTokenPatch &fields);
    ChangeResult deleteAppToken(qint64 id);
    // The price table (SPEC §11); an empty one goes back to the shipped table.
    ChangeResult savePrices(const PriceTable &prices);

    // Keys in the system keychain (SPEC §13), one action each way: every key
    // of the database into the keychain (the database keeps a reference, and
    // keys added later follow them), or all of them back. MOVED counts the
    // keys that moved; on an error the ones moved so far stay moved.
    ChangeResult moveKeysToKeychain(int *moved = nullptr);
    ChangeResult moveKeysToDatabase(int *moved = nullptr);
    static std::optional<ChangeError> validate(const AppToken &t);

    // Asks the upstream for its models with its key. The verdict is applied
    // to the key's health (a pass clears a rest, a 401/403 marks it
    // rejected), then `done` is called, on this thread. False (and no call)
    // when there is no such upstream.
    bool testUpstream(qint64 id, std::function<void(const ProbeResult &)> done);
    // Fetches the upstream's model catalog and stores what came back
    // (SPEC §10): the list, or why not (the last list stays); the snapshot
    // is published, then `done` is called. A key test does the same. False
    // (and no call) when there is no such upstream.
    bool refreshModels(qint64 id, std::function<void(const ProbeResult &)> done);
    void refreshModels(const Upstream &upstream, std::function<void(const ProbeResult &)> done);
    // The same for a key that is not stored yet (the add dialog); no health.
    void testKey(const Upstream &upstream, std::function<void(const ProbeResult &)> done);

    static std::optional<ChangeError> validate(const Upstream &u);
    static std::optional<ChangeError> validate(const Settings &s);

Q_SIGNALS:
    // After every change that was written.
    void changed();

private:
    void publish();
    bool keysGoToKeychain() const;
    std::optional<Upstream> upstreamWithKey(qint64 id) const;
    ChangeResult setKeysInKeychain(bool on);
    static ChangeError keychainProblem(const QString &why);
    UpstreamClient *client();
    void probe(const Upstream &upstream, std::function<void(const ProbeResult &)> done);
    void saveCatalog(qint64 id, const ProbeResult &result);

    std::shared_ptr<DbConnection> m_conn;
    SnapshotHolder *m_snapshots;
    HealthTracker *m_health;
    QPointer<UpstreamClient> m_client;
};

} // namespace route
