// The command line (SPEC §13: it is input too, from scripts and unit
// files): NUL-separated arguments, parsed as main() does; never a crash.
#include "fuzzinput.h"

#include "runtime/commandline.h"

#include <QCoreApplication>

using namespace route;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    QStringList args{QStringLiteral("openai-api-route")};
    for (const QByteArray &a : input.rest().split('\0'))
        args << QString::fromUtf8(a);
    (void)CommandLine::parse(args);
    return 0;
}
