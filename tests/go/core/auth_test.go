package core

// Authentication and permissions through nats.go, with config files written
// the way nats-server users write them: token, single user/password, a users
// list with bcrypt passwords and per-user permissions (allow/deny, wildcards,
// queue groups, allow_responses) and no_auth_user.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"
)

const authWait = 10 * time.Second

// bcryptHash returns a bcrypt hash of pw (generated once per test binary run
// and cost, as `nats server passwd` would).
var (
	hashMu    sync.Mutex
	hashCache = map[string]string{}
)

func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	hashMu.Lock()
	defer hashMu.Unlock()
	if h, ok := hashCache[pw]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 10)
	if err != nil {
		t.Fatal(err)
	}
	hashCache[pw] = string(h)
	return string(h)
}

// asyncErrs collects the errors nats.go reports through its async error
// handler (permission violations arrive there).
type asyncErrs struct {
	ch chan error
}

func newAsyncErrs() *asyncErrs { return &asyncErrs{ch: make(chan error, 64)} }

func (a *asyncErrs) option() nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case a.ch <- err:
		default:
		}
	})
}

// expect waits for the next async error and checks its text.
func (a *asyncErrs) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case err := <-a.ch:
		if err == nil || err.Error() != want {
			t.Fatalf("async error %q, want %q", err, want)
		}
	case <-time.After(authWait):
		t.Fatalf("no async error within %v, want %q", authWait, want)
	}
}

// none checks that no async error has been reported so far.
func (a *asyncErrs) none(t *testing.T) {
	t.Helper()
	select {
	case err := <-a.ch:
		t.Fatalf("unexpected async error %q", err)
	default:
	}
}

func connectErr(s *server, opts ...nats.Option) error {
	opts = append([]nats.Option{nats.Timeout(authWait), nats.NoReconnect()}, opts...)
	nc, err := nats.Connect(s.url, opts...)
	if err == nil {
		nc.Close()
	}
	return err
}

func expectAuthFailure(t *testing.T, s *server, what string, opts ...nats.Option) {
	t.Helper()
	err := connectErr(s, opts...)
	if err == nil {
		t.Errorf("%s: connected, want nats.ErrAuthorization", what)
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("%s: error %v, want nats.ErrAuthorization", what, err)
	}
}

// roundTrip checks a connection can still publish to and receive from itself.
func roundTrip(t *testing.T, nc *nats.Conn, subj string) {
	t.Helper()
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Publish(subj, []byte("rt")); err != nil {
		t.Fatal(err)
	}
	if m := next(t, sub); string(m.Data) != "rt" {
		t.Fatalf("round trip on %s: got %q", subj, m.Data)
	}
	if !nc.IsConnected() {
		t.Fatalf("connection not connected after round trip")
	}
}

func TestAuthToken(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "authorization {\n  token: \"s3cr3t-t0ken\"\n}\n")
		nc := connect(t, s, nats.Token("s3cr3t-t0ken"))
		if !nc.AuthRequired() {
			t.Errorf("INFO auth_required is false")
		}
		roundTrip(t, nc, "tok.ok")
		nc2 := connect(t, s, nats.Token("s3cr3t-t0ken"))
		roundTrip(t, nc2, "tok.ok2")

		expectAuthFailure(t, s, "wrong token", nats.Token("wrong"))
		expectAuthFailure(t, s, "no token")
		// A token server ignores user/password (rule A4).
		expectAuthFailure(t, s, "user/pass on a token server", nats.UserInfo("s3cr3t-t0ken", "s3cr3t-t0ken"))
		// The URL form works too.
		url := strings.Replace(s.url, "nats://", "nats://s3cr3t-t0ken@", 1)
		nc3, err := nats.Connect(url, nats.NoReconnect())
		if err != nil {
			t.Fatalf("token in URL: %v", err)
		}
		nc3.Close()
	})
}

func TestAuthUserPassword(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "authorization {\n  user: alice\n  password: \"p@ss w0rd\"\n  timeout: 2\n}\n")
		nc := connect(t, s, nats.UserInfo("alice", "p@ss w0rd"))
		roundTrip(t, nc, "up.ok")

		expectAuthFailure(t, s, "wrong password", nats.UserInfo("alice", "nope"))
		expectAuthFailure(t, s, "wrong user", nats.UserInfo("Alice", "p@ss w0rd"))
		expectAuthFailure(t, s, "no credentials")
		expectAuthFailure(t, s, "token instead", nats.Token("p@ss w0rd"))
		// Still serving the good client.
		roundTrip(t, nc, "up.ok2")
	})
}

func TestAuthBcryptUsers(t *testing.T) {
	alice := bcryptHash(t, "alice-pw")
	bob := bcryptHash(t, "bob-pw")
	conf := fmt.Sprintf(`# users with bcrypt passwords (nats server passwd)
authorization {
  users = [
    {user: alice, password: "%s"}
    {user: bob,   password: "%s"}
  ]
}
`, alice, bob)
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf)
		a := connect(t, s, nats.UserInfo("alice", "alice-pw"))
		b := connect(t, s, nats.UserInfo("bob", "bob-pw"))
		roundTrip(t, a, "b.a")
		roundTrip(t, b, "b.b")

		expectAuthFailure(t, s, "alice with bob's password", nats.UserInfo("alice", "bob-pw"))
		expectAuthFailure(t, s, "the hash itself as password", nats.UserInfo("alice", alice))
		expectAuthFailure(t, s, "unknown user", nats.UserInfo("carol", "alice-pw"))
		expectAuthFailure(t, s, "no credentials")
	})
}

// permsConf is a users list with the permission shapes users write.
func permsConf(t *testing.T) string {
	return fmt.Sprintf(`authorization {
  users = [
    # Full access: checks what the others publish.
    {user: admin, password: "%s"}
    {user: alice, password: "%s", permissions: {
      publish: { allow: ["orders.>"], deny: ["orders.secret"] }
      subscribe: { allow: ["orders.>", "_INBOX.>", "jobs.* workers"], deny: ["orders.private.*"] }
    }}
    # List form, wildcard allow.
    {user: reader, password: reader-pw, permissions: {
      publish: ["metrics.*.cpu"]
      subscribe: ["metrics.>"]
    }}
    # A responder that may publish nothing but replies.
    {user: svc, password: svc-pw, permissions: {
      subscribe: ["svc.>"]
      allow_responses: true
    }}
  ]
}
`, bcryptHash(t, "admin-pw"), bcryptHash(t, "alice-pw"))
}

func TestAuthPublishPermissions(t *testing.T) {
	conf := permsConf(t)
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf)
		admin := connect(t, s, nats.UserInfo("admin", "admin-pw"))
		watch, err := admin.SubscribeSync(">")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, admin)

		errs := newAsyncErrs()
		alice := connect(t, s, nats.UserInfo("alice", "alice-pw"), errs.option())

		// Allowed through the wildcard.
		if err := alice.Publish("orders.eu.new", []byte("1")); err != nil {
			t.Fatal(err)
		}
		// Deny wins over the allow "orders.>".
		if err := alice.Publish("orders.secret", []byte("2")); err != nil {
			t.Fatal(err)
		}
		errs.expect(t, `nats: Permissions Violation for Publish to "orders.secret"`)
		// Not in the allow list at all.
		if err := alice.Publish("payments.x", []byte("3")); err != nil {
			t.Fatal(err)
		}
		errs.expect(t, `nats: Permissions Violation for Publish to "payments.x"`)
		// The connection stays up and keeps publishing.
		if err := alice.Publish("orders.done", []byte("4")); err != nil {
			t.Fatal(err)
		}
		flush(t, alice)
		if !alice.IsConnected() {
			t.Fatal("alice's connection closed after a permission violation")
		}
		for _, want := range []string{"orders.eu.new", "orders.done"} {
			if m := next(t, watch); m.Subject != want {
				t.Fatalf("admin got %s, want %s (a refused message was delivered?)", m.Subject, want)
			}
		}
		errs.none(t)

		// List form with a '*' in the middle.
		rerrs := newAsyncErrs()
		reader := connect(t, s, nats.UserInfo("reader", "reader-pw"), rerrs.option())
		reader.Publish("metrics.host1.cpu", []byte("a"))
		reader.Publish("metrics.host1.mem", []byte("b"))
		rerrs.expect(t, `nats: Permissions Violation for Publish to "metrics.host1.mem"`)
		reader.Publish("metrics.host2.cpu", []byte("c"))
		flush(t, reader)
		for _, want := range []string{"metrics.host1.cpu", "metrics.host2.cpu"} {
			if m := next(t, watch); m.Subject != want {
				t.Fatalf("admin got %s, want %s", m.Subject, want)
			}
		}
	})
}

func TestAuthSubscribePermissions(t *testing.T) {
	conf := permsConf(t)
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf)
		admin := connect(t, s, nats.UserInfo("admin", "admin-pw"))
		errs := newAsyncErrs()
		alice := connect(t, s, nats.UserInfo("alice", "alice-pw"), errs.option())

		ok, err := alice.SubscribeSync("orders.*")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, alice)
		errs.none(t)

		refused, err := alice.SubscribeSync("payments.>")
		if err != nil {
			t.Fatal(err)
		}
		errs.expect(t, `nats: Permissions Violation for Subscription to "payments.>"`)
		// Deny wins over the allow "orders.>".
		denied, err := alice.SubscribeSync("orders.private.x")
		if err != nil {
			t.Fatal(err)
		}
		errs.expect(t, `nats: Permissions Violation for Subscription to "orders.private.x"`)

		// Queue-group permission: "jobs.* workers" allows that queue only.
		q, err := alice.QueueSubscribeSync("jobs.build", "workers")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, alice)
		errs.none(t)
		badQ, err := alice.QueueSubscribeSync("jobs.build", "others")
		if err != nil {
			t.Fatal(err)
		}
		errs.expect(t, `nats: Permissions Violation for Subscription to "jobs.build" using queue "others"`)

		// The connection stays up; refused subscriptions receive nothing.
		// One publisher's messages reach one connection in order, so once the
		// last one arrives the earlier ones would have arrived too.
		admin.Publish("payments.in", []byte("p"))
		admin.Publish("orders.private.x", []byte("x"))
		admin.Publish("jobs.build", []byte("j"))
		admin.Publish("orders.last", []byte("last"))
		flush(t, admin)
		if m := next(t, q); string(m.Data) != "j" {
			t.Fatalf("queue subscriber got %q", m.Data)
		}
		if m := next(t, ok); m.Subject != "orders.last" {
			t.Fatalf("orders.* got %s", m.Subject)
		}
		for name, sub := range map[string]*nats.Subscription{"payments.>": refused, "orders.private.x": denied, "jobs.build/others": badQ} {
			if n, _, _ := sub.Pending(); n != 0 {
				t.Errorf("refused subscription %s received %d messages", name, n)
			}
		}
		if !alice.IsConnected() {
			t.Fatal("connection closed after subscribe violations")
		}
		roundTrip(t, alice, "orders.rt")
	})
}

func TestAuthAllowResponses(t *testing.T) {
	conf := permsConf(t)
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf)
		errs := newAsyncErrs()
		svc := connect(t, s, nats.UserInfo("svc", "svc-pw"), errs.option())
		admin := connect(t, s, nats.UserInfo("admin", "admin-pw"))

		// Replies through the request API.
		sub, err := svc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		flush(t, svc)
		for i := 0; i < 3; i++ {
			r, err := admin.Request("svc.echo", []byte(fmt.Sprint(i)), authWait)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if string(r.Data) != fmt.Sprint("re:", i) {
				t.Fatalf("reply %d: %q", i, r.Data)
			}
		}

		// One reply per request: a second one to the same reply subject is refused.
		in, err := svc.SubscribeSync("svc.once")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, svc)
		inbox := nats.NewInbox()
		replies, err := admin.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		flush(t, admin)
		if err := admin.PublishRequest("svc.once", inbox, []byte("q")); err != nil {
			t.Fatal(err)
		}
		req := next(t, in)
		if req.Reply != inbox {
			t.Fatalf("reply subject %q, want %q", req.Reply, inbox)
		}
		svc.Publish(req.Reply, []byte("first"))
		svc.Publish(req.Reply, []byte("second"))
		errs.expect(t, fmt.Sprintf(`nats: Permissions Violation for Publish to %q`, inbox))
		// Publishing anywhere else is refused too (no publish allow list).
		svc.Publish("svc.other", []byte("x"))
		errs.expect(t, `nats: Permissions Violation for Publish to "svc.other"`)
		flush(t, svc)
		flush(t, admin)
		if m := next(t, replies); string(m.Data) != "first" {
			t.Fatalf("reply %q, want first", m.Data)
		}
		if n, _, _ := replies.Pending(); n != 0 {
			t.Fatalf("%d extra replies delivered", n)
		}
		if !svc.IsConnected() {
			t.Fatal("responder disconnected")
		}
	})
}

func TestAuthNoAuthUser(t *testing.T) {
	conf := `authorization {
  users = [
    {user: admin, password: admin-pw}
    {user: guest, password: guest-pw, permissions: {
      publish: ["public.>"]
      subscribe: ["public.>", "_INBOX.>"]
    }}
  ]
}
no_auth_user: guest
`
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, conf)
		admin := connect(t, s, nats.UserInfo("admin", "admin-pw"))
		watch, err := admin.SubscribeSync(">")
		if err != nil {
			t.Fatal(err)
		}
		flush(t, admin)

		// No credentials at all: the client becomes guest.
		errs := newAsyncErrs()
		anon := connect(t, s, errs.option())
		anon.Publish("public.news", []byte("hi"))
		anon.Publish("private.news", []byte("no"))
		errs.expect(t, `nats: Permissions Violation for Publish to "private.news"`)
		anon.SubscribeSync("private.>")
		errs.expect(t, `nats: Permissions Violation for Subscription to "private.>"`)
		anon.Publish("public.end", []byte("end"))
		flush(t, anon)
		for _, want := range []string{"public.news", "public.end"} {
			if m := next(t, watch); m.Subject != want {
				t.Fatalf("admin got %s, want %s", m.Subject, want)
			}
		}
		roundTrip(t, anon, "public.rt")

		// Wrong credentials are not downgraded to guest.
		expectAuthFailure(t, s, "wrong password", nats.UserInfo("admin", "nope"))
		expectAuthFailure(t, s, "unknown user", nats.UserInfo("nobody", "x"))
		// Guest's own credentials work and carry the same permissions.
		gerrs := newAsyncErrs()
		guest := connect(t, s, nats.UserInfo("guest", "guest-pw"), gerrs.option())
		guest.Publish("private.x", nil)
		gerrs.expect(t, `nats: Permissions Violation for Publish to "private.x"`)
	})
}

func TestAuthTimeout(t *testing.T) {
	eachServer(t, func(t *testing.T, im impl) {
		s := startServer(t, im, "authorization {\n  user: a\n  password: b\n  timeout: 0.5\n}\n")
		// A client that never sends CONNECT is told and closed.
		rc := rawConnect(t, s)
		if l := rc.line(); l != "-ERR 'Authentication Timeout'" {
			t.Fatalf("got %q, want -ERR 'Authentication Timeout'", l)
		}
		expectClosed(t, rc)
		// A first op other than CONNECT is refused at once.
		rc2 := rawConnect(t, s)
		rc2.send("PING\r\n")
		if l := rc2.line(); l != "-ERR 'Authorization Violation'" {
			t.Fatalf("got %q, want -ERR 'Authorization Violation'", l)
		}
		expectClosed(t, rc2)
		// nats.go connects well within the timeout.
		nc := connect(t, s, nats.UserInfo("a", "b"))
		roundTrip(t, nc, "timeout.rt")
	})
}
