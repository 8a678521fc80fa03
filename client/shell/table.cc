#include "client/shell/table.h"

#include <algorithm>

namespace talus::shell {

Table::Table(size_t columns) : widths_(columns, 0), right_align_(columns, false) {}

Table::Table(std::vector<std::string> header) : Table(header.size()) {
  AddRow(std::move(header));
  has_header_ = true;
}

void Table::SetRightAlign(size_t column) { right_align_.at(column) = true; }

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(widths_.size());
  for (size_t i = 0; i < cells.size(); ++i) widths_[i] = std::max(widths_[i], cells[i].size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  if (empty()) return "";
  std::string out;
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += "  ";
      size_t pad = widths_[i] - row[i].size();
      if (right_align_[i]) {
        out.append(pad, ' ');
        out += row[i];
      } else {
        out += row[i];
        if (i + 1 < row.size()) out.append(pad, ' ');
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace talus::shell
