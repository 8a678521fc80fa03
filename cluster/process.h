#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace talus::cluster {

using Clock = std::chrono::steady_clock;

// How to start a child process. Everything is prepared before fork(), so Spawn() is safe to call
// from a multi-threaded program (only async-signal-safe calls run between fork and exec).
struct SpawnOptions {
  std::string binary;             // path of the executable; argv[0] is this path
  std::vector<std::string> args;  // argv[1..]
  // Added to (or replacing entries of) the caller's environment.
  std::map<std::string, std::string> env;
  // Standard streams. A descriptor >= 0 is dup'ed onto the child's stream. Otherwise stdin reads
  // /dev/null, and stdout/stderr are appended to `output_path` when it is set, else /dev/null.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string output_path;
  // setsid() in the child: it leaves our session and terminal, so it outlives us undisturbed
  // (used by `talus cluster up`, whose daemons keep running after the command exits).
  bool new_session = false;
  // When non-zero, the kernel sends this signal to the child when the thread that spawned it
  // ends (prctl PR_SET_PDEATHSIG), so test daemons never outlive a killed test.
  int parent_death_signal = 0;
};

// Starts the child; returns its pid once it has exec'ed, or the reason exec failed (e.g. the
// binary does not exist). All descriptors other than 0, 1 and 2 are closed in the child and
// signal dispositions and the signal mask are reset to defaults.
Result<pid_t> Spawn(const SpawnOptions& options);

// How a child ended.
struct ExitStatus {
  bool exited = false;  // true: exit `code`; false: killed by `signal`
  int code = 0;
  int signal = 0;
  bool success() const { return exited && code == 0; }
  // "exit code 3" or "killed by signal 9 (Killed)".
  std::string ToString() const;
};

// Non-blocking check of one of our children: the ExitStatus if it has ended (and is now reaped),
// nullopt while it runs. An error if `pid` is not our child.
Result<std::optional<ExitStatus>> PollChild(pid_t pid);

// Waits for our child `pid` to end, up to `deadline`; TimedOut (child still running, not
// reaped) if it does not.
Result<ExitStatus> WaitChild(pid_t pid, Clock::time_point deadline);

// Sends `signal`; a process that no longer exists is not an error (it is what we wanted).
Status SendSignal(pid_t pid, int signal);

// What /proc tells about a process.
struct ProcessInfo {
  std::vector<std::string> argv;  // from /proc/PID/cmdline
  char state = '?';               // from /proc/PID/stat: R, S, D, Z (zombie), ...
  uint64_t start_time = 0;        // clock ticks after boot: with the pid, unique over uptime
};

// NotFound if the process does not exist.
Result<ProcessInfo> ReadProcessInfo(pid_t pid);

// True if `pid` exists and is not a zombie. Any process, not only our children.
bool IsRunning(pid_t pid);

// Polls until `pid` is no longer running (gone or a zombie) or `deadline` passes; returns
// whether it ended. For processes that are not our children (they cannot be waited for).
bool WaitUntilNotRunning(pid_t pid, Clock::time_point deadline);

// The outcome of RunAndCapture.
struct CapturedRun {
  ExitStatus exit;         // meaningless when timed_out
  bool timed_out = false;  // the child was killed after the timeout
  std::string out;
  std::string err;
};

// Runs a program to completion with pipes on its standard streams (the descriptors and
// output_path in `options` are ignored): writes `stdin_data` to it, then closes its stdin, and
// collects what it prints. poll()-based, so large outputs on both streams and a large input
// cannot deadlock. After `timeout` the child is killed with SIGKILL and reaped.
Result<CapturedRun> RunAndCapture(SpawnOptions options, const std::string& stdin_data,
                                  std::chrono::milliseconds timeout);

// The directory holding the running executable (from /proc/self/exe).
Result<std::string> SelfExeDir();

}  // namespace talus::cluster
