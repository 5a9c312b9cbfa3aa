#include "store/snapshotloader.h"

#include "domain/snapshot.h"
#include "store/configrepository.h"
#include "store/database.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"

namespace route {

bool reloadSnapshot(SnapshotHolder &holder, DbConnection &conn, QString *error)
{
    Snapshot next;
    auto upstreams = UpstreamRepository(conn.db()).list(error);
    if (!upstreams)
        return false;
    auto settings = ConfigRepository(conn.db()).load(error);
    if (!settings)
        return false;
    auto tokens = TokenRepository(conn.db()).list(error);
    if (!tokens)
        return false;
    next.appTokens = std::move(*tokens);
    next.upstreams = std::move(*upstreams);
    next.settings = std::move(*settings);
    holder.publish(std::move(next));
    return true;
}

} // namespace route
