package core

// A nats.go CustomDialer whose connection can observe the bytes the server
// sends (to count server PINGs) and can stop reading the socket (to make a
// real slow consumer: nats.go itself never stops reading, it drops messages
// client-side instead, so a blocked handler alone never backs up the server).

import (
	"bytes"
	"net"
	"sync"
	"syscall"
	"time"
)

type tapConn struct {
	net.Conn
	gate chan struct{} // closed = reads flow; see stall/release

	mu      sync.Mutex
	stalled bool
	tail    []byte
	pings   int
	pingCh  chan struct{} // receives one value per server PING (non-blocking)
	release func()
	lenient bool // report failed writes as successful (see tapDialer)
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && c.lenient {
		return len(p), nil
	}
	return n, err
}

func (c *tapConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	stalled := c.stalled
	gate := c.gate
	c.mu.Unlock()
	if stalled {
		<-gate
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

var pingLine = []byte("PING\r\n")

// scan counts "PING\r\n" control lines in the inbound stream. Only used in
// tests that carry no payload containing that text.
func (c *tapConn) scan(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := append(c.tail, b...)
	cnt := bytes.Count(buf, pingLine)
	if cnt > 0 {
		idx := bytes.LastIndex(buf, pingLine)
		buf = buf[idx+len(pingLine):]
	}
	if len(buf) > len(pingLine) {
		buf = buf[len(buf)-len(pingLine):]
	}
	c.tail = append([]byte(nil), buf...)
	c.pings += cnt
	for i := 0; i < cnt; i++ {
		select {
		case c.pingCh <- struct{}{}:
		default:
		}
	}
}

// stall makes every later Read wait until release is called.
func (c *tapConn) stall() {
	c.mu.Lock()
	c.stalled = true
	c.mu.Unlock()
}

func (c *tapConn) serverPings() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pings
}

type tapDialer struct {
	rcvBuf int // SO_RCVBUF set before connecting (0 = kernel default)
	// lenientWrites hides write errors from nats.go so that it goes on to
	// read what the server sent before closing. A server that writes an
	// -ERR and closes at once races the client's CONNECT: the write may fail
	// with EPIPE/ECONNRESET before nats.go reads the -ERR (this happens with
	// nats-server too), which would hide the server's reason.
	lenientWrites bool
	mu            sync.Mutex
	conns         []*tapConn
	pingCh        chan struct{}
}

func newTapDialer(rcvBuf int) *tapDialer {
	return &tapDialer{rcvBuf: rcvBuf, pingCh: make(chan struct{}, 1024)}
}

func (d *tapDialer) Dial(network, address string) (net.Conn, error) {
	nd := net.Dialer{Timeout: 5 * time.Second}
	if d.rcvBuf > 0 {
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, d.rcvBuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := nd.Dial(network, address)
	if err != nil {
		return nil, err
	}
	gate, release := signal()
	tc := &tapConn{Conn: c, gate: gate, release: release, pingCh: d.pingCh, lenient: d.lenientWrites}
	d.mu.Lock()
	d.conns = append(d.conns, tc)
	d.mu.Unlock()
	return tc, nil
}

// last returns the most recently dialled connection.
func (d *tapDialer) last() *tapConn {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.conns) == 0 {
		return nil
	}
	return d.conns[len(d.conns)-1]
}

func (d *tapDialer) releaseAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.release()
	}
}
