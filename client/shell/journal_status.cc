#include "client/shell/journal_status.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <thread>

#include "client/namenode_proxy.h"
#include "client/shell/table.h"

namespace talus::shell {

namespace {

std::string OsUserName() {
  const char* env = std::getenv("TALUS_USER_NAME");
  if (env != nullptr && *env != '\0') return env;
  struct passwd pw;
  struct passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(::geteuid(), &pw, buffer, sizeof(buffer), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return "talus";
}

JournalView FromThrift(const rpc::JournalStatus& s) {
  JournalView v;
  v.kind = s.kind;
  v.id = s.id;
  v.role = s.role;
  v.term = s.term;
  v.leader_id = s.leader_id;
  v.leader_address = s.leader_address;
  v.commit_index = s.commit_index;
  v.applied_index = s.applied_index;
  v.last_index = s.last_index;
  v.first_index = s.first_index;
  v.snapshot_index = s.snapshot_index;
  for (const rpc::JournalPeer& p : s.peers) {
    JournalPeerView peer;
    peer.id = p.id;
    peer.raft_address = p.raft_address;
    peer.client_address = p.client_address;
    peer.match_index = p.match_index;
    peer.next_index = p.next_index;
    peer.state = p.state;
    peer.last_contact_ms = p.last_contact_ms;
    v.peers.push_back(std::move(peer));
  }
  std::sort(v.peers.begin(), v.peers.end(),
            [](const JournalPeerView& a, const JournalPeerView& b) { return a.id < b.id; });
  return v;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string LastContact(int64_t ms) {
  if (ms < 0) return "never";
  return std::to_string(ms) + " ms ago";
}

std::string LeaderLine(const JournalView& v) {
  if (v.leader_id == 0) return "unknown";
  std::string line = std::to_string(v.leader_id);
  if (!v.leader_address.empty()) line += " (" + v.leader_address + ")";
  return line;
}

std::string FormatOne(const NamenodeJournal& answer) {
  std::string out = "Namenode " + answer.address + "\n";
  if (!answer.status.ok()) {
    std::string why = answer.status.message().empty() ? answer.status.ToString()
                                                      : answer.status.message();
    return out + "Unreachable: " + why + "\n";
  }
  const JournalView& v = answer.view;
  out += "Journal: " + v.kind + "\n";
  out += "Namenode id: " + std::to_string(v.id) + "\n";
  out += "Role: " + v.role + "\n";
  out += "Term: " + std::to_string(v.term) + "\n";
  out += "Leader: " + LeaderLine(v) + "\n";
  out += "Commit index: " + std::to_string(v.commit_index) + "\n";
  out += "Applied index: " + std::to_string(v.applied_index) + "\n";
  out += "Last index: " + std::to_string(v.last_index) + "\n";
  out += "First index: " + std::to_string(v.first_index) + "\n";
  out += "Snapshot index: " + std::to_string(v.snapshot_index) + "\n";
  if (v.IsLeader() && !v.peers.empty()) {
    out += "Peers (" + std::to_string(v.peers.size()) + "):\n";
    Table table({"Id", "Raft address", "Client address", "Match index", "Lag", "State",
                 "Last contact"});
    table.SetRightAlign(3);
    table.SetRightAlign(4);
    for (const JournalPeerView& p : v.peers) {
      const bool self = p.id == v.id;
      // The leader's own entry matches its whole log by definition.
      const int64_t match = self ? v.last_index : p.match_index;
      table.AddRow({std::to_string(p.id) + (self ? " (self)" : ""), OrDash(p.raft_address),
                    OrDash(p.client_address), std::to_string(match),
                    std::to_string(std::max<int64_t>(0, v.last_index - match)),
                    self ? "leader" : OrDash(p.state),
                    self ? "-" : LastContact(p.last_contact_ms)});
    }
    std::string rendered = table.Render();
    size_t start = 0;
    while (start < rendered.size()) {
      size_t end = rendered.find('\n', start);
      if (end == std::string::npos) end = rendered.size();
      out += "  " + rendered.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  return out;
}

// A proxy to the one namenode at `address` that makes one attempt per call: the callers ask
// again if they want to, and they want each member's own answer, not the leader's.
Result<std::unique_ptr<NamenodeProxy>> SingleProxy(const std::string& address,
                                                   const std::string& user,
                                                   std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::vector<NamenodeAddress> parsed, ParseTalusUri(address));
  if (parsed.size() != 1) return Status::InvalidArgument("one namenode address expected");
  ClientOptions options;
  options.rpc_timeout_ms = static_cast<int>(std::max<int64_t>(1, timeout.count()));
  options.connect_timeout_ms = options.rpc_timeout_ms;
  options.retry_deadline_ms = 0;
  return std::make_unique<NamenodeProxy>(std::move(parsed), options,
                                         user.empty() ? OsUserName() : user);
}

}  // namespace

Status PingNamenode(const std::string& address, const std::string& user,
                    std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::unique_ptr<NamenodeProxy> proxy, SingleProxy(address, user, timeout));
  rpc::RequestHeader header = proxy->NewHeader(false);
  return proxy->Call("ping", [&](rpc::ClientNamenodeClient& client) {
    rpc::Timespec now;
    client.ping(now, header);
  });
}

Result<JournalView> FetchJournalStatus(const std::string& address, const std::string& user,
                                       std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::unique_ptr<NamenodeProxy> proxy, SingleProxy(address, user, timeout));
  NamenodeProxy& p = *proxy;
  rpc::JournalStatus status;
  rpc::RequestHeader header = p.NewHeader(false);
  RETURN_NOT_OK(p.Call("getJournalStatus", [&](rpc::ClientNamenodeClient& client) {
    client.getJournalStatus(status, header);
  }));
  return FromThrift(status);
}

std::vector<NamenodeJournal> FetchGroupJournal(const std::vector<std::string>& addresses,
                                               const std::string& user,
                                               std::chrono::milliseconds timeout) {
  std::vector<NamenodeJournal> answers(addresses.size());
  std::vector<std::thread> threads;
  threads.reserve(addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) {
    answers[i].address = addresses[i];
    threads.emplace_back([&answers, &user, timeout, i] {
      Result<JournalView> view = FetchJournalStatus(answers[i].address, user, timeout);
      if (view.ok()) {
        answers[i].view = std::move(view).value();
      } else {
        answers[i].status = view.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return answers;
}

int FindLeader(const std::vector<NamenodeJournal>& answers) {
  int best = -1;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i].status.ok() || !answers[i].view.IsLeader()) continue;
    if (best < 0 || answers[i].view.term > answers[static_cast<size_t>(best)].view.term) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

Result<std::vector<std::string>> NamenodeAddresses(const std::string& uri) {
  ASSIGN_OR_RETURN(std::vector<NamenodeAddress> parsed, ParseTalusUri(uri));
  std::vector<std::string> out;
  for (const NamenodeAddress& a : parsed) out.push_back(a.ToString());
  return out;
}

std::string FormatJournalReport(const std::string& uri,
                                const std::vector<NamenodeJournal>& answers) {
  std::string out = "Journal of " + uri + "\n";
  const int leader = FindLeader(answers);
  int answered = 0;
  for (const NamenodeJournal& a : answers) answered += a.status.ok() ? 1 : 0;
  if (leader >= 0) {
    const NamenodeJournal& l = answers[static_cast<size_t>(leader)];
    out += "Leader: namenode id " + std::to_string(l.view.id) + " at " + l.address + ", term " +
           std::to_string(l.view.term) + "\n";
  } else {
    out += "Leader: none (no namenode answering says it leads)\n";
  }
  out += "Namenodes answering: " + std::to_string(answered) + " of " +
         std::to_string(answers.size()) + "\n";
  out += "-------------------------------------------------\n";
  for (const NamenodeJournal& a : answers) out += "\n" + FormatOne(a);
  return out;
}

}  // namespace talus::shell
