#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace talus::blocks {

// Maps datanode hosts to racks ("/rack1"). Parsed from a topology file: one "host rack" pair per
// line, '#' starts a comment, blank lines ignored. A host not listed is on kDefaultRack.
class Topology {
 public:
  static constexpr std::string_view kDefaultRack = "/default-rack";

  static Result<Topology> Parse(std::string_view text);
  static Result<Topology> LoadFile(const std::string& path);

  void SetRack(std::string host, std::string rack) { racks_[std::move(host)] = std::move(rack); }
  // The rack of `host`, or kDefaultRack.
  std::string RackOf(std::string_view host) const;
  bool empty() const { return racks_.empty(); }

 private:
  std::unordered_map<std::string, std::string> racks_;
};

}  // namespace talus::blocks
