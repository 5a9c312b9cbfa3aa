#pragma once

#include "domain/upstream.h"
#include "proxy/upstreamcall.h"

#include <QJsonDocument>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace route {

class UpstreamClient;

// What a key test found out.
struct ProbeResult
{
    bool ok = false;
    int status = 0;
    qint64 latencyMs = 0;
    int modelCount = -1;
    QStringList models; // the ids it listed, sorted, without repeats
    QString error; // the upstream's own message when it gave one
};

// Tests a key without spending tokens, and reads its model catalog: GET
// {endpoint}/models, through the upstream's outbound proxy.
class UpstreamProbe final : public QObject, private UpstreamCall::Listener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamProbe)
public:
    UpstreamProbe(UpstreamClient *client, const Upstream &upstream, int timeoutMs = 10000, QObject *parent = nullptr);
    ~UpstreamProbe() override;
    void start();

Q_SIGNALS:
    void done(const ProbeResult &result);

public:
    // The model ids of a /models answer: OpenAI's and Anthropic's `data[].id`,
    // or a `models` array of ids or names; sorted, without repeats.
    static QStringList modelIds(const QJsonDocument &doc);

private:
    void upstreamEvent(UpstreamCall *call, UpstreamCall::Event event) override;
    void onFinished();
    void dropCall();
    void conclude(ProbeResult result);

    UpstreamClient *m_client;
    Upstream m_upstream;
    QPointer<UpstreamCall> m_call;
    QTimer m_timer;
    qint64 m_startedMs = 0;
    bool m_done = false;
};

} // namespace route
