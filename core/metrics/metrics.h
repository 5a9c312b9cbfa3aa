#pragma once

#include "balancer/health.h"
#include "records/requestrecord.h"
#include "store/snapshot.h"

#include <QHash>
#include <QMutex>
#include <QSet>
#include <QString>

#include <array>
#include <functional>

// Prometheus counters of the proxy, in the text exposition format. Shared by
// the network workers behind one mutex (one short lock per request).
// Label values are bounded: upstream ids, status classes, and at most
// maxModels model names (the rest are "other").
class Metrics
{
public:
    static constexpr int maxModels = 50;

    void requestFinished(const RequestRecord &r);
    QByteArray render(const Snapshot &snapshot, const QHash<qint64, UpstreamHealth> &health, int inFlight,
        qint64 droppedRecords) const;

private:
    static constexpr std::array<double, 13> bucketsMs
        = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
    struct Histogram
    {
        std::array<quint64, bucketsMs.size()> counts{};
        quint64 count = 0;
        double sumMs = 0;
        void observe(double ms);
        void render(QByteArray &out, const char *name, const QByteArray &labels) const;
    };
    QString boundedModel(const QString &model);

    mutable QMutex m_mutex;
    QSet<QString> m_models;
    QHash<QString, quint64> m_requests; // "upstream|class|model"
    QHash<QString, quint64> m_attempts; // "upstream|result"
    QHash<QString, quint64> m_tokens; // "upstream|kind"
    QHash<QString, quint64> m_outcomes; // "outcome"
    QHash<qint64, Histogram> m_ttfb;
    QHash<qint64, Histogram> m_duration;
    quint64 m_failovers = 0;
};
