// The request-body scanner that finds `model`, `stream` and the session
// hints (SPEC §13), and the rewrite of `model`: whatever the body, no
// crash; and a JSON body whose model was found reads back with the new one.
#include "fuzzinput.h"

#include "proxy/proxyrules.h"

using namespace route;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const uint8_t mode = input.take();
    const QByteArray body = input.rest();
    const QByteArray type = mode & 1 ? QByteArray("application/json; charset=utf-8") : QByteArray("text/plain");
    const ProxyRules::BodyTraits traits = ProxyRules::inspectBody(type, body);
    const QByteArray rewritten = ProxyRules::withModel(body, QStringLiteral("fuzz-model"));
    if (!traits.model.isEmpty() && (mode & 1) && rewritten != body)
        FUZZ_CHECK(ProxyRules::inspectBody(type, rewritten).model == QStringLiteral("fuzz-model"));
    HttpHeaders headers;
    (void)ProxyRules::affinityKey(headers, traits);
    return 0;
}
