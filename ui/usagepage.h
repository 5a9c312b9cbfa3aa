#pragma once

#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QTableWidget;

namespace route {

class DbConnection;
class Engine;
class UsageChart;

// Who spent what (SPEC §14): tokens and cost per day as stacked bars, by
// app, app token, upstream or model, over a chosen period, with the table
// of figures behind them. Reads GET /admin/usage's query directly.
class UsagePage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UsagePage)
public:
    UsagePage(Engine *engine, std::shared_ptr<DbConnection> db, QWidget *parent = nullptr);

    QComboBox *period() const { return m_period; }
    QComboBox *breakdown() const { return m_by; }
    QTableWidget *table() const { return m_table; }
    UsageChart *costChart() const { return m_cost; }
    UsageChart *tokenChart() const { return m_tokens; }
    void refresh();

protected:
    // Hidden pages do not follow the records; shown, they catch up.
    void showEvent(QShowEvent *event) override;

private:
    std::shared_ptr<DbConnection> m_db;
    QComboBox *m_period;
    QComboBox *m_by;
    QLabel *m_summary;
    UsageChart *m_cost;
    UsageChart *m_tokens;
    QTableWidget *m_table;
};

} // namespace route
