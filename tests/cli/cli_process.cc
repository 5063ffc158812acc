#include "cli_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace sluice::testing {

std::string CliBinary() {
  const char* env = std::getenv("SLUICE_CLI");
  if (env != nullptr && *env != '\0') return env;
#ifdef SLUICE_DEFAULT_CLI_PATH
  return SLUICE_DEFAULT_CLI_PATH;
#else
  return "build/sluice";
#endif
}

std::unique_ptr<CliProcess> CliProcess::Start(const std::vector<std::string>& args, const Env& env,
                                              const std::string& input) {
  // Environment: ours without the NATS_* variables the CLI reads, then `env`.
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const char* name : {"NATS_URL", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN"}) vars.erase(name);
  for (const auto& [k, v] : env) {
    if (v) vars[k] = *v;
    else vars.erase(k);
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
  std::vector<std::string> argv_strings = {CliBinary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return nullptr;
  }
  std::vector<char*> argv, envp;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    std::fprintf(stderr, "execve %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return nullptr;
  }
  // The input is small (a test body): write it and close, so the child sees EOF.
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < input.size()) {
    ssize_t n = ::write(in_pipe[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(in_pipe[1]);

  std::unique_ptr<CliProcess> p(new CliProcess());
  p->pid_ = pid;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  p->reader_ = std::thread([raw = p.get(), out_fd, err_fd] { raw->ReadLoop(out_fd, err_fd); });
  return p;
}

void CliProcess::ReadLoop(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[8192];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

CliProcess::~CliProcess() {
  if (!result_) Wait(std::chrono::milliseconds(0));
}

bool CliProcess::WaitForStderr(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return err_.find(needle) != std::string::npos || eof_; }) &&
         err_.find(needle) != std::string::npos;
}

bool CliProcess::WaitForStdoutLines(size_t lines, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto enough = [&] { return static_cast<size_t>(std::count(out_.begin(), out_.end(), '\n')) >= lines; };
  cv_.wait_for(lock, timeout, [&] { return enough() || eof_; });
  return enough();
}

CliResult CliProcess::Wait(std::chrono::milliseconds timeout) {
  if (result_) return *result_;
  CliResult r;
  {
    // The child's exit closes its pipes; wait for that (or the deadline).
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return eof_; })) r.timed_out = true;
  }
  if (r.timed_out) ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  if (reader_.joinable()) reader_.join();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::lock_guard<std::mutex> lock(mu_);
  r.out = out_;
  r.err = err_;
  result_ = r;
  return r;
}

void CliProcess::Signal(int sig) {
  if (!result_) ::kill(pid_, sig);
}

std::string CliProcess::out() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string CliProcess::err() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

CliResult RunCli(const std::vector<std::string>& args, const CliProcess::Env& env, std::chrono::milliseconds timeout) {
  auto p = CliProcess::Start(args, env);
  if (!p) return {};
  return p->Wait(timeout);
}

}  // namespace sluice::testing
