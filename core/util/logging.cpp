#include "util/logging.h"

Q_LOGGING_CATEGORY(lcEngine, "route.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "route.http", QtWarningMsg)
Q_LOGGING_CATEGORY(lcProxy, "route.proxy", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStore, "route.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAdmin, "route.admin", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRecords, "route.records", QtInfoMsg)
// One line per proxied request; QT_LOGGING_RULES="route.requests.info=false" silences it.
Q_LOGGING_CATEGORY(lcRequests, "route.requests", QtInfoMsg)
