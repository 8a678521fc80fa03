#include "client/stream/proxy_data_namenode.h"

#include "client/file_info_convert.h"

namespace talus::client {

namespace {

rpc::ExtendedBlock ToWire(const std::optional<BlockRef>& block) {
  rpc::ExtendedBlock out;
  // The namenode reads block id 0 as "no block".
  out.block_id = block ? static_cast<int64_t>(block->block_id) : 0;
  out.generation_stamp = block ? static_cast<int64_t>(block->genstamp) : 0;
  out.num_bytes = block ? static_cast<int64_t>(block->num_bytes) : 0;
  return out;
}

rpc::DatanodeId ToWire(const DatanodeInfo& node) {
  rpc::DatanodeId out;
  out.storage_id = node.storage_id;
  out.host = node.host;
  out.data_port = node.data_port;
  out.rpc_port = node.rpc_port;
  if (!node.rack.empty()) out.__set_rack(node.rack);
  return out;
}

rpc::LocatedBlock ToWire(const LocatedBlock& lb) {
  rpc::LocatedBlock out;
  out.block = ToWire(std::optional<BlockRef>(lb.block));
  out.offset = lb.offset;
  for (const DatanodeInfo& node : lb.locations) out.locations.push_back(ToWire(node));
  if (lb.corrupt) out.__set_corrupt(true);
  return out;
}

// Everything below comes from the network: reject what the data path could not use.
Result<BlockRef> FromWire(const rpc::ExtendedBlock& b) {
  if (b.block_id < 0 || b.generation_stamp < 0 || b.num_bytes < 0) {
    return Status::Internal("namenode sent a block with a negative id, stamp or length");
  }
  return BlockRef{static_cast<uint64_t>(b.block_id), static_cast<uint64_t>(b.generation_stamp),
                  static_cast<uint64_t>(b.num_bytes)};
}

Result<LocatedBlock> FromWire(const rpc::LocatedBlock& lb) {
  LocatedBlock out;
  ASSIGN_OR_RETURN(out.block, FromWire(lb.block));
  if (lb.offset < 0) return Status::Internal("namenode sent a block at a negative offset");
  out.offset = lb.offset;
  for (const rpc::DatanodeId& id : lb.locations) {
    if (id.host.empty() || id.data_port <= 0 || id.data_port > 65535 || id.rpc_port < 0 ||
        id.rpc_port > 65535) {
      return Status::Internal("namenode sent datanode \"" + id.host + ":" +
                              std::to_string(id.data_port) + "\" with a bad address");
    }
    DatanodeInfo node;
    node.storage_id = id.storage_id;
    node.host = id.host;
    node.data_port = id.data_port;
    node.rpc_port = id.rpc_port;
    node.rack = id.__isset.rack ? id.rack : "";
    out.locations.push_back(std::move(node));
  }
  out.corrupt = lb.__isset.corrupt && lb.corrupt;
  return out;
}

OpenedFile FromWire(const rpc::FileStatus& st) {
  OpenedFile out;
  out.info = FileInfoFromWire(st, "");
  out.file_id = static_cast<uint64_t>(st.inode_id);
  out.length = st.length;
  out.block_size = st.block_size;
  out.replication = st.replication;
  return out;
}

}  // namespace

Result<OpenedFile> ProxyDataNamenode::Create(const std::string& path, uint32_t mode,
                                             const std::string& client_name, bool overwrite,
                                             bool create_parent, int16_t replication,
                                             int64_t block_size) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::FileStatus st;
  RETURN_NOT_OK(proxy_->Call("create", [&](rpc::ClientNamenodeClient& c) {
    c.create(st, h, path, static_cast<int32_t>(mode), client_name, overwrite, create_parent,
             replication, block_size);
  }));
  return FromWire(st);
}

Result<AppendedFile> ProxyDataNamenode::Append(const std::string& path,
                                               const std::string& client_name) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::AppendResponse r;
  RETURN_NOT_OK(proxy_->Call("append", [&](rpc::ClientNamenodeClient& c) {
    c.append(r, h, path, client_name);
  }));
  AppendedFile out;
  out.file = FromWire(r.status);
  if (r.__isset.last_block) {
    ASSIGN_OR_RETURN(LocatedBlock last, FromWire(r.last_block));
    if (!r.__isset.previous_generation_stamp || r.previous_generation_stamp < 0) {
      return Status::Internal("append of " + path +
                              ": namenode sent a last block without its previous stamp");
    }
    out.last_block = std::move(last);
    out.previous_genstamp = static_cast<uint64_t>(r.previous_generation_stamp);
  }
  return out;
}

Result<LocatedBlock> ProxyDataNamenode::AddBlock(const std::string& path,
                                                 const std::string& client_name,
                                                 const std::optional<BlockRef>& previous,
                                                 const std::vector<std::string>& excluded,
                                                 uint64_t file_id) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::LocatedBlock lb;
  RETURN_NOT_OK(proxy_->Call("addBlock", [&](rpc::ClientNamenodeClient& c) {
    c.addBlock(lb, h, path, client_name, ToWire(previous), excluded,
               static_cast<int64_t>(file_id));
  }));
  return FromWire(lb);
}

Status ProxyDataNamenode::AbandonBlock(const std::string& path, const std::string& client_name,
                                       const BlockRef& block, uint64_t file_id) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  return proxy_->Call("abandonBlock", [&](rpc::ClientNamenodeClient& c) {
    c.abandonBlock(h, ToWire(std::optional<BlockRef>(block)), path, client_name,
                   static_cast<int64_t>(file_id));
  });
}

Result<bool> ProxyDataNamenode::Complete(const std::string& path, const std::string& client_name,
                                         const std::optional<BlockRef>& last, uint64_t file_id) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  bool done = false;
  RETURN_NOT_OK(proxy_->Call("complete", [&](rpc::ClientNamenodeClient& c) {
    done = c.complete(h, path, client_name, ToWire(last), static_cast<int64_t>(file_id));
  }));
  return done;
}

Result<LocatedBlocks> ProxyDataNamenode::GetBlockLocations(const std::string& path,
                                                           int64_t offset, int64_t length) {
  rpc::LocatedBlocks lbs;
  RETURN_NOT_OK(proxy_->Call("getBlockLocations", [&](rpc::ClientNamenodeClient& c) {
    c.getBlockLocations(lbs, proxy_->NewHeader(false), path, offset, length);
  }));
  LocatedBlocks out;
  if (lbs.file_length < 0) return Status::Internal("namenode sent a negative file length");
  out.file_length = lbs.file_length;
  for (const rpc::LocatedBlock& lb : lbs.blocks) {
    ASSIGN_OR_RETURN(LocatedBlock block, FromWire(lb));
    out.blocks.push_back(std::move(block));
  }
  out.under_construction = lbs.under_construction;
  if (lbs.__isset.last_block) {
    ASSIGN_OR_RETURN(LocatedBlock last, FromWire(lbs.last_block));
    out.last_block = std::move(last);
  }
  out.last_block_complete = lbs.last_block_complete;
  return out;
}

Status ProxyDataNamenode::RenewLease(const std::string& client_name) {
  return proxy_->Call("renewLease", [&](rpc::ClientNamenodeClient& c) {
    c.renewLease(proxy_->NewHeader(false), client_name);
  });
}

Status ProxyDataNamenode::ReportBadBlocks(const std::vector<LocatedBlock>& blocks) {
  std::vector<rpc::LocatedBlock> wire;
  for (const LocatedBlock& lb : blocks) wire.push_back(ToWire(lb));
  rpc::RequestHeader h = proxy_->NewHeader(true);
  return proxy_->Call("reportBadBlocks", [&](rpc::ClientNamenodeClient& c) {
    c.reportBadBlocks(h, wire);
  });
}

Result<OpenedFile> ProxyDataNamenode::OpenForOverwrite(const std::string& path,
                                                       const std::string& client_name) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::FileStatus st;
  RETURN_NOT_OK(proxy_->Call("openForOverwrite", [&](rpc::ClientNamenodeClient& c) {
    c.openForOverwrite(st, h, path, client_name);
  }));
  return FromWire(st);
}

Result<LocatedBlock> ProxyDataNamenode::AllocateBlock(const std::string& path, uint64_t file_id,
                                                      const std::string& client_name,
                                                      const std::vector<std::string>& excluded) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::LocatedBlock lb;
  RETURN_NOT_OK(proxy_->Call("allocateBlock", [&](rpc::ClientNamenodeClient& c) {
    c.allocateBlock(lb, h, path, static_cast<int64_t>(file_id), client_name, excluded);
  }));
  ASSIGN_OR_RETURN(LocatedBlock block, FromWire(lb));
  if (block.locations.empty()) {
    return Status::Internal("allocateBlock for " + path + ": namenode sent no pipeline");
  }
  return block;
}

Result<OpenedFile> ProxyDataNamenode::CommitBlocks(
    const std::string& path, uint64_t file_id, const std::string& client_name,
    const std::vector<BlockReplacement>& replacements, int64_t new_length, bool release) {
  std::vector<rpc::BlockReplacement> wire;
  wire.reserve(replacements.size());
  for (const BlockReplacement& r : replacements) {
    rpc::BlockReplacement w;
    w.index = r.index;
    w.old_block_id = static_cast<int64_t>(r.old_block_id);
    w.new_block = ToWire(std::optional<BlockRef>(r.new_block));
    wire.push_back(std::move(w));
  }
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::FileStatus st;
  RETURN_NOT_OK(proxy_->Call("commitBlocks", [&](rpc::ClientNamenodeClient& c) {
    c.commitBlocks(st, h, path, static_cast<int64_t>(file_id), client_name, wire, new_length,
                   release);
  }));
  return FromWire(st);
}

Result<uint64_t> ProxyDataNamenode::UpdateBlockForPipeline(const BlockRef& block,
                                                          const std::string& client_name) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  rpc::LocatedBlock lb;
  RETURN_NOT_OK(proxy_->Call("updateBlockForPipeline", [&](rpc::ClientNamenodeClient& c) {
    c.updateBlockForPipeline(lb, h, ToWire(std::optional<BlockRef>(block)), client_name);
  }));
  ASSIGN_OR_RETURN(BlockRef stamped, FromWire(lb.block));
  if (stamped.block_id != block.block_id || stamped.genstamp <= block.genstamp) {
    return Status::Internal("updateBlockForPipeline of " + block.Name() + ": namenode answered " +
                            stamped.Name());
  }
  return stamped.genstamp;
}

Status ProxyDataNamenode::UpdatePipeline(const std::string& client_name,
                                         const BlockRef& old_block, const BlockRef& new_block,
                                         const std::vector<DatanodeInfo>& nodes) {
  rpc::RequestHeader h = proxy_->NewHeader(true);
  std::vector<rpc::DatanodeId> ids;
  for (const DatanodeInfo& node : nodes) ids.push_back(ToWire(node));
  return proxy_->Call("updatePipeline", [&](rpc::ClientNamenodeClient& c) {
    c.updatePipeline(h, client_name, ToWire(std::optional<BlockRef>(old_block)),
                     ToWire(std::optional<BlockRef>(new_block)), ids);
  });
}

Result<std::vector<DatanodeInfo>> ProxyDataNamenode::GetAdditionalDatanodes(
    const std::string& path, uint64_t file_id, const BlockRef& block,
    const std::vector<DatanodeInfo>& existing, const std::vector<std::string>& excluded,
    int count, const std::string& client_name) {
  rpc::RequestHeader h = proxy_->NewHeader(false);
  std::vector<rpc::DatanodeId> ids;
  for (const DatanodeInfo& node : existing) ids.push_back(ToWire(node));
  rpc::LocatedBlock lb;
  RETURN_NOT_OK(proxy_->Call("getAdditionalDatanode", [&](rpc::ClientNamenodeClient& c) {
    c.getAdditionalDatanode(lb, h, path, static_cast<int64_t>(file_id),
                            ToWire(std::optional<BlockRef>(block)), ids, excluded, count,
                            client_name);
  }));
  ASSIGN_OR_RETURN(LocatedBlock located, FromWire(lb));
  return std::move(located.locations);
}

}  // namespace talus::client
