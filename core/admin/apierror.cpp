#include "admin/apierror.h"

namespace route {

int ApiError::httpStatus() const
{
    switch (kind) {
    case Kind::BadRequest: return 400;
    case Kind::Unauthorized: return 403; // the seed answers 403 for a bad token
    case Kind::NotFound: return 404;
    case Kind::MethodNotAllowed: return 405;
    case Kind::Conflict: return 409;
    case Kind::Internal: return 500;
    case Kind::Unavailable: return 503; // the database is away (team mode)
    }
    return 500;
}

QString ApiError::typeName() const
{
    switch (kind) {
    case Kind::BadRequest: return QStringLiteral("invalid_request_error");
    case Kind::Unauthorized: return QStringLiteral("authentication_error");
    case Kind::NotFound: return QStringLiteral("not_found_error");
    case Kind::MethodNotAllowed: return QStringLiteral("invalid_request_error");
    case Kind::Conflict: return QStringLiteral("conflict_error");
    case Kind::Internal: return QStringLiteral("server_error");
    case Kind::Unavailable: return QStringLiteral("service_unavailable");
    }
    return QStringLiteral("server_error");
}

} // namespace route
