#include "raft/transport/wire.h"

#include <limits>

namespace talus::raft {

namespace {

bool FitsIndex(int64_t v) { return v >= 0; }

Result<MessageType> TypeFromWire(rpc::RaftMessageType::type type) {
  switch (type) {
    case rpc::RaftMessageType::REQUEST_VOTE: return MessageType::kRequestVote;
    case rpc::RaftMessageType::REQUEST_VOTE_REPLY: return MessageType::kRequestVoteReply;
    case rpc::RaftMessageType::APPEND_ENTRIES: return MessageType::kAppendEntries;
    case rpc::RaftMessageType::APPEND_ENTRIES_REPLY: return MessageType::kAppendEntriesReply;
    case rpc::RaftMessageType::INSTALL_SNAPSHOT: break;  // only as a snapshot stream
  }
  return Status::InvalidArgument("raft transport: unknown or misplaced message type " +
                                 std::to_string(static_cast<int>(type)));
}

rpc::RaftMessageType::type TypeToWire(MessageType type) {
  switch (type) {
    case MessageType::kRequestVote: return rpc::RaftMessageType::REQUEST_VOTE;
    case MessageType::kRequestVoteReply: return rpc::RaftMessageType::REQUEST_VOTE_REPLY;
    case MessageType::kAppendEntries: return rpc::RaftMessageType::APPEND_ENTRIES;
    case MessageType::kAppendEntriesReply: return rpc::RaftMessageType::APPEND_ENTRIES_REPLY;
    case MessageType::kInstallSnapshot: return rpc::RaftMessageType::INSTALL_SNAPSHOT;
  }
  return rpc::RaftMessageType::INSTALL_SNAPSHOT;
}

}  // namespace

rpc::RaftMessage ToWire(const Message& msg) {
  rpc::RaftMessage w;
  w.type = TypeToWire(msg.type);
  w.to = static_cast<int64_t>(msg.to);
  w.term = static_cast<int64_t>(msg.term);
  switch (msg.type) {
    case MessageType::kRequestVote:
      w.__set_pre_vote(msg.pre_vote);
      w.__set_last_log_index(static_cast<int64_t>(msg.last_log_index));
      w.__set_last_log_term(static_cast<int64_t>(msg.last_log_term));
      break;
    case MessageType::kRequestVoteReply:
      w.__set_pre_vote(msg.pre_vote);
      w.__set_granted(msg.granted);
      break;
    case MessageType::kAppendEntries: {
      w.__set_prev_log_index(static_cast<int64_t>(msg.prev_log_index));
      w.__set_prev_log_term(static_cast<int64_t>(msg.prev_log_term));
      w.__set_commit(static_cast<int64_t>(msg.commit));
      w.__set_context(static_cast<int64_t>(msg.context));
      std::vector<rpc::RaftEntry> entries;
      entries.reserve(msg.entries.size());
      for (const Entry& e : msg.entries) {
        rpc::RaftEntry we;
        we.term = static_cast<int64_t>(e.term);
        we.index = static_cast<int64_t>(e.index);
        we.data = e.data;
        entries.push_back(std::move(we));
      }
      w.__set_entries(std::move(entries));
      break;
    }
    case MessageType::kAppendEntriesReply:
      w.__set_reject(msg.reject);
      w.__set_match_index(static_cast<int64_t>(msg.match_index));
      w.__set_rejected_index(static_cast<int64_t>(msg.rejected_index));
      w.__set_hint_index(static_cast<int64_t>(msg.hint_index));
      w.__set_context(static_cast<int64_t>(msg.context));
      break;
    case MessageType::kInstallSnapshot:
      break;
  }
  return w;
}

Result<Message> FromWire(const rpc::RaftMessage& w, NodeId from) {
  ASSIGN_OR_RETURN(MessageType type, TypeFromWire(w.type));
  for (int64_t v : {w.to, w.term, w.last_log_index, w.last_log_term, w.prev_log_index,
                    w.prev_log_term, w.commit, w.match_index, w.rejected_index, w.hint_index}) {
    if (!FitsIndex(v)) return Status::InvalidArgument("raft transport: negative id, term or index");
  }
  if (w.to <= 0) return Status::InvalidArgument("raft transport: message without a receiver");
  Message m;
  m.type = type;
  m.from = from;
  m.to = static_cast<NodeId>(w.to);
  m.term = static_cast<Term>(w.term);
  m.pre_vote = w.pre_vote;
  m.last_log_index = static_cast<Index>(w.last_log_index);
  m.last_log_term = static_cast<Term>(w.last_log_term);
  m.granted = w.granted;
  m.prev_log_index = static_cast<Index>(w.prev_log_index);
  m.prev_log_term = static_cast<Term>(w.prev_log_term);
  m.commit = static_cast<Index>(w.commit);
  m.reject = w.reject;
  m.match_index = static_cast<Index>(w.match_index);
  m.rejected_index = static_cast<Index>(w.rejected_index);
  m.hint_index = static_cast<Index>(w.hint_index);
  m.context = static_cast<uint64_t>(w.context);
  if (!w.entries.empty()) {
    if (type != MessageType::kAppendEntries) {
      return Status::InvalidArgument("raft transport: entries in a message that carries none");
    }
    Index expect = m.prev_log_index;
    m.entries.reserve(w.entries.size());
    for (const rpc::RaftEntry& we : w.entries) {
      if (we.index < 0 || we.term <= 0 || static_cast<Index>(we.index) != expect + 1 ||
          static_cast<Term>(we.term) > m.term) {
        return Status::InvalidArgument("raft transport: AppendEntries with misnumbered entries");
      }
      expect = static_cast<Index>(we.index);
      m.entries.push_back(Entry{static_cast<Term>(we.term), expect, we.data});
    }
  }
  return m;
}

size_t ApproximateBytes(const Message& msg) {
  size_t n = 96;
  for (const Entry& e : msg.entries) n += 24 + e.data.size();
  return n;
}

}  // namespace talus::raft
