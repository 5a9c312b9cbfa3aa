#include "metrics/metrics.h"

namespace route {

namespace {

QByteArray escape(const QString &value)
{
    QByteArray v = value.toUtf8();
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return v;
}

QByteArray statusClass(int hundreds)
{
    if (hundreds <= 0)
        return "none";
    return QByteArray::number(hundreds) + "xx";
}

void header(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

} // namespace

void Metrics::Histogram::observe(double ms)
{
    for (size_t i = 0; i < bucketsMs.size(); ++i)
        if (ms <= bucketsMs[i])
            ++counts[i];
    ++count;
    sumMs += ms;
}

void Metrics::Histogram::render(QByteArray &out, const char *name, const QByteArray &labels) const
{
    for (size_t i = 0; i < bucketsMs.size(); ++i)
        out += QByteArray(name) + "_bucket{" + labels + ",le=\"" + QByteArray::number(bucketsMs[i] / 1000.0) + "\"} "
            + QByteArray::number(counts[i]) + '\n';
    out += QByteArray(name) + "_bucket{" + labels + ",le=\"+Inf\"} " + QByteArray::number(count) + '\n';
    out += QByteArray(name) + "_sum{" + labels + "} " + QByteArray::number(sumMs / 1000.0, 'f', 6) + '\n';
    out += QByteArray(name) + "_count{" + labels + "} " + QByteArray::number(count) + '\n';
}

QString Metrics::boundedModel(const QString &model)
{
    if (model.isEmpty())
        return QString();
    if (m_models.contains(model))
        return model;
    if (m_models.size() >= maxModels)
        return QStringLiteral("other");
    m_models.insert(model);
    return model;
}

void Metrics::requestFinished(const RequestRecord &r)
{
    QMutexLocker lock(&m_mutex);
    const int hundreds = r.status > 0 ? r.status / 100 : 0;
    ++m_requests[RequestKey{r.upstreamId, hundreds, boundedModel(r.model.left(80))}];
    ++m_outcomes[size_t(r.outcome)];
    for (qint64 id : r.failedUpstreams)
        ++m_attempts[id].failed;
    if (r.upstreamSucceeded)
        ++m_attempts[r.upstreamId].ok;
    if (r.attempts > 1)
        m_failovers += quint64(r.attempts - 1);
    if (r.upstreamId > 0 && r.status > 0) {
        m_ttfb[r.upstreamId].observe(double(r.ttfbMs));
        m_duration[r.upstreamId].observe(double(r.durationMs));
    }
    if (!r.session.isEmpty())
        ++m_sessionRequests[r.sessionBound ? 1 : 0];
    if (r.promptTokens > 0 || r.completionTokens > 0) {
        TokenCounts &tokens = m_tokens[r.upstreamId];
        tokens.prompt += quint64(qMax(0, r.promptTokens));
        tokens.completion += quint64(qMax(0, r.completionTokens));
        tokens.cached += quint64(qMax(0, r.cachedTokens));
        tokens.cacheWrite += quint64(qMax(0, r.cacheWriteTokens));
        tokens.reasoning += quint64(qMax(0, r.reasoningTokens));
    }
}

QByteArray Metrics::render(
    const Snapshot &snapshot, const QHash<qint64, UpstreamHealth> &health, int inFlight, const StoreStatus &store) const
{
    QMutexLocker lock(&m_mutex);
    QByteArray out;
    out.reserve(8192);
    header(out, "openai_route_build_info", "gauge", "Version of openai-api-route.");
    out += "openai_route_build_info{version=\"" ROUTE_VERSION "\"} 1\n";

    header(out, "openai_route_requests_total", "counter",
        "Client requests by answering upstream (0 = none), status class and model.");
    for (auto it = m_requests.cbegin(); it != m_requests.cend(); ++it) {
        const RequestKey &k = it.key();
        out += "openai_route_requests_total{upstream=\"" + QByteArray::number(k.upstream) + "\",status=\""
            + statusClass(k.statusClass) + "\",model=\"" + escape(k.model) + "\"} " + QByteArray::number(it.value())
            + '\n';
    }
    header(out, "openai_route_request_outcomes_total", "counter",
        "Client requests by how they ended (complete, failed, cut_upstream, stalled, aborted_by_client).");
    for (int o = 0; o < Vocabulary::outcomeCount; ++o)
        if (m_outcomes[size_t(o)] > 0)
            out += QByteArray("openai_route_request_outcomes_total{outcome=\"")
                + QByteArray(Vocabulary::name(Outcome(o)).latin1()) + "\"} " + QByteArray::number(m_outcomes[size_t(o)])
                + '\n';
    header(out, "openai_route_upstream_attempts_total", "counter", "Attempts on upstreams by result.");
    const auto counter
        = [&out](const char *name, qint64 upstream, const char *label, const char *value, quint64 count) {
              if (count > 0)
                  out += QByteArray(name) + "{upstream=\"" + QByteArray::number(upstream) + "\"," + label + "=\""
                      + value + "\"} " + QByteArray::number(count) + '\n';
          };
    for (auto it = m_attempts.cbegin(); it != m_attempts.cend(); ++it) {
        counter("openai_route_upstream_attempts_total", it.key(), "result", "ok", it.value().ok);
        counter("openai_route_upstream_attempts_total", it.key(), "result", "failed", it.value().failed);
    }
    header(out, "openai_route_failovers_total", "counter", "Attempts beyond the first one of a request.");
    out += "openai_route_failovers_total " + QByteArray::number(m_failovers) + '\n';
    header(out, "openai_route_tokens_total", "counter", "Tokens reported by upstreams in usage.");
    for (auto it = m_tokens.cbegin(); it != m_tokens.cend(); ++it) {
        counter("openai_route_tokens_total", it.key(), "kind", "prompt", it.value().prompt);
        counter("openai_route_tokens_total", it.key(), "kind", "completion", it.value().completion);
        counter("openai_route_tokens_total", it.key(), "kind", "cached", it.value().cached);
        counter("openai_route_tokens_total", it.key(), "kind", "cache_write", it.value().cacheWrite);
        counter("openai_route_tokens_total", it.key(), "kind", "reasoning", it.value().reasoning);
    }
    header(out, "openai_route_ttfb_seconds", "histogram",
        "Time from the client's request to the upstream's response headers.");
    for (auto it = m_ttfb.cbegin(); it != m_ttfb.cend(); ++it)
        it.value().render(out, "openai_route_ttfb_seconds", "upstream=\"" + QByteArray::number(it.key()) + '"');
    header(out, "openai_route_request_duration_seconds", "histogram",
        "Time from the client's request to the end of the response.");
    for (auto it = m_duration.cbegin(); it != m_duration.cend(); ++it)
        it.value().render(
            out, "openai_route_request_duration_seconds", "upstream=\"" + QByteArray::number(it.key()) + '"');
    header(out, "openai_route_sessions", "gauge", "Conversations bound to an upstream (sticky sessions).");
    out += "openai_route_sessions " + QByteArray::number(m_affinity ? m_affinity->size() : 0) + '\n';
    header(out, "openai_route_session_requests_total", "counter",
        "Requests that named a conversation, by what chose the upstream: the policy (a new or handed-over "
        "session) or the binding.");
    out += "openai_route_session_requests_total{placed=\"policy\"} " + QByteArray::number(m_sessionRequests[0]) + '\n';
    out += "openai_route_session_requests_total{placed=\"binding\"} " + QByteArray::number(m_sessionRequests[1]) + '\n';
    header(out, "openai_route_in_flight_requests", "gauge", "Client requests being served now.");
    out += "openai_route_in_flight_requests " + QByteArray::number(inFlight) + '\n';
    header(out, "openai_route_upstream_up", "gauge",
        "1 when the upstream is enabled and healthy, 0 when it is disabled or resting.");
    header(out, "openai_route_upstream_state", "gauge", "The upstream's health state, as a label.");
    for (const Upstream &u : snapshot.upstreams) {
        const UpstreamHealth h = health.value(u.id);
        const QByteArray id = QByteArray::number(u.id);
        // By id only: a name is the user's alias for a key, and labels are
        // what dashboards and scrapers copy everywhere (SPEC §13).
        out += "openai_route_upstream_up{upstream=\"" + id + "\"} "
            + QByteArray(u.enabled && h.state == HealthState::Healthy ? "1" : "0") + '\n';
        out += "openai_route_upstream_state{upstream=\"" + id + "\",state=\""
            + escape(UpstreamHealth::stateName(h.state)) + "\"} 1\n";
    }
    header(out, "openai_route_records_dropped_total", "counter",
        "Request records that could not be written to the database.");
    out += "openai_route_records_dropped_total " + QByteArray::number(store.droppedRecords) + '\n';
    header(out, "openai_route_database_up", "gauge",
        "1 while the database is reachable; 0 while PostgreSQL is away (records are kept meanwhile).");
    out += QByteArray("openai_route_database_up ") + (store.databaseUp ? "1" : "0") + '\n';
    return out;
}

} // namespace route
