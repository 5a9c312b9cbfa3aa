// The usage scanner that reads token counts out of answers and streams
// (SPEC §13): any bytes, fed whole or in pieces, in every shape; counts
// never negative.
#include "fuzzinput.h"

#include "records/usagescanner.h"

using namespace route;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const uint8_t mode = input.take();
    const qsizetype piece = 1 + input.take() % 200;
    const QByteArray text = input.rest();
    const auto shape = static_cast<UsageScanner::Shape>(mode % 3);
    const TokenUsage whole = UsageScanner::scan(text, shape);
    UsageScanner scanner(shape);
    for (qsizetype at = 0; at < text.size(); at += piece)
        scanner.feed(text.mid(at, piece));
    const TokenUsage fed = scanner.result();
    for (const TokenUsage &u : {whole, fed}) {
        FUZZ_CHECK(u.prompt >= 0 && u.completion >= 0 && u.total >= 0);
        FUZZ_CHECK(u.cached >= 0 && u.cacheWrite >= 0 && u.reasoning >= 0);
    }
    return 0;
}
