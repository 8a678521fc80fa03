#include "cluster/cluster_state.h"

#include <charconv>
#include <sstream>

#include "cluster/files.h"

namespace talus::cluster {

namespace {

constexpr std::string_view kMagic = "talus-cluster-state 1";

template <typename T>
bool ParseNumber(std::string_view text, T* value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool ParsePorts(std::string_view text, std::map<std::string, int>* ports) {
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    size_t colon = item.find(':');
    int port = 0;
    if (colon == std::string_view::npos || colon == 0 ||
        !ParseNumber(item.substr(colon + 1), &port) || port < 0 || port > 65535) {
      return false;
    }
    (*ports)[std::string(item.substr(0, colon))] = port;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return true;
}

Status ParseDaemonLine(std::string_view line, DaemonRecord* record) {
  // Everything up to " dir=" is space-separated key=value; the directory is the rest.
  size_t dir_at = line.find(" dir=");
  if (dir_at == std::string_view::npos) return Status::Corruption("daemon line without dir=");
  record->data_dir = std::string(line.substr(dir_at + 5));
  std::istringstream fields{std::string(line.substr(0, dir_at))};
  std::string field;
  fields >> field;  // "daemon"
  bool has_role = false, has_index = false;
  while (fields >> field) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) return Status::Corruption("bad field '" + field + "'");
    std::string_view key(field.data(), eq);
    std::string_view value(field.data() + eq + 1, field.size() - eq - 1);
    bool ok = true;
    if (key == "role") {
      record->role = std::string(value);
      ok = !value.empty();
      has_role = true;
    } else if (key == "index") {
      ok = ParseNumber(value, &record->index) && record->index >= 0;
      has_index = true;
    } else if (key == "pid") {
      ok = ParseNumber(value, &record->pid) && record->pid >= 0;
    } else if (key == "start_time") {
      ok = ParseNumber(value, &record->start_time);
    } else if (key == "ports") {
      ok = ParsePorts(value, &record->ports);
    }  // Unknown keys are skipped: a newer talus may add some.
    if (!ok) return Status::Corruption("bad field '" + field + "'");
  }
  if (!has_role || !has_index || record->data_dir.empty()) {
    return Status::Corruption("daemon line lacks role, index or dir");
  }
  return Status::OK();
}

}  // namespace

int ClusterState::CountRole(std::string_view role) const {
  int count = 0;
  for (const auto& d : daemons) count += d.role == role ? 1 : 0;
  return count;
}

std::string FormatClusterState(const ClusterState& state) {
  std::ostringstream out;
  out << kMagic << "\n"
      << "# Written by `talus cluster`; records the processes it started. Do not edit while\n"
      << "# the cluster runs.\n"
      << "cluster_id " << state.cluster_id << "\n";
  for (const auto& d : state.daemons) {
    out << "daemon role=" << d.role << " index=" << d.index << " pid=" << d.pid
        << " start_time=" << d.start_time << " ports=";
    bool first = true;
    for (const auto& [name, port] : d.ports) {
      out << (first ? "" : ",") << name << ":" << port;
      first = false;
    }
    out << " dir=" << d.data_dir << "\n";
  }
  return out.str();
}

Result<ClusterState> ParseClusterState(std::string_view text) {
  ClusterState state;
  bool saw_magic = false;
  int line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    auto where = [&] { return "line " + std::to_string(line_number) + ": "; };
    if (line.empty() || line[0] == '#') continue;
    if (!saw_magic) {
      if (line != kMagic) {
        return Status::Corruption(where() + "not a talus cluster state file (expected '" +
                                  std::string(kMagic) + "')");
      }
      saw_magic = true;
    } else if (line.rfind("cluster_id ", 0) == 0) {
      state.cluster_id = std::string(line.substr(11));
    } else if (line.rfind("daemon ", 0) == 0) {
      DaemonRecord record;
      Status s = ParseDaemonLine(line, &record);
      if (!s.ok()) return s.Prepend(where());
      state.daemons.push_back(std::move(record));
    } else {
      return Status::Corruption(where() + "unexpected '" + std::string(line) + "'");
    }
  }
  if (!saw_magic) return Status::Corruption("empty cluster state file");
  return state;
}

Result<ClusterState> LoadClusterState(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  Result<ClusterState> state = ParseClusterState(text);
  if (!state.ok()) return state.status().Prepend(path);
  return state;
}

Status SaveClusterState(const std::string& path, const ClusterState& state) {
  return WriteFileAtomically(path, FormatClusterState(state));
}

}  // namespace talus::cluster
