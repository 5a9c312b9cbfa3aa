#include "usagepage.h"

#include "engine/engine.h"
#include "pagehelpers.h"
#include "store/database.h"
#include "store/recordrepository.h"
#include "store/tokenrepository.h"
#include "usagechart.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace route {

using PageHelpers::readOnlyCell;

namespace {

constexpr int maxSeries = 7; // then "other"

QString dollars(double v)
{
    return QStringLiteral("$%1").arg(v, 0, 'f', v >= 10 ? 2 : 4);
}

} // namespace

UsagePage::UsagePage(Engine *engine, std::shared_ptr<DbConnection> db, QWidget *parent)
    : QWidget(parent)
    , m_db(std::move(db))
    , m_period(new QComboBox)
    , m_by(new QComboBox)
    , m_summary(new QLabel)
    , m_cost(new UsageChart)
    , m_tokens(new UsageChart)
    , m_table(new QTableWidget(0, 7))
{
    m_period->addItem(tr("Last 7 days"), 7);
    m_period->addItem(tr("Last 30 days"), 30);
    m_period->addItem(tr("Last 90 days"), 90);
    m_period->addItem(tr("Last 365 days"), 365);
    m_period->setCurrentIndex(1);
    m_by->addItem(tr("by app"), int(UsageBy::App));
    m_by->addItem(tr("by app token"), int(UsageBy::Token));
    m_by->addItem(tr("by upstream"), int(UsageBy::Upstream));
    m_by->addItem(tr("by model"), int(UsageBy::Model));
    auto *reload = new QPushButton(QIcon::fromTheme(QStringLiteral("view-refresh")), tr("&Refresh"));
    m_table->setHorizontalHeaderLabels({tr("Key"), tr("Requests"), tr("Errors"), tr("Input tokens"),
        tr("of them cached"), tr("Output tokens"), tr("Cost")});
    m_table->verticalHeader()->hide();
    m_table->setAlternatingRowColors(true);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(0, 200);
    m_summary->setTextFormat(Qt::PlainText);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_period);
    controls->addWidget(m_by);
    controls->addWidget(m_summary, 1);
    controls->addWidget(reload);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(new QLabel(tr("Cost per day (UTC)")));
    layout->addWidget(m_cost, 2);
    layout->addWidget(new QLabel(tr("Tokens per day (input and output)")));
    layout->addWidget(m_tokens, 2);
    layout->addWidget(m_table, 2);
    connect(m_period, &QComboBox::currentIndexChanged, this, &UsagePage::refresh);
    connect(m_by, &QComboBox::currentIndexChanged, this, &UsagePage::refresh);
    connect(reload, &QPushButton::clicked, this, &UsagePage::refresh);
    PageHelpers::followRecords(this, engine, [](QWidget *page) { static_cast<UsagePage *>(page)->refresh(); });
    refresh();
}

void UsagePage::refresh()
{
    const QDate to = QDateTime::currentDateTimeUtc().date();
    const QDate from = to.addDays(1 - m_period->currentData().toInt());
    const auto by = UsageBy(m_by->currentData().toInt());
    RecordRepository records(m_db->db());
    const QList<UsageRow> totals = records.usage(from, to, by).value_or(QList<UsageRow>());
    const QList<UsageRow> daily = records.usagePerDay(from, to, by).value_or(QList<UsageRow>());

    // Names people read: the app token's name, the upstream's ID.
    QHash<QString, QString> names;
    if (by == UsageBy::Token) {
        names.insert(QStringLiteral("0"), tr("seed token"));
        for (const AppToken &t : TokenRepository(m_db->db()).list().value_or(QList<AppToken>()))
            names.insert(QString::number(t.id), t.name);
    }
    const auto nameOf = [&](const QString &key) {
        if (key.isEmpty())
            return tr("(unknown)");
        if (by == UsageBy::Upstream)
            return key == QLatin1String("0") ? tr("none") : tr("upstream %1").arg(key);
        return names.value(key, key);
    };

    // The biggest spenders get a colour of their own; the rest are "other".
    QList<UsageRow> ranked = totals;
    std::sort(ranked.begin(), ranked.end(), [](const UsageRow &a, const UsageRow &b) {
        return a.costUsd != b.costUsd ? a.costUsd > b.costUsd
                                      : a.promptTokens + a.completionTokens > b.promptTokens + b.completionTokens;
    });
    QStringList series;
    QHash<QString, int> index;
    for (const UsageRow &r : std::as_const(ranked)) {
        if (series.size() == maxSeries) {
            series << tr("other");
            break;
        }
        index.insert(r.key, int(series.size()));
        series << nameOf(r.key);
    }
    QList<QDate> days;
    for (QDate d = from; d <= to; d = d.addDays(1))
        days << d;
    QList<QList<double>> cost(series.size(), QList<double>(days.size(), 0.0));
    QList<QList<double>> tokens = cost;
    for (const UsageRow &r : daily) {
        const int s = index.value(r.key, int(series.size()) - 1);
        const qsizetype d = from.daysTo(QDate::fromString(r.day, Qt::ISODate));
        if (s < 0 || d < 0 || d >= days.size())
            continue;
        cost[s][d] += r.costUsd;
        tokens[s][d] += double(r.promptTokens + r.completionTokens);
    }
    m_cost->setData(days, series, cost, [](double v) { return dollars(v); });
    m_tokens->setData(days, series, tokens, [](double v) {
        return v >= 1e6 ? QStringLiteral("%1M").arg(v / 1e6, 0, 'g', 3)
            : v >= 1e3  ? QStringLiteral("%1k").arg(v / 1e3, 0, 'g', 3)
                        : QString::number(v, 'g', 3);
    });

    m_table->setRowCount(0);
    double totalCost = 0;
    qint64 totalRequests = 0;
    for (const UsageRow &r : std::as_const(ranked)) {
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        m_table->setItem(row, 0, readOnlyCell(nameOf(r.key)));
        m_table->setItem(row, 1, readOnlyCell(QStringLiteral("%L1").arg(r.requests), true));
        m_table->setItem(row, 2, readOnlyCell(QStringLiteral("%L1").arg(r.errors), true));
        m_table->setItem(row, 3, readOnlyCell(QStringLiteral("%L1").arg(r.promptTokens), true));
        m_table->setItem(row, 4, readOnlyCell(QStringLiteral("%L1").arg(r.cachedTokens), true));
        m_table->setItem(row, 5, readOnlyCell(QStringLiteral("%L1").arg(r.completionTokens), true));
        m_table->setItem(row, 6, readOnlyCell(dollars(r.costUsd), true));
        totalCost += r.costUsd;
        totalRequests += r.requests;
    }
    m_summary->setText(tr("%L1 requests, %2 from %3 to %4")
                           .arg(totalRequests)
                           .arg(dollars(totalCost), from.toString(Qt::ISODate), to.toString(Qt::ISODate)));
}

void UsagePage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

} // namespace route
