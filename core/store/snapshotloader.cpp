#include "store/snapshotloader.h"

#include "domain/snapshot.h"
#include "store/configrepository.h"
#include "store/database.h"
#include "store/keyvault.h"
#include "store/tokenrepository.h"
#include "store/upstreamrepository.h"
#include "util/logging.h"

namespace route {

namespace {

// Keys kept in the system keychain (SPEC §13) are read here, off the
// request path, once each: later loads find them in KeyVault's cache.
void resolveKeychainKeys(QList<Upstream> &upstreams)
{
    for (Upstream &u : upstreams) {
        if (u.skRef.isEmpty() || !u.sk.isEmpty())
            continue;
        const Result<QString> key = KeyVault::read(u.skRef);
        if (key)
            u.sk = key.value();
        else
            qCWarning(lcStore).noquote() << "the key of upstream" << u.id
                                         << "is in the system keychain, which cannot be read:" << key.error();
    }
}

} // namespace

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
    resolveKeychainKeys(*upstreams);
    next.appTokens = std::move(*tokens);
    next.upstreams = std::move(*upstreams);
    next.settings = std::move(*settings);
    holder.publish(std::move(next));
    return true;
}

} // namespace route
