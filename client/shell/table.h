#pragma once

#include <string>
#include <vector>

namespace talus::shell {

// Columns padded to their widest cell and separated by two spaces, as -du and -df print them.
// Left-aligned unless told otherwise; the last left-aligned column gets no trailing padding.
class Table {
 public:
  explicit Table(size_t columns);
  // A table whose first row is a header (not counted by empty()).
  explicit Table(std::vector<std::string> header);

  void SetRightAlign(size_t column);
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.size() == (has_header_ ? 1u : 0u); }
  // Every row, each ending in a newline; "" when there are no rows besides the header.
  std::string Render() const;

 private:
  bool has_header_ = false;
  std::vector<size_t> widths_;
  std::vector<bool> right_align_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace talus::shell
