package core

// SIGHUP reload: the config file is rewritten in place, as operators do, and
// the server is sent SIGHUP by PID.

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// reload replaces the server's config file and sends SIGHUP.
func (s *server) reload(t *testing.T, config string) {
	t.Helper()
	if s.conf == "" {
		t.Fatal("server was started without a config file")
	}
	if err := os.WriteFile(s.conf, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP to pid %d: %v", s.cmd.Process.Pid, err)
	}
}

// watchedConn is a nats.go connection that records its async errors and
// its close; it does not reconnect, so a close by the server is final.
type watchedConn struct {
	nc     *nats.Conn
	errs   *asyncErrs
	closed chan struct{}
}

func connectWatched(t *testing.T, s *server, opts ...nats.Option) *watchedConn {
	t.Helper()
	w := &watchedConn{errs: newAsyncErrs()}
	ch, done := signal()
	w.closed = ch
	opts = append(opts, nats.NoReconnect(), w.errs.option(),
		nats.ClosedHandler(func(*nats.Conn) { done() }))
	w.nc = connect(t, s, opts...)
	return w
}

func usersConf(users ...string) string {
	var b strings.Builder
	b.WriteString("# reloaded with SIGHUP\nauthorization {\n  users = [\n")
	for _, u := range users {
		b.WriteString("    " + u + "\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

func TestReloadRemovesUser(t *testing.T) {
	alice := `{user: alice, password: alice-pw}`
	bob := `{user: bob, password: bob-pw}`
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, usersConf(alice, bob))
		a := connectWatched(t, s, nats.UserInfo("alice", "alice-pw"))
		// Bob keeps nats.go's default of reconnecting: whatever the server
		// does to a removed user's connection, the client ends closed with
		// an authorization error (nats.go gives up after the same auth error
		// twice).
		berrs := newAsyncErrs()
		bclosed, bdone := signal()
		b := connect(t, s, nats.UserInfo("bob", "bob-pw"), berrs.option(),
			nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(20),
			nats.ClosedHandler(func(*nats.Conn) { bdone() }))
		roundTrip(t, a.nc, "before.a")
		roundTrip(t, b, "before.b")

		// Without bob; carol is new.
		s.reload(t, usersConf(alice, `{user: carol, password: carol-pw}`))

		waitFor(t, bclosed, authWait, "bob's connection to be closed")
		if err := b.LastError(); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("bob's last error %v, want nats.ErrAuthorization", err)
		}
		select {
		case err := <-berrs.ch:
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("bob's async error %v, want nats.ErrAuthorization", err)
			}
		default:
			t.Errorf("bob's error handler saw no authorization error")
		}

		// Alice was not disturbed.
		roundTrip(t, a.nc, "after.a")
		a.errs.none(t)
		select {
		case <-a.closed:
			t.Fatal("alice's connection was closed")
		default:
		}

		expectAuthFailure(t, s, "bob after reload", nats.UserInfo("bob", "bob-pw"))
		c := connect(t, s, nats.UserInfo("carol", "carol-pw"))
		roundTrip(t, c, "after.c")
	})
}

// What the removed user's socket sees. nats-server (2.9.10, and the same
// code in later versions: clientHasMovedToDifferentAccount) closes it with
// reason "Client Closed" and writes nothing.
func TestReloadRemovedUserClosedWithoutErr(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, usersConf(`{user: alice, password: a}`, `{user: bob, password: b}`))
		rc := rawConnect(t, s)
		rc.send("CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"bob\",\"pass\":\"b\"}\r\nPING\r\n")
		if l := rc.line(); l != "PONG" {
			t.Fatalf("got %q", l)
		}
		s.reload(t, usersConf(`{user: alice, password: a}`))
		expectClosed(t, rc)
	})
}

func TestReloadChangesPassword(t *testing.T) {
	conf := func(pw string) string {
		return usersConf(`{user: ops, password: `+pw+`}`, `{user: other, password: other-pw}`)
	}
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf("old-pw"))
		old := connectWatched(t, s, nats.UserInfo("ops", "old-pw"))
		other := connectWatched(t, s, nats.UserInfo("other", "other-pw"))
		roundTrip(t, old.nc, "pw.before")

		s.reload(t, conf("new-pw"))
		// A user that still exists but whose password no longer matches
		// gets -ERR 'Authorization Violation' and is closed.
		select {
		case err := <-old.errs.ch:
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("async error %v, want nats.ErrAuthorization", err)
			}
		case <-time.After(authWait):
			t.Fatalf("no authorization error within %v of SIGHUP", authWait)
		}
		waitFor(t, old.closed, authWait, "the connection with the old password to be closed")

		expectAuthFailure(t, s, "old password after reload", nats.UserInfo("ops", "old-pw"))
		nc := connect(t, s, nats.UserInfo("ops", "new-pw"))
		roundTrip(t, nc, "pw.after")
		roundTrip(t, other.nc, "pw.other")
		other.errs.none(t)
	})
}

func TestReloadChangesPermissions(t *testing.T) {
	conf := func(pub string) string {
		return usersConf(
			`{user: admin, password: admin-pw}`,
			fmt.Sprintf(`{user: app, password: app-pw, permissions: {publish: [%s], subscribe: ["_INBOX.>"]}}`, pub))
	}
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf(`"a.>", "b.>"`))
		admin := connect(t, s, nats.UserInfo("admin", "admin-pw"))
		watch, err := admin.SubscribeSync(">")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, admin)
		app := connectWatched(t, s, nats.UserInfo("app", "app-pw"))
		app.nc.Publish("b.1", nil)
		flush(t, app.nc)
		if m := next(t, watch); m.Subject != "b.1" {
			t.Fatalf("got %s", m.Subject)
		}
		app.errs.none(t)

		s.reload(t, conf(`"a.>"`))
		// The reload is applied asynchronously: publish until b.* is
		// refused, each attempt followed by a marker on a.* so that every
		// attempt's fate is known without waiting on time.
		deadline := time.Now().Add(authWait)
		for refused := false; !refused; {
			if time.Now().After(deadline) {
				t.Fatal("publish to b.2 still allowed after reload")
			}
			app.nc.Publish("b.2", nil)
			app.nc.Publish("a.mark", nil)
			flush(t, app.nc)
			m := next(t, watch)
			switch m.Subject {
			case "b.2":
				next(t, watch) // its marker
			case "a.mark":
				refused = true
			default:
				t.Fatalf("unexpected %s", m.Subject)
			}
		}
		app.errs.expect(t, `nats: Permissions Violation for Publish to "b.2"`)
		select {
		case <-app.closed:
			t.Fatal("connection closed by a permissions reload")
		default:
		}
	})
}

// nats-server applies a reloaded max_payload to new connections' INFO (and
// enforces it on every connection); existing connections get no new INFO.
func TestReloadMaxPayload(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "max_payload: 1KB\n")
		before := connectWatched(t, s)
		if got := before.nc.MaxPayload(); got != 1024 {
			t.Fatalf("max_payload before reload %d", got)
		}

		s.reload(t, "max_payload: 4KB\n")
		// A new connection's INFO carries the new value once the reload is
		// applied; poll new connections until then.
		deadline := time.Now().Add(authWait)
		for {
			nc, err := nats.Connect(s.url, nats.NoReconnect())
			if err != nil {
				t.Fatal(err)
			}
			got := nc.MaxPayload()
			if got == 4096 {
				// The new limit is enforced for it too.
				sub, _ := nc.SubscribeSync("big")
				if err := nc.Publish("big", make([]byte, 4096)); err != nil {
					t.Fatalf("4 KiB publish: %v", err)
				}
				if m := next(t, sub); len(m.Data) != 4096 {
					t.Fatalf("got %d bytes", len(m.Data))
				}
				nc.Close()
				break
			}
			nc.Close()
			if got != 1024 || time.Now().After(deadline) {
				t.Fatalf("new connection's INFO max_payload %d, want 4096", got)
			}
		}
		t.Logf("existing connection's max_payload after reload: %d", before.nc.MaxPayload())
	})
}
