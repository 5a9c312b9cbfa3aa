#pragma once

#include "domain/upstream.h"
#include "engine/engine.h"
#include "rawhttp.h"
#include "util/clock.h"

#include <QJsonArray>
#include <QTemporaryDir>

#include <functional>
#include <memory>

using namespace route; // test code reads like code inside the project

// A real Engine on 127.0.0.1:0 over a database in a temporary folder, with
// the known client token "test-token".
class TestEngine
{
public:
    explicit TestEngine(bool noAuth = false, const HttpLimits &limits = {}, const HealthTuning &health = {});
    // On DATABASE (PostgreSQL: several engines may share it, as team mode does).
    explicit TestEngine(const DatabaseConfig &database);
    ~TestEngine();

    bool start();
    // Before start(): the background model catalog fetch (off by default here).
    void setFetchModels(bool on);
    EngineOptions &options() { return m_options; }
    Engine *engine() const { return m_engine.get(); }
    // The engine's clock for rests and cool-downs: it moves only when told.
    ManualClock &clock() { return m_clock; }
    quint16 port() const { return m_engine->port(); }
    const DatabaseConfig &database() const { return m_options.database; }
    QString databasePath() const { return m_options.database.path; }
    static QByteArray token() { return "test-token"; }
    static QByteArray bearer() { return "Bearer test-token"; }

    // A request to this engine, as JSON when there is a body, with the
    // token unless `authorization` says otherwise (empty: no header).
    RawResponse call(const QByteArray &method, const QByteArray &target, const QByteArray &body = {},
        const QByteArray &authorization = bearer(), int timeoutMs = 15000) const;

    // The newest records (at most 100), newest first, once at least N are
    // written (the store writes in batches); fewer after TIMEOUTMS.
    QJsonArray records(int n, int timeoutMs = 5000) const;

    // Adds directly in the database and refreshes the proxy's view.
    qint64 addUpstream(const QString &endpoint, const QString &sk, const std::function<void(Upstream &)> &edit = {});
    void setSetting(const char *key, const QString &value);

private:
    void setUp(const DatabaseConfig &database, bool noAuth, const HttpLimits &limits, const HealthTuning &health);
    void reload();
    QTemporaryDir m_dir;
    ManualClock m_clock;
    EngineOptions m_options;
    std::unique_ptr<Engine> m_engine;
};
