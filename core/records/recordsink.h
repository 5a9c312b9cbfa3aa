#pragma once

#include "records/requestrecord.h"

namespace route {

// Where finished requests go; implemented by the batching BackgroundStore and by
// test fakes. submit() must be cheap and thread-safe: it runs on the request path.
class RecordSink
{
public:
    virtual ~RecordSink() = default;
    virtual void submit(RequestRecord record) = 0;
};

} // namespace route
