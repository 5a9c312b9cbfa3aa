// The multipart form reader behind inspectBody (audio uploads name their
// model in a form field): any boundary, any parts, no crash, no read past
// the body.
#include "fuzzinput.h"

#include "proxy/proxyrules.h"

using namespace route;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const int boundaryLength = input.take() % 40;
    QByteArray rest = input.rest();
    const QByteArray boundary = rest.left(boundaryLength);
    const QByteArray body = rest.mid(boundaryLength);
    const QByteArray type = "multipart/form-data; boundary=" + boundary;
    const ProxyRules::BodyTraits traits = ProxyRules::inspectBody(type, body);
    FUZZ_CHECK(traits.model.size() <= body.size());
    // A quoted boundary is read the same way.
    (void)ProxyRules::inspectBody("multipart/form-data; boundary=\"" + boundary + "\"", body);
    return 0;
}
