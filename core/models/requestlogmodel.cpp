#include "models/requestlogmodel.h"

namespace route {

RequestLogModel::RequestLogModel(int capacity, QObject *parent) : QAbstractTableModel(parent), m_capacity(capacity)
{ }

void RequestLogModel::append(const QList<RequestRecord> &records)
{
    if (records.isEmpty())
        return;
    const int incoming = int(qMin<qsizetype>(records.size(), m_capacity));
    const int overflow = int(m_rows.size()) + incoming - m_capacity;
    if (overflow > 0) {
        beginRemoveRows(QModelIndex(), int(m_rows.size()) - overflow, int(m_rows.size()) - 1);
        m_rows.resize(m_rows.size() - overflow);
        endRemoveRows();
    }
    beginInsertRows(QModelIndex(), 0, incoming - 1);
    // `records` is oldest first; the newest goes on top.
    for (qsizetype i = records.size() - incoming; i < records.size(); ++i)
        m_rows.prepend(records.at(i));
    endInsertRows();
}

void RequestLogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

int RequestLogModel::requestsLastMinute() const
{
    const QDateTime since = QDateTime::currentDateTimeUtc().addSecs(-60);
    int n = 0;
    for (const RequestRecord &r : m_rows) {
        if (r.createdAt < since)
            break;
        ++n;
    }
    return n;
}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return QVariant();
    const RequestRecord &r = m_rows.at(index.row());
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Time: return r.createdAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
        case Client: return r.clientIp;
        case Method: return r.method;
        case Path: return r.path;
        case Model: return r.upstreamModel.isEmpty() ? r.model : r.model + QStringLiteral(" → ") + r.upstreamModel;
        case Upstream: return r.upstreamId > 0 ? QVariant(r.upstreamId) : QVariant(QStringLiteral("–"));
        case Status: return r.status;
        case Ttfb: return tr("%1 ms").arg(r.ttfbMs);
        case Duration: return tr("%1 ms").arg(r.durationMs);
        case Tokens: return r.totalTokens > 0 ? QVariant(r.totalTokens) : QVariant();
        case Outcome: return QString(Vocabulary::name(r.outcome));
        case Error: return r.error;
        default: return QVariant();
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Upstream && !r.attemptLog.isEmpty())
        return tr("Attempts (upstream:result): %1").arg(r.attemptLog);
    if (role == Qt::ToolTipRole && index.column() == Tokens && r.totalTokens > 0)
        return tr("input %1 (cached %2, written to the cache %3) · output %4 (reasoning %5)")
            .arg(r.promptTokens)
            .arg(r.cachedTokens)
            .arg(r.cacheWriteTokens)
            .arg(r.completionTokens)
            .arg(r.reasoningTokens);
    if (role == Qt::ToolTipRole && index.column() == Model && !r.upstreamModel.isEmpty())
        return tr("Asked for %1; upstream %2 was sent %3 (an alias)")
            .arg(r.model)
            .arg(r.upstreamId)
            .arg(r.upstreamModel);
    if (role == Qt::ToolTipRole && index.column() == Error && !r.error.isEmpty())
        return r.error;
    if (role == Qt::UserRole) // for views that colour failures
        return r.status;
    if (role == Qt::TextAlignmentRole
        && (index.column() == Status || index.column() == Ttfb || index.column() == Duration
            || index.column() == Tokens))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return QVariant();
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QVariant();
    switch (section) {
    case Time: return tr("Time");
    case Client: return tr("Client");
    case Method: return tr("Method");
    case Path: return tr("Path");
    case Model: return tr("Model");
    case Upstream: return tr("Upstream");
    case Status: return tr("Status");
    case Ttfb: return tr("First byte");
    case Duration: return tr("Duration");
    case Tokens: return tr("Tokens");
    case Outcome: return tr("Outcome");
    case Error: return tr("Error");
    default: return QVariant();
    }
}

} // namespace route
