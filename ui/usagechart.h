#pragma once

#include <QDate>
#include <QList>
#include <QStringList>
#include <QWidget>

namespace route {

// Stacked bars, one per day, one colour per series (an app, a token, an
// upstream or a model), with a legend: painted here, since a bar chart
// needs nothing of Qt Charts.
class UsageChart final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UsageChart)
public:
    explicit UsageChart(QWidget *parent = nullptr);

    // VALUES[s][d]: series S on day DAYS[d]. UNIT formats an axis value.
    void setData(const QList<QDate> &days, const QStringList &series, const QList<QList<double>> &values,
        std::function<QString(double)> unit);
    double total() const;
    QSize sizeHint() const override { return {600, 240}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QList<QDate> m_days;
    QStringList m_series;
    QList<QList<double>> m_values;
    std::function<QString(double)> m_unit;
};

} // namespace route
