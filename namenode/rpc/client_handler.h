#pragma once

#include <memory>
#include <string>

#include "namenode/namesystem.h"
#include "namenode/security/user_groups.h"
#include "talus_rpc/ClientNamenode.h"

namespace talus {

// The ClientNamenode Thrift service: validates what arrives, resolves the caller, delegates to
// the Namesystem and converts the answer. No namespace logic lives here.
class ClientHandler : public rpc::ClientNamenodeIf {
 public:
  ClientHandler(Namesystem* namesystem, UserGroups* user_groups)
      : namesystem_(namesystem), user_groups_(user_groups) {}

  void ping(rpc::Timespec& _return, const rpc::RequestHeader& h) override;
  void getFileInfo(rpc::FileStatus& _return, const rpc::RequestHeader& h,
                   const std::string& path) override;
  void getListing(rpc::DirectoryListing& _return, const rpc::RequestHeader& h,
                  const std::string& path, const std::string& start_after,
                  int32_t limit) override;
  void getContentSummary(rpc::ContentSummary& _return, const rpc::RequestHeader& h,
                         const std::string& path) override;
  void getStats(rpc::FsStats& _return, const rpc::RequestHeader& h) override;
  bool mkdirs(const rpc::RequestHeader& h, const std::string& path, int32_t mode,
              bool create_parent) override;
  void create(rpc::FileStatus& _return, const rpc::RequestHeader& h, const std::string& path,
              int32_t mode, const std::string& client_name, bool overwrite, bool create_parent,
              int16_t replication, int64_t block_size) override;
  bool deletePath(const rpc::RequestHeader& h, const std::string& path, bool recursive) override;
  void rename(const rpc::RequestHeader& h, const std::string& src, const std::string& dst,
              const rpc::RenameOptions& options) override;
  void setPermission(const rpc::RequestHeader& h, const std::string& path, int32_t mode) override;
  void setOwner(const rpc::RequestHeader& h, const std::string& path, const std::string& owner,
                const std::string& group) override;
  void setTimes(const rpc::RequestHeader& h, const std::string& path, const rpc::Timespec& mtime,
                const rpc::Timespec& atime) override;
  bool setReplication(const rpc::RequestHeader& h, const std::string& path,
                      int16_t replication) override;
  void addBlock(rpc::LocatedBlock& _return, const rpc::RequestHeader& h, const std::string& path,
                const std::string& client_name, const rpc::ExtendedBlock& previous,
                const std::vector<std::string>& excluded_nodes, int64_t file_id) override;
  void abandonBlock(const rpc::RequestHeader& h, const rpc::ExtendedBlock& block,
                    const std::string& path, const std::string& client_name,
                    int64_t file_id) override;
  bool complete(const rpc::RequestHeader& h, const std::string& path,
                const std::string& client_name, const rpc::ExtendedBlock& last,
                int64_t file_id) override;
  void getBlockLocations(rpc::LocatedBlocks& _return, const rpc::RequestHeader& h,
                         const std::string& path, int64_t offset, int64_t length) override;
  void renewLease(const rpc::RequestHeader& h, const std::string& client_name) override;
  void updateBlockForPipeline(rpc::LocatedBlock& _return, const rpc::RequestHeader& h,
                              const rpc::ExtendedBlock& block,
                              const std::string& client_name) override;
  void updatePipeline(const rpc::RequestHeader& h, const std::string& client_name,
                      const rpc::ExtendedBlock& old_block, const rpc::ExtendedBlock& new_block,
                      const std::vector<rpc::DatanodeId>& new_nodes) override;
  void reportBadBlocks(const rpc::RequestHeader& h,
                       const std::vector<rpc::LocatedBlock>& blocks) override;

 private:
  // Checks the header and resolves the caller; throws TalusError on a bad header.
  Caller CallerOf(const rpc::RequestHeader& h);
  // Builds the Edit for a mutation from the header.
  Edit EditOf(const rpc::RequestHeader& h, EditOp op);
  int64_t Mutate(const rpc::RequestHeader& h, EditOp op);

  Namesystem* const namesystem_;
  UserGroups* const user_groups_;
};

}  // namespace talus
