#include "domain/vocabulary.h"

#include <array>
#include <utility>

namespace route {

namespace Vocabulary {
namespace {

constexpr std::array<std::pair<Policy, QLatin1StringView>, 6> policies{{
    {Policy::Order, QLatin1StringView("order")},
    {Policy::RoundRobin, QLatin1StringView("round_robin")},
    {Policy::Random, QLatin1StringView("random")},
    {Policy::Weighted, QLatin1StringView("weighted")},
    {Policy::LeastInflight, QLatin1StringView("least_inflight")},
    {Policy::LowestLatency, QLatin1StringView("lowest_latency")},
}};

constexpr std::array<std::pair<ApiFormat, QLatin1StringView>, 2> formats{{
    {ApiFormat::OpenAI, QLatin1StringView("openai")},
    {ApiFormat::Anthropic, QLatin1StringView("anthropic")},
}};

constexpr std::array<std::pair<Outcome, QLatin1StringView>, outcomeCount> outcomes{{
    {Outcome::Complete, QLatin1StringView("complete")},
    {Outcome::Failed, QLatin1StringView("failed")},
    {Outcome::CutUpstream, QLatin1StringView("cut_upstream")},
    {Outcome::Stalled, QLatin1StringView("stalled")},
    {Outcome::AbortedByClient, QLatin1StringView("aborted_by_client")},
}};

template <typename Enum, size_t N>
QLatin1StringView nameIn(const std::array<std::pair<Enum, QLatin1StringView>, N> &table, Enum value)
{
    for (const auto &[e, text] : table)
        if (e == value)
            return text;
    return QLatin1StringView();
}

template <typename Enum, size_t N>
std::optional<Enum> parseIn(const std::array<std::pair<Enum, QLatin1StringView>, N> &table, QStringView text)
{
    for (const auto &[e, name] : table)
        if (text == name)
            return e;
    return std::nullopt;
}

} // namespace

QLatin1StringView name(Policy p)
{
    return nameIn(policies, p);
}

std::optional<Policy> parsePolicy(QStringView text)
{
    return parseIn(policies, text);
}

QStringList policyNames()
{
    QStringList out;
    for (const auto &entry : policies)
        out << entry.second;
    return out;
}

QLatin1StringView name(ApiFormat f)
{
    return nameIn(formats, f);
}

std::optional<ApiFormat> parseFormat(QStringView text)
{
    return parseIn(formats, text);
}

QLatin1StringView name(Outcome o)
{
    return nameIn(outcomes, o);
}

std::optional<Outcome> parseOutcome(QStringView text)
{
    return parseIn(outcomes, text);
}

std::optional<FailureClass> failureClassOf(int status)
{
    struct Rule
    {
        int from, to;
        FailureClass cls;
    };
    static constexpr Rule rules[] = {
        {401, 401, FailureClass::AuthRejected},
        {403, 403, FailureClass::AuthRejected},
        {429, 429, FailureClass::RateLimited},
        {500, 599, FailureClass::ServerError},
    };
    for (const Rule &r : rules)
        if (status >= r.from && status <= r.to)
            return r.cls;
    if (status >= 600) // not HTTP as anyone knows it
        return FailureClass::ServerError;
    return std::nullopt;
}

} // namespace Vocabulary

} // namespace route
