// The head parser, both modes (SPEC §13): never a crash, a consumed count
// inside the input, and the same verdict whether the bytes come at once or
// cut at any point (what a slow client does).
#include "fuzzinput.h"

#include "http/headparser.h"

using namespace route;

namespace {

HeadResult parse(QByteArrayView in, uint8_t mode)
{
    if (mode & 1) {
        RequestHead head;
        return HeadParser::parseRequest(in, head, HeadLimits{4096, 1 << 20});
    }
    ResponseHead head;
    return HeadParser::parseResponse(in, head, mode & 2, HeadLimits{4096, -1});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const uint8_t mode = input.take();
    const uint8_t cut = input.take();
    const QByteArray in = input.rest();
    const HeadResult whole = parse(in, mode);
    FUZZ_CHECK(whole.consumed >= 0 && whole.consumed <= in.size());
    if (whole.isComplete()) {
        FUZZ_CHECK(whole.consumed > 0);
        FUZZ_CHECK(whole.framing != BodyFraming::Length || whole.contentLength >= 0);
        // A prefix that ends before the head does is never complete.
        const qsizetype at = in.isEmpty() ? 0 : cut % (whole.consumed);
        const HeadResult part = parse(QByteArrayView(in).first(at), mode);
        FUZZ_CHECK(!part.isComplete() || part.consumed <= at);
    }
    if (whole.isInvalid())
        FUZZ_CHECK(whole.error != HeadError::None);
    (void)HeadParser::messageFor(whole.error);
    return 0;
}
