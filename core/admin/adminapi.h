#pragma once

#include "domain/apptoken.h"

#include "admin/apierror.h"
#include "http/httprequest.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>

#include <memory>

namespace route {

class AppLimits;
class BackgroundStore;
class ConfigService;
struct ChangeResult;
class DbConnection;
class HealthTracker;
class HttpResponder;
class SnapshotHolder;
class UpstreamClient;

// The seed's /admin REST API and this project's additions. Lives on a
// network thread with its own connection. Reads go to the repositories;
// every change goes through the ConfigService, which also publishes the
// snapshot, so the very next proxied request sees it.
class AdminApi final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminApi)
public:
    AdminApi(std::shared_ptr<DbConnection> connection, SnapshotHolder *snapshots, HealthTracker *health,
        UpstreamClient *upstreams, QObject *parent = nullptr);
    ~AdminApi() override;

    void handle(const HttpRequest &request, HttpResponder *responder);
    // The running proxy's app token counters and record store (both may stay null).
    void setLimits(AppLimits *limits) { m_limits = limits; }
    void setStore(BackgroundStore *store) { m_store = store; }

    // A reply as it goes out: status and JSON bytes, made once.
    struct Reply
    {
        int status = 200;
        QByteArray json;
        bool deferred = false; // the handler answers later, itself
    };
    // What a handler gets: the request, where to answer, and the `:id` of the path.
    struct Call
    {
        const HttpRequest &request;
        HttpResponder *responder;
        qint64 id;
    };
    using Handler = Reply (AdminApi::*)(const Call &call);

private:
    Reply route(const HttpRequest &request, HttpResponder *responder);
    Reply listUpstreams(const Call &call);
    Reply getUpstream(const Call &call);
    Reply createUpstream(const Call &call);
    Reply updateUpstream(const Call &call);
    Reply deleteUpstream(const Call &call);
    Reply testUpstream(const Call &call);
    Reply refreshModels(const Call &call);
    Reply login(const Call &call);
    Reply requestRecords(const Call &call);
    Reply stats(const Call &call);
    Reply getConfig(const Call &call);
    Reply listTokens(const Call &call);
    Reply getToken(const Call &call);
    Reply createToken(const Call &call);
    Reply updateToken(const Call &call);
    Reply deleteToken(const Call &call);
    Reply getPrices(const Call &call);
    Reply putPrices(const Call &call);
    Reply recomputePrices(const Call &call);
    Reply usage(const Call &call);
    QJsonObject tokenJson(const AppToken &t) const;
    Reply putConfig(const Call &call);

    static Reply json(const QJsonValue &value, int status = 200);
    static Reply success(const QJsonObject &extra = {});
    // Success (with EXTRA), or the service's refusal, by its kind.
    static Reply changed(const ChangeResult &result, const QJsonObject &extra = {});
    template <typename Convert, typename Apply>
    static Reply patched(const QByteArray &body, Convert convert, Apply apply);
    static Reply error(ApiError::Kind kind, const QString &message);

    std::shared_ptr<DbConnection> m_conn;
    SnapshotHolder *m_snapshots;
    HealthTracker *m_health;
    ConfigService *m_service;
    AppLimits *m_limits = nullptr;
    BackgroundStore *m_store = nullptr;
};

} // namespace route
