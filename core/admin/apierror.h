#pragma once

#include <QString>

namespace route {

// Every way an admin call can fail, mapped to HTTP in one place.
struct ApiError
{
    enum class Kind { BadRequest, Unauthorized, NotFound, MethodNotAllowed, Conflict, Internal, Unavailable };
    Kind kind;
    QString message;

    int httpStatus() const;
    QString typeName() const;
};

} // namespace route
