#include "models/upstreamtablemodel.h"

#include "domain/upstream.h"
#include "net/outboundproxy.h"
#include "service/configservice.h"
#include "store/database.h"
#include "store/upstreamrepository.h"
#include "util/secrets.h"

#include <QSqlError>
#include <QSqlRecord>

namespace route {

UpstreamTableModel::UpstreamTableModel(QObject *parent, const QSqlDatabase &db, ConfigService *service)
    : QSqlTableModel(parent, db), m_service(service)
{
    setTable(QStringLiteral("openai_upstreams"));
    m_base = record().count();
    setEditStrategy(QSqlTableModel::OnManualSubmit);
    setFilter(QStringLiteral("deleted_at IS NULL"));
    // Sorted as the `order` policy walks them.
    const int order = column("sort_order");
    setSort(order >= 0 ? order : column("id"), Qt::AscendingOrder);
    select();
}

QList<int> UpstreamTableModel::visibleColumns() const
{
    QList<int> out;
    for (const char *f : {"id", "name", "endpoint", "format", "responses", "sk", "enabled", "weight", "models",
             "model_map", "allow", "deny", "proxy"})
        out << column(f);
    out << m_base;
    for (const char *f : {"success_count", "failed_count", "last_call_success_time"})
        out << column(f);
    out.removeAll(-1);
    return out;
}

int UpstreamTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_base + 1;
}

qint64 UpstreamTableModel::idAt(int row) const
{
    return QSqlTableModel::data(QSqlTableModel::index(row, column("id"))).toLongLong();
}

int UpstreamTableModel::rowOf(qint64 id) const
{
    for (int row = 0; row < rowCount(); ++row)
        if (idAt(row) == id)
            return row;
    return -1;
}

void UpstreamTableModel::setRevealKeys(bool reveal)
{
    m_reveal = reveal;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, column("sk")), index(rowCount() - 1, column("sk")));
}

QVariant UpstreamTableModel::data(const QModelIndex &idx, int role) const
{
    if (!idx.isValid() || idx.row() >= rowCount())
        return QVariant();
    const int c = idx.column();
    if (c == m_base) {
        const UpstreamHealth h = m_health ? m_health(idAt(idx.row())) : UpstreamHealth();
        if (role == Qt::DisplayRole) {
            QString text;
            switch (h.state) {
            case HealthState::Healthy: text = tr("healthy"); break;
            case HealthState::RateLimited: text = tr("rate limited"); break;
            case HealthState::AuthFailed: text = tr("key rejected"); break;
            case HealthState::CoolingDown: text = tr("resting"); break;
            case HealthState::HalfOpen: text = tr("probing"); break;
            }
            if (h.ttfbEwmaMs >= 0 && h.state == HealthState::Healthy)
                text += tr(" · %1 ms").arg(qRound(h.ttfbEwmaMs));
            return text;
        }
        if (role == Qt::ToolTipRole && !h.reason.isEmpty())
            return h.reason;
        if (role == Qt::UserRole)
            return int(h.state);
        return QVariant();
    }
    if (c == column("enabled") || c == column("responses")) {
        const QVariant v = QSqlTableModel::data(idx, Qt::DisplayRole);
        if (role == Qt::CheckStateRole)
            return (v.isNull() || v.toInt() != 0) ? Qt::Checked : Qt::Unchecked;
        return (role == Qt::DisplayRole || role == Qt::EditRole) ? QVariant() : QSqlTableModel::data(idx, role);
    }
    if (c == column("models"))
        return catalogData(idx.row(), role);
    if (c == column("model_map")) {
        const ModelMap map = ModelMap::fromStored(QSqlTableModel::data(idx, Qt::DisplayRole).toString());
        if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
            return QVariant();
        QStringList pairs;
        for (const ModelMap::Entry &e : map.entries())
            pairs << e.from + QStringLiteral(" → ") + e.to;
        return pairs.join(role == Qt::DisplayRole ? QStringLiteral(", ") : QStringLiteral("\n"));
    }
    if (c == column("proxy") && (role == Qt::DisplayRole || role == Qt::EditRole))
        return OutboundProxy::masked(QSqlTableModel::data(idx, Qt::DisplayRole).toString());
    const QVariant value = QSqlTableModel::data(idx, role);
    if (role == Qt::DisplayRole) {
        if (c == column("sk"))
            return m_reveal ? value : QVariant(Secrets::mask(value.toString()));
        if (c == column("last_call_success_time")) {
            const QDateTime t = DbTime::parse(value);
            return t.isValid() ? QVariant(t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))) : QVariant();
        }
        if ((c == column("success_count") || c == column("failed_count")) && value.isNull())
            return 0;
    }
    if (role == Qt::TextAlignmentRole
        && (c == column("weight") || c == column("success_count") || c == column("failed_count") || c == column("id")))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return value;
}

QStringList UpstreamTableModel::modelsAt(int row) const
{
    return UpstreamRepository::modelsFromStored(
        QSqlTableModel::data(QSqlTableModel::index(row, column("models"))).toString());
}

// The catalog's cell: how many models, and on hover which, since when, and
// why the last fetch failed.
QVariant UpstreamTableModel::catalogData(int row, int role) const
{
    const QStringList models = modelsAt(row);
    const QDateTime fetched
        = DbTime::parse(QSqlTableModel::data(QSqlTableModel::index(row, column("models_fetched_at"))));
    const QString error = QSqlTableModel::data(QSqlTableModel::index(row, column("models_error"))).toString();
    switch (role) {
    case Qt::DisplayRole:
        if (!fetched.isValid())
            return error.isEmpty() ? QVariant() : QVariant(tr("failed"));
        return error.isEmpty() ? QVariant(QString::number(models.size()))
                               : QVariant(tr("%1 (stale)").arg(models.size()));
    case Qt::ToolTipRole: {
        QStringList lines;
        if (fetched.isValid())
            lines << tr("%n model(s), fetched %1", nullptr, int(models.size()))
                         .arg(fetched.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
        else
            lines << tr("The model list was not fetched yet");
        if (!error.isEmpty())
            lines << tr("Last fetch failed: %1").arg(error);
        constexpr int shown = 30;
        for (qsizetype i = 0; i < qMin<qsizetype>(models.size(), shown); ++i)
            lines << QStringLiteral("  ") + models.at(i);
        if (models.size() > shown)
            lines << tr("  … and %n more", nullptr, int(models.size() - shown));
        return lines.join(QLatin1Char('\n'));
    }
    case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
    default: return QVariant();
    }
}

std::optional<UpstreamPatch> UpstreamTableModel::patchFor(int c, const QVariant &value, int role) const
{
    UpstreamPatch p;
    if (c == column("enabled") || c == column("responses")) {
        if (role != Qt::CheckStateRole)
            return std::nullopt;
        (c == column("enabled") ? p.enabled : p.responses) = value.toInt() == Qt::Checked;
        return p;
    }
    if (role != Qt::EditRole)
        return std::nullopt;
    const QString text = value.toString().trimmed();
    if (c == column("weight")) {
        bool ok = false;
        p.weight = text.toInt(&ok);
        if (!ok)
            p.weight = -1; // refused by the service, with its message
    } else if (c == column("allow") || c == column("deny")) {
        QStringList items;
        for (const QString &s : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!s.trimmed().isEmpty())
                items << s.trimmed();
        (c == column("allow") ? p.allow : p.deny) = items;
    } else if (c == column("name")) {
        p.name = text;
    } else if (c == column("endpoint")) {
        p.endpoint = text;
    } else if (c == column("format")) {
        p.format = Vocabulary::parseFormat(text.toLower());
        if (!p.format)
            return std::nullopt;
    } else if (c == column("sk")) {
        p.sk = text;
    } else if (c == column("proxy")) {
        if (text.contains(QLatin1String(":***@")))
            return std::nullopt; // the masked form, unchanged
        p.proxy = text;
    } else {
        return std::nullopt;
    }
    return p;
}

bool UpstreamTableModel::setData(const QModelIndex &idx, const QVariant &value, int role)
{
    if (!idx.isValid() || idx.column() >= m_base || !m_service)
        return false;
    if (role == Qt::EditRole && !(flags(idx) & Qt::ItemIsEditable))
        return false;
    const std::optional<UpstreamPatch> patch = patchFor(idx.column(), value, role);
    if (!patch) {
        if (idx.column() == column("format") && role == Qt::EditRole)
            Q_EMIT validationFailed(tr("The API is openai or anthropic."));
        return false;
    }
    // Through the one write path: validated there, written, and in the
    // proxy's snapshot before this returns.
    const ChangeResult r = m_service->updateUpstream(idAt(idx.row()), *patch);
    if (!r.ok()) {
        Q_EMIT validationFailed(r.error->translated());
        return false;
    }
    select();
    Q_EMIT edited();
    return true;
}

QVariant UpstreamTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QSqlTableModel::headerData(section, orientation, role);
    const QString field = section < m_base ? record().fieldName(section) : QStringLiteral("health");
    if (role == Qt::DisplayRole) {
        static const QHash<QString, const char *> titles = {
            {QStringLiteral("id"), QT_TR_NOOP("ID")},
            {QStringLiteral("name"), QT_TR_NOOP("Name")},
            {QStringLiteral("endpoint"), QT_TR_NOOP("Endpoint")},
            {QStringLiteral("format"), QT_TR_NOOP("API")},
            {QStringLiteral("responses"), QT_TR_NOOP("Responses")},
            {QStringLiteral("sk"), QT_TR_NOOP("API key")},
            {QStringLiteral("enabled"), QT_TR_NOOP("On")},
            {QStringLiteral("weight"), QT_TR_NOOP("Weight")},
            {QStringLiteral("allow"), QT_TR_NOOP("Only models")},
            {QStringLiteral("deny"), QT_TR_NOOP("Never models")},
            {QStringLiteral("models"), QT_TR_NOOP("Models")},
            {QStringLiteral("model_map"), QT_TR_NOOP("Aliases")},
            {QStringLiteral("proxy"), QT_TR_NOOP("Proxy")},
            {QStringLiteral("health"), QT_TR_NOOP("Health")},
            {QStringLiteral("success_count"), QT_TR_NOOP("OK")},
            {QStringLiteral("failed_count"), QT_TR_NOOP("Failed")},
            {QStringLiteral("last_call_success_time"), QT_TR_NOOP("Last success")},
        };
        const char *title = titles.value(field);
        return title ? tr(title) : QVariant(field);
    }
    if (role == Qt::ToolTipRole) {
        if (field == QLatin1String("enabled"))
            return tr("Disabled upstreams get no requests");
        if (field == QLatin1String("weight"))
            return tr("Share of requests with the weighted policy");
        if (field == QLatin1String("responses"))
            return tr("Checked: the upstream serves /v1/responses itself. Unchecked: Responses requests (Codex) are "
                      "converted to Chat Completions for it");
        if (field == QLatin1String("format"))
            return tr("openai: Chat Completions, Responses and the rest of /v1; anthropic: Messages (Claude Code)");
        if (field == QLatin1String("allow"))
            return tr("Comma-separated models (or /v1/ paths) this key may serve; empty = all. A trailing * matches "
                      "any suffix.");
        if (field == QLatin1String("deny"))
            return tr("Comma-separated models (or /v1/ paths) this key must never serve");
        if (field == QLatin1String("models"))
            return tr("How many models the upstream listed when last asked; hover for the list, double-click to "
                      "edit aliases and the allowed models");
        if (field == QLatin1String("model_map"))
            return tr("Model aliases: the name a client asks for → the name this upstream gets; double-click to edit");
        if (field == QLatin1String("proxy"))
            return tr("http://host:port or socks5://host:port (user:password@ allowed), direct, or empty for "
                      "the system's HTTPS_PROXY / ALL_PROXY");
        if (field == QLatin1String("health"))
            return tr("Live state: healthy, rate limited, key rejected, resting after failures, or probing");
    }
    return QVariant();
}

Qt::ItemFlags UpstreamTableModel::flags(const QModelIndex &idx) const
{
    if (!idx.isValid())
        return Qt::NoItemFlags;
    const Qt::ItemFlags base = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    const int c = idx.column();
    if (c == column("enabled") || c == column("responses"))
        return base | Qt::ItemIsUserCheckable;
    if (c == column("sk"))
        return m_reveal ? (base | Qt::ItemIsEditable) : base;
    if (c == column("name") || c == column("endpoint") || c == column("format") || c == column("weight")
        || c == column("allow") || c == column("deny") || c == column("proxy"))
        return base | Qt::ItemIsEditable;
    return base;
}

void UpstreamTableModel::healthChanged()
{
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, m_base), index(rowCount() - 1, m_base));
}

} // namespace route
