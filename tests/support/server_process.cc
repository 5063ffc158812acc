#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice::testing {
namespace {

std::string RepoBuildServer() {
#ifdef SLUICE_DEFAULT_SERVER_PATH
  return SLUICE_DEFAULT_SERVER_PATH;
#else
  return "build/sluice-server";
#endif
}

// True once a TCP connect to the port gets bytes starting with "INFO ".
bool SaysInfo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) == 1) {
      char buf[5];
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_WAITALL);
      ok = n == 5 && std::string_view(buf, 5) == "INFO ";
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

const char* ServerKindName(ServerKind kind) { return kind == ServerKind::kSluice ? "sluice" : "nats-server"; }

std::string ServerBinary(ServerKind kind) {
  if (kind == ServerKind::kSluice) {
    const char* env = std::getenv("SLUICE_SERVER");
    return env && *env ? env : RepoBuildServer();
  }
  const char* env = std::getenv("NATS_SERVER");
  return env && *env ? env : "nats-server";
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(ServerKind kind, std::vector<std::string> extra_args) {
  const std::string binary = ServerBinary(kind);
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<ServerProcess> sp(new ServerProcess());
    sp->kind_ = kind;
    char tmpl[] = "/tmp/sluice-test-XXXXXX";
    if (!::mkdtemp(tmpl)) return nullptr;
    sp->temp_dir_ = tmpl;
    sp->log_path_ = sp->temp_dir_ + "/server.log";
    sp->port_ = FreeLoopbackPort();

    std::vector<std::string> args = {binary, "-a", "127.0.0.1", "-p", std::to_string(sp->port_)};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    // "{tmp}" in an argument stands for this server's temp dir.
    for (auto& a : args) {
      size_t pos;
      while ((pos = a.find("{tmp}")) != std::string::npos) a.replace(pos, 5, sp->temp_dir_);
    }

    pid_t pid = ::fork();
    if (pid == 0) {
      int log = ::open(sp->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::perror("execvp");
      ::_exit(127);
    }
    sp->pid_ = pid;

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool exited = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        sp->pid_ = -1;
        break;
      }
      if (SaysInfo(sp->port_)) return sp;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::fprintf(stderr, "server %s did not start on port %d (attempt %d):\n%s\n", binary.c_str(), sp->port_,
                 attempt + 1, sp->log().c_str());
    if (!exited) sp->Stop(SIGKILL);
  }
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

std::string ServerProcess::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ServerProcess::Stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  return status;
}

}  // namespace sluice::testing
