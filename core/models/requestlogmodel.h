#pragma once

#include "records/requestrecord.h"

#include <QAbstractTableModel>
#include <QList>

namespace route {

// The most recent requests, newest first, for a live log view. Fed by the
// engine's recordsWritten signal; keeps at most `capacity` rows.
class RequestLogModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestLogModel)
public:
    enum Column {
        Time,
        Client,
        Method,
        Path,
        Model,
        Upstream,
        Status,
        Ttfb,
        Duration,
        Tokens,
        Outcome,
        Error,
        ColumnCount
    };

    explicit RequestLogModel(int capacity = 2000, QObject *parent = nullptr);

    void append(const QList<RequestRecord> &records);
    void clear();
    const RequestRecord &recordAt(int row) const { return m_rows.at(row); }
    // Requests finished in the last minute (for the tray tooltip).
    int requestsLastMinute() const;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    int m_capacity;
    QList<RequestRecord> m_rows; // newest first
};

} // namespace route
