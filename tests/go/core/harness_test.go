package core

// Test harness: starts the servers under test (nats-server, the reference,
// and sluice-server) on free loopback ports, each in its own temp dir, and
// stops them by PID. Every test runs once per server as a subtest.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// impl describes one server implementation under test.
type impl struct {
	name    string // subtest name
	bin     string // absolute path or name on PATH
	version string // expected INFO version ("" = only check non-empty)
}

var (
	implsOnce sync.Once
	implList  []impl
	implErr   error
)

func impls() ([]impl, error) {
	implsOnce.Do(func() {
		ref := os.Getenv("NATS_SERVER")
		if ref == "" {
			ref = "nats-server"
		}
		refPath, err := exec.LookPath(ref)
		if err != nil {
			implErr = fmt.Errorf("reference server %q not found: %v", ref, err)
			return
		}
		sl := os.Getenv("SLUICE_SERVER")
		if sl == "" {
			// Default: ../../build/sluice-server relative to tests/go, i.e.
			// three levels up from this package directory (tests/go/core).
			sl = filepath.Join("..", "..", "..", "build", "sluice-server")
		}
		slAbs, err := filepath.Abs(sl)
		if err != nil {
			implErr = err
			return
		}
		implList = []impl{
			{name: "nats-server", bin: refPath},
			{name: "sluice", bin: slAbs, version: "2.11.0"},
		}
	})
	return implList, implErr
}

// eachServer runs fn as one subtest per server implementation.
func eachServer(t *testing.T, fn func(t *testing.T, im impl)) {
	t.Helper()
	list, err := impls()
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range list {
		im := im
		t.Run(im.name, func(t *testing.T) {
			if _, err := os.Stat(im.bin); err != nil {
				t.Fatalf("server binary %s: %v (build it, or set SLUICE_SERVER / NATS_SERVER)", im.bin, err)
			}
			fn(t, im)
		})
	}
}

// server is one running server process.
type server struct {
	t      *testing.T
	im     impl
	dir    string
	conf   string   // config file path, "" if none
	extra  []string // more flags, e.g. -m <port>
	port   int
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

const startTimeout = 10 * time.Second

// startServer starts im with the given config file contents ("" = no -c).
// The server is stopped when the test ends.
func startServer(t *testing.T, im impl, config string) *server {
	t.Helper()
	s := &server{t: t, im: im, dir: t.TempDir()}
	if config != "" {
		s.conf = filepath.Join(s.dir, "server.conf")
		if err := os.WriteFile(s.conf, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if lastErr = s.launch(port); lastErr == nil {
			t.Cleanup(s.stop)
			return s
		}
		t.Logf("start attempt %d on port %d failed: %v", attempt+1, port, lastErr)
	}
	t.Fatalf("could not start %s: %v\n%s", im.name, lastErr, s.logTail())
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, nil
}

// launch starts the process on port and waits until it greets with INFO.
// On failure the process is stopped and an error returned.
func (s *server) launch(port int) error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port)}
	if s.conf != "" {
		args = append(args, "-c", s.conf)
	}
	args = append(args, s.extra...)
	cmd := exec.Command(s.im.bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), "TMPDIR="+s.dir)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited, s.log, s.port = cmd, exited, logf, port
	s.url = fmt.Sprintf("nats://127.0.0.1:%d", port)

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			logf.Close()
			return fmt.Errorf("process exited during start-up (%v)", cmd.ProcessState)
		default:
		}
		if greets(port) {
			return nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("no INFO on port %d within %v", port, startTimeout)
		}
		// Polling: a starting process offers no readiness signal but its port.
		time.Sleep(20 * time.Millisecond)
	}
}

// greets reports whether a TCP connection to port reads "INFO ".
func greets(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 5)
	if _, err := ioReadFull(c, buf); err != nil {
		return false
	}
	return string(buf) == "INFO "
}

func ioReadFull(c net.Conn, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// stop sends SIGTERM, then SIGKILL after a deadline, and waits for exit.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.t.Logf("%s (pid %d) ignored SIGTERM; killing", s.im.name, s.cmd.Process.Pid)
			s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.exited
		}
	}
	if s.log != nil {
		s.log.Close()
		s.log = nil
	}
	if s.t.Failed() {
		s.t.Logf("%s log (tail):\n%s", s.im.name, s.logTail())
	}
}

// restart starts the server again on the same port (after stop).
func (s *server) restart() {
	s.t.Helper()
	s.stop()
	if err := s.launch(s.port); err != nil {
		s.t.Fatalf("restart on port %d: %v\n%s", s.port, err, s.logTail())
	}
}

func (s *server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// connect opens a nats.go connection that is closed when the test ends.
func connect(t *testing.T, s *server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.url, opts...)
	if err != nil {
		t.Fatalf("connect to %s: %v", s.im.name, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// rawConn is a plain TCP protocol client for the few checks nats.go 1.22
// cannot express (it reacts to some -ERR by closing itself).
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func rawConnect(t *testing.T, s *server) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, c: c, r: bufio.NewReader(c)}
	if line := rc.line(); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("expected INFO, got %q", line)
	}
	return rc
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	rc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.c.Write([]byte(s)); err != nil {
		rc.t.Fatalf("write %q: %v", s, err)
	}
}

// line reads one CRLF-terminated line (without the CRLF).
func (rc *rawConn) line() string {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := rc.r.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// payload reads n bytes plus the trailing CRLF.
func (rc *rawConn) payload(n int) []byte {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, n+2)
	for got := 0; got < len(buf); {
		m, err := rc.r.Read(buf[got:])
		if err != nil {
			rc.t.Fatalf("read payload: %v", err)
		}
		got += m
	}
	if !bytes.HasSuffix(buf, []byte("\r\n")) {
		rc.t.Fatalf("payload not followed by CRLF: %q", buf)
	}
	return buf[:n]
}

// waitFor waits for a channel signal with a generous deadline.
func waitFor(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// signal returns a channel and an idempotent function that closes it.
func signal() (chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}
