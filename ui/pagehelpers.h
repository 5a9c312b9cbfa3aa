#pragma once

#include <QString>

class QTableWidgetItem;
class QWidget;

namespace route {

class Engine;

// What the table pages share.
namespace PageHelpers {

// A cell to read, not to edit; numbers right-aligned.
QTableWidgetItem *readOnlyCell(const QString &text, bool number = false);

// Calls PAGE's REFRESH as new records arrive while the page is visible, at
// most every 3 s: records come in batches every quarter second under load,
// and a year of them takes ~0.1 s to sum.
void followRecords(QWidget *page, Engine *engine, void (*refresh)(QWidget *));

} // namespace PageHelpers

} // namespace route
