// Entry point: raises the soft descriptor limit (the scale tests open
// thousands of sockets; the server child inherits it) and releases nats.c's
// global state at the end.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>

int main(int argc, char** argv) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) std::perror("setrlimit(RLIMIT_NOFILE)");
  }
  ::signal(SIGPIPE, SIG_IGN);
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  nats_Close();
  return rc;
}
