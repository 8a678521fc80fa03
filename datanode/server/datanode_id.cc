#include "datanode/server/datanode_id.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <glog/logging.h>

#include "datanode/storage/volume.h"

namespace talus::datanode {
namespace {

constexpr char kIdFile[] = "/datanode_id";
constexpr size_t kMaxIdBytes = 128;

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// NotFound when the volume has no id yet.
Result<std::string> ReadId(const std::string& root) {
  const std::string path = root + kIdFile;
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return Status::NotFound(path);
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (!ValidId(line)) {
    return Status::Corruption(path + " does not hold a datanode id (letters, digits, '-', '_', "
                              "'.', at most 128)");
  }
  return line;
}

Status WriteId(const std::string& root, const std::string& id) {
  const std::string path = root + kIdFile;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno(errno, "rename " + tmp);
  }
  return Status::OK();
}

}  // namespace

Result<std::string> LoadOrCreateDatanodeId(const std::vector<std::string>& volume_roots) {
  if (volume_roots.empty()) return Status::InvalidArgument("no volume to keep the datanode id");
  std::set<std::string> found;
  std::vector<std::string> missing;
  for (const std::string& root : volume_roots) {
    Result<std::string> id = ReadId(root);
    if (id.ok()) {
      found.insert(*id);
    } else if (id.status().IsNotFound()) {
      missing.push_back(root);
    } else {
      return id.status();
    }
  }
  if (found.size() > 1) {
    std::string ids;
    for (const std::string& id : found) ids += (ids.empty() ? "" : ", ") + id;
    return Status::Corruption("the data directories belong to different datanodes (ids " + ids +
                              "); give each datanode only its own directories");
  }
  // "DN-" and a random UUID: apart from the volumes' own "DS-" storage ids.
  std::string id = found.empty() ? "DN-" + NewStorageId().substr(3) : *found.begin();
  if (found.empty()) LOG(INFO) << "New datanode id " << id;
  for (const std::string& root : missing) RETURN_NOT_OK(WriteId(root, id));
  return id;
}

}  // namespace talus::datanode
