package mailtest

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// startTalker is a server that greets every connection with greeting and
// then echoes what it reads.
func startTalker(t *testing.T, greeting string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.WriteString(c, greeting); err != nil {
					return
				}
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// talk connects to addr, sends say, half-closes and reads everything.
func talk(t *testing.T, addr, say string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if say != "" {
		if _, err := io.WriteString(c, say); err != nil {
			return "", err
		}
	}
	_ = c.(*net.TCPConn).CloseWrite()
	var got bytes.Buffer
	_, err = io.Copy(&got, c)
	return got.String(), err
}

func TestProxy(t *testing.T) {
	greeting := strings.Repeat("g", 100)
	tests := []struct {
		name    string
		set     func(t *testing.T, p *Proxy)
		want    string // what the client reads
		refused bool   // the connection is refused
		stats   ProxyStats
	}{
		{"forward", func(*testing.T, *Proxy) {}, greeting + "ping", false, ProxyStats{Accepted: 1}},
		{"cut after 10 bytes", func(_ *testing.T, p *Proxy) { p.CutAfter(10, 1) }, greeting[:10], false, ProxyStats{Accepted: 1, Cut: 1}},
		{"answer", func(t *testing.T, p *Proxy) { p.Answer(t, "421 4.3.2 go away\r\n") }, "421 4.3.2 go away\r\n", false, ProxyStats{Accepted: 1, Answered: 1}},
		{"refuse", func(_ *testing.T, p *Proxy) { p.Refuse() }, "", true, ProxyStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := StartProxy(t, startTalker(t, greeting))
			tt.set(t, p)
			got, err := talk(t, p.Addr, "ping")
			if tt.refused {
				if err == nil {
					t.Fatalf("connected and read %q; want refused", got)
				}
			} else if got != tt.want {
				t.Fatalf("read %q (%v), want %q", got, err, tt.want)
			}
			if st := p.Stats(); st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
			// Forward restores the service on the same address, and a
			// cut applies to the number of connections asked for only.
			p.Forward(t)
			if got, err := talk(t, p.Addr, "again"); got != greeting+"again" {
				t.Errorf("after Forward: read %q (%v)", got, err)
			}
		})
	}
}
