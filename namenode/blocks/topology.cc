#include "namenode/blocks/topology.h"

#include <fstream>
#include <sstream>

namespace talus::blocks {

Result<Topology> Topology::Parse(std::string_view text) {
  Topology topology;
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string host, rack, extra;
    if (!(fields >> host)) continue;  // blank or comment-only line
    if (!(fields >> rack) || (fields >> extra)) {
      return Status::InvalidArgument("topology line " + std::to_string(line_no) +
                                     ": expected \"host /rack\"");
    }
    if (rack.front() != '/' || rack.size() < 2) {
      return Status::InvalidArgument("topology line " + std::to_string(line_no) + ": rack \"" +
                                     rack + "\" must start with '/' and name a rack");
    }
    topology.racks_[host] = rack;
  }
  return topology;
}

Result<Topology> Topology::LoadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Status::IoError("cannot read topology file " + path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  Result<Topology> topology = Parse(buffer.str());
  if (!topology.ok()) return topology.status().Prepend(path);
  return topology;
}

std::string Topology::RackOf(std::string_view host) const {
  auto it = racks_.find(std::string(host));
  return it == racks_.end() ? std::string(kDefaultRack) : it->second;
}

}  // namespace talus::blocks
