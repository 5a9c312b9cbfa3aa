#pragma once

#include "admin/apierror.h"
#include "http/httprequest.h"
#include "store/database.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>

#include <memory>

class HealthTracker;
class HttpResponder;
class SnapshotHolder;
class UpstreamClient;

// The seed's /admin REST API and this project's additions. Lives on the
// network thread with its own connection; every write reloads the snapshot
// so the very next proxied request sees it.
class AdminApi : public QObject
{
    Q_OBJECT
public:
    AdminApi(std::shared_ptr<DbConnection> connection, SnapshotHolder *snapshots, HealthTracker *health,
        UpstreamClient *upstreams, QObject *parent = nullptr);

    void handle(const HttpRequest &request, HttpResponder *responder);

private:
    using Reply = std::pair<int, QJsonDocument>;

    Reply route(const HttpRequest &request);
    Reply listUpstreams();
    Reply getUpstream(qint64 id);
    Reply createUpstream(const QByteArray &body);
    Reply updateUpstream(qint64 id, const QByteArray &body);
    Reply deleteUpstream(qint64 id);
    Reply requestRecords(const QByteArray &query);
    Reply stats(const QByteArray &query);
    Reply getConfig();
    Reply putConfig(const QByteArray &body);
    void testUpstream(qint64 id, HttpResponder *responder);
    Reply success(const QJsonObject &extra = {});
    Reply error(ApiError::Kind kind, const QString &message);
    void reload();

    std::shared_ptr<DbConnection> m_conn;
    SnapshotHolder *m_snapshots;
    HealthTracker *m_health;
    UpstreamClient *m_upstreams;
};
