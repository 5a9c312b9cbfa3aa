#pragma once

#include "domain/settings.h"

#include <QSqlDatabase>

#include <optional>

namespace route {

// SQL for `config_kvs`: reads the whole Settings, writes one key at a time.
class ConfigRepository
{
public:
    explicit ConfigRepository(QSqlDatabase db) : m_db(std::move(db)) { }

    std::optional<Settings> load(QString *error = nullptr) const;
    std::optional<QString> value(const char *key) const;
    bool setValue(const char *key, const QString &value);
    bool save(const Settings &s);

private:
    QSqlDatabase m_db;
};

} // namespace route
