package mailtest

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback in front of a test server, for outage
// tests: it forwards connections to its target, and on request refuses
// them (the server is down), answers them with a fixed greeting and hangs
// up (a server answering 421 or 554), or cuts them after a number of bytes
// from the server (a connection lost in the middle of a FETCH). Point the
// client at Addr instead of the server. StartProxy stops it with
// t.Cleanup.
type Proxy struct {
	Addr string // 127.0.0.1:port, the same across Refuse and Forward
	Port int

	target string

	mu       sync.Mutex
	ln       net.Listener // nil while refusing
	greeting string       // non-empty: answer with it and hang up
	cutAfter int64        // > 0: cut the next cutConns connections after this many bytes from the target
	cutConns int
	conns    map[net.Conn]struct{} // client sides of open connections
	stats    ProxyStats
	served   sync.WaitGroup
	closed   bool
}

// ProxyStats counts what a Proxy did.
type ProxyStats struct {
	Accepted int // connections accepted
	Cut      int // connections cut by CutAfter
	Answered int // connections answered with a greeting and closed
	Dropped  int // connections closed by Drop or Refuse
}

// StartProxy starts a proxy to target (host:port) on a free loopback port
// below the ephemeral range, so that after Refuse the port is still free
// for Forward to listen on again.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, conns: map[net.Conn]struct{}{}}
	for attempt := 0; ; attempt++ {
		ports, err := freePorts("127.0.0.1", 1)
		if err != nil {
			t.Fatalf("mailtest: StartProxy: %v", err)
		}
		p.Port = ports[0]
		p.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
		if err = p.listen(); err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("mailtest: StartProxy: %v", err)
		}
	}
	t.Cleanup(p.close)
	return p
}

// listen opens the listener and serves it; the caller holds no lock.
func (p *Proxy) listen() error {
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.served.Add(1)
	go p.serve(ln)
	return nil
}

func (p *Proxy) serve(ln net.Listener) {
	defer p.served.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Refuse or close
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.stats.Accepted++
		greeting := p.greeting
		var cut int64
		if greeting == "" && p.cutConns > 0 {
			cut = p.cutAfter
			p.cutConns--
		}
		p.conns[c] = struct{}{}
		p.served.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.served.Done()
			defer p.forget(c)
			if greeting != "" {
				p.answer(c, greeting)
				return
			}
			p.forward(c, cut)
		}()
	}
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// answer writes greeting and hangs up, reading whatever the client sends
// for a moment first so that it sees the reply rather than a reset.
func (p *Proxy) answer(c net.Conn, greeting string) {
	p.mu.Lock()
	p.stats.Answered++
	p.mu.Unlock()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, greeting); err != nil {
		return
	}
	buf := make([]byte, 512)
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = c.Read(buf)
}

// forward copies both ways: the client's end of sending is passed on
// (half-close), and the connection ends when the target's side does or
// the client's breaks. With cut > 0 it is closed once cut bytes have come
// from the target: the client reads an end of stream in the middle of
// whatever the server was sending, as when the server dies.
func (p *Proxy) forward(c net.Conn, cut int64) {
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return // the client sees the connection closed, as with a dead server
	}
	defer s.Close()
	go func() {
		if _, err := io.Copy(s, c); err != nil {
			s.Close() // the client broke off: so does the target's side
			return
		}
		if tc, ok := s.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	if cut > 0 {
		if _, err := io.CopyN(c, s, cut); err == nil {
			p.mu.Lock()
			p.stats.Cut++
			p.mu.Unlock()
		}
		return
	}
	_, _ = io.Copy(c, s)
}

// Forward makes the proxy pass connections through again (the default),
// listening again on the same port after Refuse.
func (p *Proxy) Forward(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	p.greeting = ""
	listening := p.ln != nil
	p.mu.Unlock()
	if listening {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := p.listen()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: Proxy.Forward: listening on %s again: %v", p.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Refuse takes the server down: the listener closes, so new connections
// are refused, and open ones are dropped.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	p.Drop()
}

// Answer makes the proxy answer every new connection with greeting (a
// whole reply line with its CRLF, e.g. "421 4.3.2 Service not available\r\n")
// and hang up, as a server refusing service does. Open connections are
// dropped. Forward ends it.
func (p *Proxy) Answer(t testing.TB, greeting string) {
	t.Helper()
	if greeting == "" {
		t.Fatal("mailtest: Proxy.Answer: empty greeting")
	}
	p.Forward(t)
	p.mu.Lock()
	p.greeting = greeting
	p.mu.Unlock()
	p.Drop()
}

// CutAfter makes the next conns connections pass only n bytes from the
// target to the client and then reset: a connection lost half-way
// through a transfer.
func (p *Proxy) CutAfter(n int64, conns int) {
	p.mu.Lock()
	p.cutAfter, p.cutConns = n, conns
	p.mu.Unlock()
}

// Drop closes every open connection (both sides).
func (p *Proxy) Drop() {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.stats.Dropped += len(conns)
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Stats returns the counts so far.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Refuse()
	p.served.Wait()
}
