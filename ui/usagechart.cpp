#include "usagechart.h"

#include <QPainter>
#include <QPainterPath>

#include <cmath>

namespace route {

namespace {

QColor colourOf(int series)
{
    static const QList<QColor> colours{QColor(0x1f77b4), QColor(0xff7f0e), QColor(0x2ca02c), QColor(0xd62728),
        QColor(0x9467bd), QColor(0x8c564b), QColor(0xe377c2), QColor(0x7f7f7f)};
    return colours.at(series % colours.size());
}

// 1, 2 or 5 times a power of ten, at least V: a readable top of the axis.
double niceCeiling(double v)
{
    if (v <= 0)
        return 1;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= v)
            return m * p;
    return 10 * p;
}

} // namespace

UsageChart::UsageChart(QWidget *parent) : QWidget(parent)
{
    setMinimumHeight(180);
}

void UsageChart::setData(const QList<QDate> &days, const QStringList &series, const QList<QList<double>> &values,
    std::function<QString(double)> unit)
{
    m_days = days;
    m_series = series;
    m_values = values;
    m_unit = std::move(unit);
    update();
}

double UsageChart::total() const
{
    double sum = 0;
    for (const auto &s : m_values)
        for (double v : s)
            sum += v;
    return sum;
}

void UsageChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    p.fillRect(rect(), pal.base());
    const QFontMetrics fm(font());
    const int legendHeight = fm.height() + 8;
    const QRect plot = rect().adjusted(
        fm.horizontalAdvance(QStringLiteral("$0000.00")) + 8, 8, -8, -(fm.height() + 8 + legendHeight));
    if (m_days.isEmpty() || plot.width() < 20 || plot.height() < 20) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(rect(), Qt::AlignCenter, tr("No requests in this period"));
        return;
    }
    QList<double> perDay(m_days.size(), 0.0);
    for (const auto &s : m_values)
        for (qsizetype d = 0; d < s.size() && d < perDay.size(); ++d)
            perDay[d] += s[d];
    const double top = niceCeiling(*std::max_element(perDay.cbegin(), perDay.cend()));

    // The axis: four lines with their values.
    p.setPen(pal.color(QPalette::Mid));
    for (int i = 0; i <= 4; ++i) {
        const int y = plot.bottom() - plot.height() * i / 4;
        p.drawLine(plot.left(), y, plot.right(), y);
        const QString label = m_unit ? m_unit(top * i / 4) : QString::number(top * i / 4);
        p.drawText(
            QRect(0, y - fm.height() / 2, plot.left() - 4, fm.height()), Qt::AlignRight | Qt::AlignVCenter, label);
    }
    // The bars, stacked by series.
    const double slot = double(plot.width()) / m_days.size();
    const double barWidth = qMax(1.0, slot * 0.7);
    for (qsizetype d = 0; d < m_days.size(); ++d) {
        double base = 0;
        const double x = plot.left() + slot * d + (slot - barWidth) / 2;
        for (qsizetype s = 0; s < m_values.size(); ++s) {
            const double v = d < m_values[s].size() ? m_values[s][d] : 0;
            if (v <= 0)
                continue;
            const double y0 = plot.bottom() - plot.height() * base / top;
            const double y1 = plot.bottom() - plot.height() * (base + v) / top;
            p.fillRect(QRectF(x, y1, barWidth, y0 - y1), colourOf(int(s)));
            base += v;
        }
    }
    // Day labels, as many as fit.
    p.setPen(pal.color(QPalette::Text));
    const int labelWidth = fm.horizontalAdvance(QStringLiteral("00-00")) + 6;
    const int every = qMax(1, int(std::ceil(labelWidth / slot)));
    for (qsizetype d = 0; d < m_days.size(); d += every)
        p.drawText(
            QRectF(plot.left() + slot * d - labelWidth / 2.0 + slot / 2, plot.bottom() + 2, labelWidth, fm.height()),
            Qt::AlignCenter, m_days[d].toString(QStringLiteral("MM-dd")));
    // The legend.
    int x = plot.left();
    const int y = rect().bottom() - legendHeight + 4;
    for (qsizetype s = 0; s < m_series.size(); ++s) {
        p.fillRect(QRect(x, y + 2, 10, fm.height() - 4), colourOf(int(s)));
        x += 14;
        const QString name = fm.elidedText(m_series[s], Qt::ElideMiddle, 160);
        p.drawText(QPoint(x, y + fm.ascent()), name);
        x += fm.horizontalAdvance(name) + 14;
        if (x > width() - 40)
            break;
    }
}

} // namespace route
