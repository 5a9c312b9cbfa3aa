#include "service/configservice.h"

#include "balancer/health.h"
#include "domain/snapshot.h"
#include "net/outboundproxy.h"
#include "proxy/upstreamclient.h"
#include "store/configrepository.h"
#include "store/database.h"
#include "store/keyvault.h"
#include "store/snapshotloader.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"
#include "util/logging.h"
#include "util/secrets.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QUrl>

namespace route {

namespace {

constexpr int keyTestTimeoutMs = 10000;

ChangeError problem(ChangeError::Kind kind, const char *text, const QString &arg = QString())
{
    return ChangeError{kind, text, arg};
}

ChangeResult refused(ChangeError error)
{
    return ChangeResult{0, std::move(error)};
}

ChangeResult fromStore(const StoreOutcome &out)
{
    switch (out.error) {
    case StoreError::None: return ChangeResult{out.id, std::nullopt};
    case StoreError::NotFound:
        return refused(problem(ChangeError::Kind::NotFound,
            QT_TRANSLATE_NOOP("ConfigService", "no upstream with ID %1"), QString::number(out.id)));
    case StoreError::Duplicate:
        return refused(problem(ChangeError::Kind::Conflict,
            QT_TRANSLATE_NOOP("ConfigService", "an upstream with this SK and Endpoint exists already (ID %1)"),
            QString::number(out.id)));
    case StoreError::Failed: break;
    }
    return refused(
        problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "the database said: %1"), out.message));
}

} // namespace

QString ChangeError::english() const
{
    const QString t = QString::fromUtf8(text);
    return t.contains(QLatin1String("%1")) ? t.arg(arg) : t;
}

QString ChangeError::translated() const
{
    const QString t = QCoreApplication::translate("ConfigService", text);
    return t.contains(QLatin1String("%1")) ? t.arg(arg) : t;
}

ConfigService::ConfigService(std::shared_ptr<DbConnection> connection, SnapshotHolder *snapshots, HealthTracker *health,
    UpstreamClient *client, QObject *parent)
    : QObject(parent), m_conn(std::move(connection)), m_snapshots(snapshots), m_health(health), m_client(client)
{ }

ConfigService::~ConfigService() = default;

std::optional<ChangeError> ConfigService::validate(const Upstream &u)
{
    using K = ChangeError::Kind;
    if (u.sk.trimmed().isEmpty())
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "SK must not be empty"));
    if (u.endpoint.trimmed().isEmpty())
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "Endpoint must not be empty"));
    if (!isValidEndpoint(u.endpoint))
        return problem(K::Invalid,
            QT_TRANSLATE_NOOP("ConfigService", "Endpoint must be an http:// or https:// URL, got '%1'"), u.endpoint);
    if (u.weight < 0)
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "Weight must be 0 or more"));
    if (u.timeoutSec < 0 || u.streamTimeoutSec < 0)
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "a timeout must be 0 (the default) or more"));
    QString proxyError;
    if (!OutboundProxy::parse(u.proxy, &proxyError))
        return problem(K::Invalid,
            QT_TRANSLATE_NOOP("ConfigService",
                "Proxy must be http://host:port or socks5://host:port (user:password@ allowed), or direct; got '%1'"),
            OutboundProxy::masked(u.proxy));
    return std::nullopt;
}

std::optional<ChangeError> ConfigService::validate(const Settings &s)
{
    using K = ChangeError::Kind;
    if (s.timeoutSec < 1 || s.streamTimeoutSec < 1 || s.idleTimeoutSec < 1)
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "a timeout must be at least 1 second"));
    if (s.affinityTtlSec < 0)
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "AffinityTTL must be 0 (off) or more seconds"));
    if (s.recordRetentionDays < 0 || s.recordMaxRows < 0)
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "record limits must be 0 or more"));
    if (!s.webhookUrl.isEmpty()) {
        const QUrl url(s.webhookUrl, QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            return problem(K::Invalid,
                QT_TRANSLATE_NOOP(
                    "ConfigService", "WebhookURL must be an http:// or https:// URL, or empty to turn alerts off"));
    }
    static const QStringList formats{QStringLiteral("generic"), QStringLiteral("feishu"), QStringLiteral("matrix")};
    if (!formats.contains(s.webhookFormat))
        return problem(
            K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "WebhookFormat must be one of: generic, feishu, matrix"));
    return std::nullopt;
}

ChangeResult ConfigService::createUpstream(const UpstreamPatch &fields)
{
    Upstream u;
    fields.applyTo(u);
    return createUpstream(std::move(u));
}

ChangeResult ConfigService::createUpstream(Upstream u)
{
    u.sk = u.sk.trimmed();
    u.endpoint = u.endpoint.trimmed();
    if (auto e = validate(u))
        return refused(*e);
    if (keysGoToKeychain() && !KeyVault::isReference(u.sk)) {
        u.skRef = KeyVault::newReference();
        if (const Status s = KeyVault::write(u.skRef, u.sk); !s)
            return refused(keychainProblem(s.error()));
    }
    const ChangeResult r = fromStore(UpstreamRepository(m_conn->db()).create(u));
    if (r.ok()) {
        qCInfo(lcAdmin) << "added upstream" << r.id << u.endpoint;
        publish();
    }
    return r;
}

ChangeResult ConfigService::updateUpstream(qint64 id, const UpstreamPatch &fields)
{
    UpstreamRepository repo(m_conn->db());
    std::optional<Upstream> u = repo.get(id);
    if (!u)
        return fromStore({StoreError::NotFound, QString(), id});
    const QString keptIn = u->skRef;
    fields.applyTo(*u);
    if (auto e = validate(*u))
        return refused(*e);
    UpstreamPatch patch = fields;
    if (patch.sk && !keptIn.isEmpty() && !KeyVault::isReference(*patch.sk)) {
        // A new key for an upstream whose key is in the keychain goes there too.
        if (const Status s = KeyVault::write(keptIn, patch.sk->trimmed()); !s)
            return refused(keychainProblem(s.error()));
        patch.sk = keptIn;
    }
    StoreOutcome out = repo.update(id, patch);
    if (out.error == StoreError::NotFound)
        out.id = id;
    const ChangeResult r = fromStore(out);
    if (r.ok())
        publish();
    return ChangeResult{id, r.error};
}

ChangeResult ConfigService::deleteUpstream(qint64 id)
{
    const std::optional<Upstream> before = UpstreamRepository(m_conn->db()).get(id);
    StoreOutcome out = UpstreamRepository(m_conn->db()).remove(id);
    out.id = id;
    const ChangeResult r = fromStore(out);
    if (r.ok()) {
        qCInfo(lcAdmin) << "deleted upstream" << id;
        if (before && !before->skRef.isEmpty())
            if (const Status s = KeyVault::remove(before->skRef); !s)
                qCWarning(lcAdmin) << "the key of deleted upstream" << id << "stays in the keychain:" << s.error();
        if (m_health)
            m_health->forget(id);
        publish();
    }
    return r;
}

bool ConfigService::keysGoToKeychain() const
{
    const auto settings = ConfigRepository(m_conn->db()).load();
    return settings && settings->keysInKeychain;
}

ChangeError ConfigService::keychainProblem(const QString &why)
{
    return problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "the system keychain: %1"), why);
}

ChangeResult ConfigService::setKeysInKeychain(bool on)
{
    auto settings = ConfigRepository(m_conn->db()).load();
    if (!settings)
        return refused(
            problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "cannot read the settings")));
    settings->keysInKeychain = on;
    return saveSettings(*settings);
}

ChangeResult ConfigService::moveKeysToKeychain(int *moved)
{
    int none = 0;
    int &count = moved ? *moved : none; // what moved, also when a later key fails
    count = 0;
    if (const Status available = KeyVault::availability(); !available)
        return refused(keychainProblem(available.error()));
    const auto upstreams = UpstreamRepository(m_conn->db()).list();
    if (!upstreams)
        return refused(
            problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "cannot read the upstreams")));
    // New keys follow from now on, even when one below fails.
    if (const ChangeResult on = setKeysInKeychain(true); !on.ok())
        return on;
    for (const Upstream &u : *upstreams) {
        if (!u.skRef.isEmpty() || u.sk.isEmpty())
            continue;
        const QString reference = KeyVault::newReference();
        if (const Status s = KeyVault::write(reference, u.sk); !s)
            return refused(keychainProblem(s.error()));
        UpstreamPatch p;
        p.sk = reference;
        if (const StoreOutcome out = UpstreamRepository(m_conn->db()).update(u.id, p); !out.ok()) {
            KeyVault::remove(reference); // the database still has the key
            return fromStore({out.error, out.message, u.id});
        }
        ++count;
    }
    qCInfo(lcAdmin) << "moved" << count << "keys into the system keychain";
    publish();
    return {};
}

ChangeResult ConfigService::moveKeysToDatabase(int *moved)
{
    int none = 0;
    int &count = moved ? *moved : none; // what moved, also when a later key fails
    count = 0;
    const auto upstreams = UpstreamRepository(m_conn->db()).list();
    if (!upstreams)
        return refused(
            problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "cannot read the upstreams")));
    if (const ChangeResult off = setKeysInKeychain(false); !off.ok())
        return off;
    for (const Upstream &u : *upstreams) {
        if (u.skRef.isEmpty())
            continue;
        const Result<QString> key = KeyVault::read(u.skRef);
        if (!key)
            return refused(keychainProblem(key.error()));
        UpstreamPatch p;
        p.sk = key.value();
        if (const StoreOutcome out = UpstreamRepository(m_conn->db()).update(u.id, p); !out.ok())
            return fromStore({out.error, out.message, u.id});
        // Written to the database first: a key is never in neither place.
        if (const Status s = KeyVault::remove(u.skRef); !s)
            qCWarning(lcAdmin) << "the key of upstream" << u.id
                               << "is back in the database and still in the keychain:" << s.error();
        ++count;
    }
    qCInfo(lcAdmin) << "moved" << count << "keys back into the database";
    publish();
    return {};
}

ChangeResult ConfigService::reorderUpstreams(const QList<qint64> &ids)
{
    UpstreamRepository repo(m_conn->db());
    QSqlDatabase db = m_conn->db();
    db.transaction();
    for (int i = 0; i < ids.size(); ++i) {
        UpstreamPatch p;
        p.sortOrder = (i + 1) * 10;
        if (const StoreOutcome out = repo.update(ids[i], p); !out.ok()) {
            db.rollback();
            return fromStore({out.error, out.message, ids[i]});
        }
    }
    if (!db.commit())
        return fromStore({StoreError::Failed, db.lastError().text(), 0});
    publish();
    return {};
}

ChangeResult ConfigService::saveSettings(const Settings &settings)
{
    if (auto e = validate(settings))
        return refused(*e);
    if (!ConfigRepository(m_conn->db()).save(settings))
        return refused(
            problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "cannot store the settings")));
    publish();
    return {};
}

ChangeResult ConfigService::setTokens(const QStringList &tokens)
{
    QStringList clean;
    for (const QString &t : tokens)
        if (!t.trimmed().isEmpty())
            clean << t.trimmed();
    if (!ConfigRepository(m_conn->db()).setValue(ConfigKey::authorization, clean.join(QLatin1Char(','))))
        return refused(
            problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "cannot store the client token")));
    publish();
    return {};
}

std::optional<ChangeError> ConfigService::validate(const AppToken &t)
{
    using K = ChangeError::Kind;
    if (t.name.trimmed().isEmpty())
        return problem(K::Invalid, QT_TRANSLATE_NOOP("ConfigService", "an app token needs a Name"));
    if (t.rpm < 0 || t.dailyTokenLimit < 0 || t.monthlyBudgetUsd < 0)
        return problem(K::Invalid,
            QT_TRANSLATE_NOOP("ConfigService", "RPM, DailyTokenLimit and MonthlyBudgetUSD must be 0 or more"));
    return std::nullopt;
}

ChangeResult ConfigService::createAppToken(const QString &name, const AppTokenPatch &limits, QString *token)
{
    AppToken t;
    t.name = name.trimmed();
    limits.applyTo(t);
    if (auto e = validate(t))
        return refused(*e);
    const QString text = Secrets::generateToken();
    t.hash = AppToken::hashOf(text.toUtf8());
    t.prefix = text.left(AppToken::prefixLength);
    const StoreOutcome out = TokenRepository(m_conn->db()).create(t);
    if (!out.ok())
        return fromStore(out);
    qCInfo(lcAdmin) << "added app token" << out.id << t.name;
    if (token)
        *token = text;
    publish();
    return ChangeResult{out.id, std::nullopt};
}

ChangeResult ConfigService::updateAppToken(qint64 id, const AppTokenPatch &fields)
{
    TokenRepository repo(m_conn->db());
    std::optional<AppToken> t = repo.get(id);
    if (!t)
        return refused(problem(ChangeError::Kind::NotFound,
            QT_TRANSLATE_NOOP("ConfigService", "no app token with ID %1"), QString::number(id)));
    fields.applyTo(*t);
    if (auto e = validate(*t))
        return refused(*e);
    const StoreOutcome out = repo.update(id, fields);
    if (!out.ok())
        return fromStore(out);
    publish();
    return ChangeResult{id, std::nullopt};
}

ChangeResult ConfigService::deleteAppToken(qint64 id)
{
    const StoreOutcome out = TokenRepository(m_conn->db()).remove(id);
    if (out.error == StoreError::NotFound)
        return refused(problem(ChangeError::Kind::NotFound,
            QT_TRANSLATE_NOOP("ConfigService", "no app token with ID %1"), QString::number(id)));
    if (!out.ok())
        return fromStore(out);
    qCInfo(lcAdmin) << "deleted app token" << id;
    publish();
    return ChangeResult{id, std::nullopt};
}

ChangeResult ConfigService::savePrices(const PriceTable &prices)
{
    const QString value = prices.isEmpty()
        ? QString()
        : QString::fromUtf8(QJsonDocument(prices.toJson()).toJson(QJsonDocument::Compact));
    if (!ConfigRepository(m_conn->db()).setValue(ConfigKey::prices, value))
        return refused(
            problem(ChangeError::Kind::Internal, QT_TRANSLATE_NOOP("ConfigService", "cannot store the prices")));
    publish();
    return {};
}

// An upstream as the repository has it, with its key read from the
// keychain if nothing has read it yet (the command line's -test).
std::optional<Upstream> ConfigService::upstreamWithKey(qint64 id) const
{
    std::optional<Upstream> u = UpstreamRepository(m_conn->db()).get(id);
    if (u && !u->skRef.isEmpty() && u->sk.isEmpty()) {
        if (const Result<QString> key = KeyVault::read(u->skRef))
            u->sk = key.value();
    }
    return u;
}

bool ConfigService::testUpstream(qint64 id, std::function<void(const ProbeResult &)> done)
{
    const auto u = upstreamWithKey(id);
    if (!u)
        return false;
    QPointer<HealthTracker> health(m_health);
    probe(*u, [this, health, id, done = std::move(done)](const ProbeResult &r) {
        saveCatalog(id, r); // a key test is a catalog fetch too
        // A passing test clears the key's bad record; a rejected key is marked.
        if (health && r.ok)
            health->reset(id);
        else if (health && (r.status == 401 || r.status == 403))
            health->failed(id, FailureClass::AuthRejected, r.error, health->nowMs());
        done(r);
    });
    return true;
}

bool ConfigService::refreshModels(qint64 id, std::function<void(const ProbeResult &)> done)
{
    const auto u = upstreamWithKey(id);
    if (!u)
        return false;
    refreshModels(*u, std::move(done));
    return true;
}

void ConfigService::refreshModels(const Upstream &upstream, std::function<void(const ProbeResult &)> done)
{
    const qint64 id = upstream.id;
    probe(upstream, [this, id, done = std::move(done)](const ProbeResult &r) {
        saveCatalog(id, r);
        done(r);
    });
}

void ConfigService::saveCatalog(qint64 id, const ProbeResult &result)
{
    const QString error = result.ok ? QString()
        : result.error.isEmpty()    ? tr("HTTP %1").arg(result.status)
                                    : result.error;
    const StoreOutcome out = UpstreamRepository(m_conn->db())
                                 .saveCatalog(id, result.ok ? std::optional(result.models) : std::nullopt, error);
    if (!out.ok()) {
        if (out.error != StoreError::NotFound) // deleted meanwhile: nothing to keep
            qCWarning(lcAdmin) << "cannot store the model list of upstream" << id << out.message;
        return;
    }
    if (result.ok)
        qCDebug(lcAdmin) << "upstream" << id << "lists" << result.models.size() << "models";
    else
        qCInfo(lcAdmin) << "upstream" << id << "did not list its models:" << error;
    publish();
}

void ConfigService::testKey(const Upstream &upstream, std::function<void(const ProbeResult &)> done)
{
    probe(upstream, std::move(done));
}

void ConfigService::probe(const Upstream &upstream, std::function<void(const ProbeResult &)> done)
{
    auto *p = new UpstreamProbe(client(), upstream, keyTestTimeoutMs, this);
    connect(p, &UpstreamProbe::done, this, [p, done = std::move(done)](const ProbeResult &r) {
        p->deleteLater();
        done(r);
    });
    p->start();
}

UpstreamClient *ConfigService::client()
{
    if (!m_client)
        m_client = new UpstreamClient(this);
    return m_client;
}

void ConfigService::publish()
{
    if (m_snapshots) {
        QString error;
        if (!reloadSnapshot(*m_snapshots, *m_conn, &error))
            qCWarning(lcAdmin) << "cannot reload upstreams:" << error;
    }
    Q_EMIT changed();
}

} // namespace route
