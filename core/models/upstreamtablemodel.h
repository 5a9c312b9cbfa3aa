#pragma once

#include "balancer/health.h"
#include "domain/upstream.h"

#include <QSqlTableModel>

#include <functional>
#include <optional>

namespace route {

class ConfigService;

// `openai_upstreams` for a table view: a QSqlTableModel with the table's own
// columns plus one at the end with the live health. Keys show masked unless
// revealed, `enabled` is a check box. Reads go to the table; an edit goes
// through the ConfigService (validated, written, used by the proxy at once).
// No widgets here: the view lives in ui/.
class UpstreamTableModel final : public QSqlTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpstreamTableModel)
public:
    UpstreamTableModel(QObject *parent, const QSqlDatabase &db, ConfigService *service);

    void setHealthSource(std::function<UpstreamHealth(qint64)> source) { m_health = std::move(source); }
    void setRevealKeys(bool reveal);
    bool revealKeys() const { return m_reveal; }
    qint64 idAt(int row) const;
    // The row's last fetched model list.
    QStringList modelsAt(int row) const;
    int rowOf(qint64 id) const;

    int healthColumn() const { return m_base; }
    int column(const char *field) const { return fieldIndex(QLatin1String(field)); }
    // The columns worth showing, in the order to show them.
    QList<int> visibleColumns() const;

    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    // Repaints the health column only.
    void healthChanged();

Q_SIGNALS:
    void validationFailed(const QString &message);
    void edited();

private:
    QVariant catalogData(int row, int role) const;
    // The change an edit of one cell asks for; none for a cell that is not edited so.
    std::optional<UpstreamPatch> patchFor(int column, const QVariant &value, int role) const;

    std::function<UpstreamHealth(qint64)> m_health;
    bool m_reveal = false;
    ConfigService *m_service;
    int m_base = 0;
};

} // namespace route
