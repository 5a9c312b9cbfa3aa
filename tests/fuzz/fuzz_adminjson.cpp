// The admin API's JSON input (SPEC §13): every body a client may PUT or
// POST, as an upstream patch, settings and an app token patch. Refused
// with an error or taken; never a crash.
#include "fuzzinput.h"

#include "admin/adminjson.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace route;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput input(data, size);
    const QJsonDocument doc = QJsonDocument::fromJson(input.rest());
    if (!doc.isObject())
        return 0;
    const QJsonObject o = doc.object();
    (void)AdminJson::toPatch(o);
    (void)AdminJson::toTokenPatch(o);
    const auto settings = AdminJson::applySettings(o, Settings());
    if (const Settings *s = std::get_if<Settings>(&settings))
        (void)AdminJson::fromSettings(*s);
    return 0;
}
