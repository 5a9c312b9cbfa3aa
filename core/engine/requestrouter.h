#pragma once

#include "http/httprequest.h"

#include <QObject>

class AdminApi;
class HttpResponder;
class ProxyHandler;
class SnapshotHolder;

// Decides who answers a request: CORS preflight, client authentication,
// then the proxy (/v1/*) or the admin API (/admin/*).
class RequestRouter : public QObject
{
    Q_OBJECT
public:
    RequestRouter(
        ProxyHandler *proxy, AdminApi *admin, SnapshotHolder *snapshots, bool noAuth, QObject *parent = nullptr);

    void route(HttpRequest &request, HttpResponder *responder);

    static bool isLoopbackOrigin(const QByteArray &origin);

private:
    void answerPreflight(const HttpRequest &request, HttpResponder *responder);
    void sendError(HttpResponder *responder, int status, const QString &message, const QString &type);

    ProxyHandler *m_proxy;
    AdminApi *m_admin;
    SnapshotHolder *m_snapshots;
    bool m_noAuth;
};
