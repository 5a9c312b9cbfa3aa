#pragma once

#include "admin/apierror.h"
#include "balancer/health.h"
#include "domain/apptoken.h"
#include "domain/settings.h"
#include "domain/upstream.h"
#include "records/requestrecord.h"
#include "store/recordrepository.h"

#include <QJsonObject>

#include <variant>

namespace route {

// The admin API's JSON shapes, in the seed's field style (ID, SK, Endpoint…),
// and their validation.
namespace AdminJson {

QJsonObject fromUpstream(const Upstream &u, const UpstreamHealth &health = {}, qint64 nowMs = 0);
QJsonObject fromRecord(const RequestRecord &r);
QJsonObject fromSettings(const Settings &s);
QJsonObject fromAppToken(const AppToken &t, const TokenSpend &spend);
QJsonObject fromUsage(const UsageRow &row);

// Type checks of every writable field (a string, an integer ≥ n, a list);
// what the values mean is checked by the ConfigService.
std::variant<UpstreamPatch, ApiError> toPatch(const QJsonObject &o);
std::variant<Settings, ApiError> applySettings(const QJsonObject &o, Settings current);
std::variant<AppTokenPatch, ApiError> toTokenPatch(const QJsonObject &o);

} // namespace AdminJson

} // namespace route
