// The chunked decoder (SPEC §13): the same bytes decoded at once and in
// pieces give the same verdict and the same body, within the limits.
#include "fuzzinput.h"

#include "http/chunkeddecoder.h"

using namespace route;

namespace {

struct Decoded
{
    ChunkedDecoder::Result result = ChunkedDecoder::Result::NeedMore;
    QByteArray body;
};

Decoded decodeIn(const QByteArray &in, qsizetype piece)
{
    ChunkedDecoder decoder(1 << 20, 4096);
    Decoded d;
    QByteArray pending;
    for (qsizetype at = 0; at < in.size() && d.result == ChunkedDecoder::Result::NeedMore; at += piece) {
        pending += in.mid(at, piece);
        QByteArray out;
        d.result = decoder.decode(pending, out);
        d.body += out;
    }
    FUZZ_CHECK(decoder.decodedBytes() == d.body.size());
    return d;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const qsizetype piece = 1 + input.take() % 64;
    const QByteArray in = input.rest();
    const Decoded whole = decodeIn(in, qMax<qsizetype>(1, in.size()));
    const Decoded pieces = decodeIn(in, piece);
    FUZZ_CHECK(whole.result == pieces.result);
    if (whole.result == ChunkedDecoder::Result::Done)
        FUZZ_CHECK(whole.body == pieces.body);
    FUZZ_CHECK(whole.body.size() <= (1 << 20));
    return 0;
}
