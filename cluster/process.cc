#include "cluster/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace talus::cluster {

namespace {

// Closes a descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd = -1) : fd_(fd) {}
  ~FdCloser() { Reset(); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// In the child, between fork and exec: only async-signal-safe calls from here on.
void CloseFdsFrom(int first, int keep) {
  // close_range exists since Linux 5.9; fall back to a bounded loop on older kernels.
  auto close_span = [](unsigned lo, unsigned hi) {
    if (lo > hi) return;
    if (::syscall(SYS_close_range, lo, hi, 0) == 0) return;
    long max_fd = ::sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 65536) max_fd = 65536;
    for (long fd = lo; fd <= static_cast<long>(hi) && fd < max_fd; ++fd) {
      ::close(static_cast<int>(fd));
    }
  };
  close_span(first, static_cast<unsigned>(keep) - 1);
  close_span(static_cast<unsigned>(keep) + 1, UINT_MAX);
}

[[noreturn]] void ChildFail(int error_fd, int err) {
  ssize_t ignored = ::write(error_fd, &err, sizeof(err));
  (void)ignored;
  ::_exit(127);
}

// Moves a descriptor we want to install as 0/1/2 above 2, so installing one stream can never
// clobber the source of another.
int LiftFd(int fd, int error_fd) {
  if (fd < 0 || fd > 2) return fd;
  int lifted = ::fcntl(fd, F_DUPFD, 3);
  if (lifted < 0) ChildFail(error_fd, errno);
  return lifted;
}

[[noreturn]] void RunChild(const SpawnOptions& options, char* const* argv, char* const* envp,
                           int in_fd, int out_fd, int err_fd, int error_fd, pid_t parent) {
  if (options.parent_death_signal != 0) {
    if (::prctl(PR_SET_PDEATHSIG, options.parent_death_signal) != 0) ChildFail(error_fd, errno);
    // The parent may have died before prctl took effect.
    if (::getppid() != parent) ::_exit(127);
  }
  if (options.new_session && ::setsid() < 0) ChildFail(error_fd, errno);

  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for the reserved real-time signals
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  in_fd = LiftFd(in_fd, error_fd);
  out_fd = LiftFd(out_fd, error_fd);
  err_fd = LiftFd(err_fd, error_fd);
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    ChildFail(error_fd, errno);
  }
  CloseFdsFrom(3, error_fd);
  ::execve(argv[0], argv, envp);
  ChildFail(error_fd, errno);
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Blocks until the process behind `pid` ends or `deadline` passes. Uses a pidfd (which becomes
// readable when the process exits, child or not) and falls back to short polls without one.
void WaitForExitSignal(pid_t pid, Clock::time_point deadline, bool (*ended)(pid_t)) {
  FdCloser pidfd(PidfdOpen(pid));
  auto backoff = std::chrono::milliseconds(1);
  while (!ended(pid)) {
    auto now = Clock::now();
    if (now >= deadline) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (pidfd.get() >= 0) {
      struct pollfd pfd = {pidfd.get(), POLLIN, 0};
      // At most 100 ms per poll, so a pid reused behind our back cannot wedge us.
      ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 100)));
    } else {
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(backoff, left));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(20));
    }
  }
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return "exit code " + std::to_string(code);
  return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

Result<pid_t> Spawn(const SpawnOptions& options) {
  if (options.binary.empty()) return Status::InvalidArgument("no binary to run");

  // Everything the child needs is built here: after fork it may not allocate.
  std::vector<std::string> argv_strings;
  argv_strings.push_back(options.binary);
  argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (options.env.count(name) == 0) env_strings.push_back(std::move(entry));
  }
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  FdCloser dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (dev_null.get() < 0) return Status::FromErrno(errno, "open /dev/null");
  FdCloser output;
  if (!options.output_path.empty() && (options.stdout_fd < 0 || options.stderr_fd < 0)) {
    output.Reset(
        ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (output.get() < 0) return Status::FromErrno(errno, "open " + options.output_path);
  }
  int default_out = output.get() >= 0 ? output.get() : dev_null.get();
  int in_fd = options.stdin_fd >= 0 ? options.stdin_fd : dev_null.get();
  int out_fd = options.stdout_fd >= 0 ? options.stdout_fd : default_out;
  int err_fd = options.stderr_fd >= 0 ? options.stderr_fd : default_out;

  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe2");
  FdCloser error_read(error_pipe[0]);
  FdCloser error_write(error_pipe[1]);

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno(errno, "fork");
  if (pid == 0) {
    RunChild(options, argv.data(), envp.data(), in_fd, out_fd, err_fd, error_pipe[1], parent);
  }
  error_write.Reset();

  // The pipe closes on a successful exec (CLOEXEC); otherwise the child sends its errno.
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Status::FromErrno(child_errno, "cannot run " + options.binary);
  }
  return pid;
}

Result<std::optional<ExitStatus>> PollChild(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Status::FromErrno(errno, "waitpid " + std::to_string(pid));
  if (r == 0) return std::optional<ExitStatus>();
  return std::optional<ExitStatus>(FromWaitStatus(status));
}

Result<ExitStatus> WaitChild(pid_t pid, Clock::time_point deadline) {
  while (true) {
    ASSIGN_OR_RETURN(std::optional<ExitStatus> exit, PollChild(pid));
    if (exit) return *exit;
    if (Clock::now() >= deadline) {
      return Status::TimedOut("process " + std::to_string(pid) + " is still running");
    }
    // A child that has exited but is not yet reaped counts as ended: waitpid picks it up next.
    WaitForExitSignal(pid, deadline, [](pid_t p) { return !IsRunning(p); });
  }
}

Status SendSignal(pid_t pid, int signal) {
  if (pid <= 0) return Status::InvalidArgument("refusing to signal pid " + std::to_string(pid));
  if (::kill(pid, signal) == 0 || errno == ESRCH) return Status::OK();
  return Status::FromErrno(errno, "kill " + std::to_string(pid));
}

Result<ProcessInfo> ReadProcessInfo(pid_t pid) {
  if (pid <= 0) return Status::InvalidArgument("bad pid " + std::to_string(pid));
  std::string base = "/proc/" + std::to_string(pid);
  std::string stat;
  if (!ReadWholeFile(base + "/stat", &stat)) {
    return Status::NotFound("no process " + std::to_string(pid));
  }
  ProcessInfo info;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::Corruption("unreadable " + base + "/stat");
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> tokens;
  for (std::string token; fields >> token;) tokens.push_back(token);
  // Field 3 is the state and field 22 the start time; tokens[0] is field 3.
  if (tokens.size() < 20) return Status::Corruption("short " + base + "/stat");
  info.state = tokens[0].empty() ? '?' : tokens[0][0];
  info.start_time = std::strtoull(tokens[19].c_str(), nullptr, 10);

  std::string cmdline;
  if (ReadWholeFile(base + "/cmdline", &cmdline)) {
    size_t start = 0;
    while (start < cmdline.size()) {
      size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      info.argv.push_back(cmdline.substr(start, end - start));
      start = end + 1;
    }
  }
  return info;
}

bool IsRunning(pid_t pid) {
  auto info = ReadProcessInfo(pid);
  return info.ok() && info->state != 'Z' && info->state != 'X';
}

bool WaitUntilNotRunning(pid_t pid, Clock::time_point deadline) {
  WaitForExitSignal(pid, deadline, [](pid_t p) { return !IsRunning(p); });
  return !IsRunning(pid);
}

Result<CapturedRun> RunAndCapture(SpawnOptions options, const std::string& stdin_data,
                                  std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe2");
  FdCloser in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe2");
  FdCloser out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe2");
  FdCloser err_read(err_pipe[0]), err_write(err_pipe[1]);

  options.stdin_fd = in_read.get();
  options.stdout_fd = out_write.get();
  options.stderr_fd = err_write.get();
  options.output_path.clear();
  ASSIGN_OR_RETURN(pid_t pid, Spawn(options));
  // Only the child may hold these ends now, so EOF on our read ends means it is done with them.
  in_read.Reset();
  out_write.Reset();
  err_write.Reset();
  for (int fd : {in_write.get(), out_read.get(), err_read.get()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  // A child that exits without reading its input must not kill us with SIGPIPE: block it on
  // this thread while writing, and swallow the one a failed write leaves pending.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

  CapturedRun run;
  size_t written = 0;
  if (stdin_data.empty()) in_write.Reset();
  char buffer[65536];
  while (out_read.get() >= 0 || err_read.get() >= 0 || in_write.get() >= 0) {
    auto now = Clock::now();
    if (now >= deadline) {
      run.timed_out = true;
      break;
    }
    struct pollfd pfds[3];
    int n = 0;
    FdCloser* owners[3];
    auto add = [&](FdCloser& fd, short events) {
      if (fd.get() < 0) return;
      pfds[n] = {fd.get(), events, 0};
      owners[n++] = &fd;
    };
    add(in_write, POLLOUT);
    add(out_read, POLLIN);
    add(err_read, POLLIN);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    int ready = ::poll(pfds, n, static_cast<int>(left.count()) + 1);
    if (ready < 0 && errno != EINTR) break;
    for (int k = 0; k < n && ready > 0; ++k) {
      if (pfds[k].revents == 0) continue;
      FdCloser& fd = *owners[k];
      if (&fd == &in_write) {
        ssize_t w = ::write(fd.get(), stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          fd.Reset();  // done, or the child closed its stdin: either way it gets EOF
        }
      } else {
        ssize_t r = ::read(fd.get(), buffer, sizeof(buffer));
        if (r > 0) {
          (&fd == &out_read ? run.out : run.err).append(buffer, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          fd.Reset();
        }
      }
    }
  }
  in_write.Reset();
  struct timespec zero = {0, 0};
  while (::sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);

  if (run.timed_out) {
    (void)SendSignal(pid, SIGKILL);
    Result<ExitStatus> exit = WaitChild(pid, Clock::now() + std::chrono::seconds(10));
    if (exit.ok()) run.exit = *exit;
    return run;
  }
  // Both streams are closed; the child normally exits right after, but may linger.
  Result<ExitStatus> exit = WaitChild(pid, std::max(deadline, Clock::now()));
  if (!exit.ok()) {
    run.timed_out = true;
    (void)SendSignal(pid, SIGKILL);
    (void)WaitChild(pid, Clock::now() + std::chrono::seconds(10));
    return run;
  }
  run.exit = *exit;
  return run;
}

Result<std::string> SelfExeDir() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n < 0) return Status::FromErrno(errno, "readlink /proc/self/exe");
  std::string path(buffer, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return Status::Internal("odd executable path " + path);
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

}  // namespace talus::cluster
