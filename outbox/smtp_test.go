package outbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
)

// smtpScript tells the test server how to answer, keyed by recipient (or
// by envelope sender for MAIL). Recipients not named are accepted.
type smtpScript struct {
	mail  map[string]error // reply to MAIL FROM, by sender
	rcpt  map[string]error // reply to RCPT TO
	data  map[string]error // final reply to DATA
	drop  map[string]bool  // close the connection after the data instead of replying
	stall map[string]bool  // never reply to the data (until the test ends)
	// user and pass, when set, are the only AUTH PLAIN credentials
	// accepted, and MAIL needs them.
	user, pass string
	discard    bool // accept without keeping the messages
}

// receivedMail is one message the test server accepted.
type receivedMail struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

// testSMTP is an in-process go-smtp server on 127.0.0.1.
type testSMTP struct {
	host string
	port int

	script  smtpScript
	release chan struct{} // closed at the end of the test: stalls end

	mu    sync.Mutex
	got   []receivedMail
	peers map[string]bool // client addresses: connections made
	proto bytes.Buffer    // the whole conversation, both ways
}

type smtpServerMode int

const (
	plainServer    smtpServerMode = iota
	startTLSServer                // offers STARTTLS with a self-signed certificate
	implicitTLS                   // TLS from the first byte
)

func startTestSMTP(tb testing.TB, script smtpScript, mode smtpServerMode) *testSMTP {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return serveTestSMTP(tb, ln, script, mode)
}

// serveTestSMTP serves on ln until the test ends.
func serveTestSMTP(tb testing.TB, ln net.Listener, script smtpScript, mode smtpServerMode) *testSMTP {
	tb.Helper()
	s := &testSMTP{script: script, release: make(chan struct{}), peers: map[string]bool{}}
	s.host, s.port = hostPort(tb, ln.Addr().String())
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.peers[c.Conn().RemoteAddr().String()] = true
		s.mu.Unlock()
		return &testSession{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.Debug = lockedWriter{mu: &s.mu, w: &s.proto}
	switch mode {
	case startTLSServer:
		srv.TLSConfig = selfSignedTLS(tb)
	case implicitTLS:
		ln = tls.NewListener(ln, selfSignedTLS(tb))
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		close(s.release)
		_ = srv.Close()
		// Serve registers the listener only once it runs: a Close before
		// that would leave it accepting.
		_ = ln.Close()
		<-served
	})
	return s
}

func hostPort(tb testing.TB, addr string) (string, int) {
	tb.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	var port int
	if _, err := fmt.Sscan(p, &port); err != nil {
		tb.Fatal(err)
	}
	return host, port
}

func (s *testSMTP) config() SMTPConfig {
	return SMTPConfig{Host: s.host, Port: s.port, Security: SecurityNone, HeloName: "claimsd.test", Timeout: 5 * time.Second}
}

func (s *testSMTP) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.got...)
}

func (s *testSMTP) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

func (s *testSMTP) conversation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proto.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// testSession plays the script for one connection.
type testSession struct {
	srv    *testSMTP
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if s.srv.script.user == "" || user != s.srv.script.user || pass != s.srv.script.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.script.user != "" && !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if err := s.srv.script.mail[from]; err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.srv.script.rcpt[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	sc, to := s.srv.script, s.to[0]
	switch {
	case sc.drop[to]:
		return s.conn.Conn().Close()
	case sc.stall[to]:
		<-s.srv.release
		return errors.New("stalled")
	case sc.data[to] != nil:
		return sc.data[to]
	}
	if sc.discard {
		return nil
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, receivedMail{From: s.from, To: append([]string(nil), s.to...), Data: data, TLS: isTLS})
	s.srv.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

// selfSignedTLS is a server configuration with a fresh self-signed
// certificate for 127.0.0.1 and localhost.
func selfSignedTLS(tb testing.TB) *tls.Config {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "claimsd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// deliveryItem is an outbox item for recipient to.
func deliveryItem(id uint64, to string) store.OutboxItem {
	return store.OutboxItem{
		ID:            id,
		CaseID:        "CLM-2026-000123",
		Purpose:       "ack",
		MessageID:     fmt.Sprintf("CLM-2026-000123.o%d.x@sklep.example", id),
		From:          message.Address{Name: "Dział Reklamacji", Addr: "reklamacje@sklep.example"},
		To:            message.Address{Name: "Klient", Addr: to},
		EnvelopeFrom:  fmt.Sprintf("bounce+%d@sklep.example", id),
		Subject:       "Re: Pęknięty ekran [CLM-2026-000123]",
		AutoSubmitted: "auto-replied",
		Text:          "Dzień dobry,\nprzyjęliśmy reklamację.\n",
		HTML:          "<p>Dzień dobry</p>",
		Date:          time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),
	}
}

func deliveryItems(to ...string) []store.OutboxItem {
	items := make([]store.OutboxItem, len(to))
	for i, addr := range to {
		items[i] = deliveryItem(uint64(i+1), addr)
	}
	return items
}

// errClass names the class of err for test messages.
func errClass(err error) string {
	switch {
	case err == nil:
		return "delivered"
	case Temporary(err):
		return "temporary"
	case IsConfigError(err):
		return "config"
	}
	return "permanent"
}

func TestDeliverOverOneConnection(t *testing.T) {
	srv := startTestSMTP(t, smtpScript{}, plainServer)
	items := deliveryItems("a@example.net", "b@example.net", "c@example.net")
	items[2].HTML = "" // a single-part message too
	errs := NewSMTP(srv.config()).Deliver(context.Background(), items)
	for i, err := range errs {
		if err != nil {
			t.Errorf("item %d: %v", i, err)
		}
	}
	got := srv.received()
	if len(got) != 3 {
		t.Fatalf("server got %d messages, want 3", len(got))
	}
	for i, m := range got {
		want, err := Render(&items[i])
		if err != nil {
			t.Fatal(err)
		}
		// The DATA terminator needs the message to end in CRLF; the SMTP
		// client adds one when it does not (RFC 5321 §4.1.1.4).
		if !bytes.Equal(m.Data, want) && !bytes.Equal(m.Data, append(want, "\r\n"...)) {
			t.Errorf("message %d differs from Render:\n%q\n%q", i, m.Data, want)
		}
		if m.From != items[i].EnvelopeFrom || len(m.To) != 1 || m.To[0] != items[i].To.Addr {
			t.Errorf("message %d: MAIL FROM %s RCPT %v", i, m.From, m.To)
		}
	}
	if n := srv.connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	if n := strings.Count(srv.conversation(), "RSET\r\n"); n != 3 {
		t.Errorf("%d RSET commands, want one after each message", n)
	}
	if !strings.Contains(srv.conversation(), "QUIT\r\n") {
		t.Error("session not ended with QUIT")
	}
}

// TestDeliverRefusals: each case refuses the first item; the second, in
// the same call, must still be delivered.
func TestDeliverRefusals(t *testing.T) {
	const bad, good = "bad@example.net", "good@example.net"
	smtpErr := func(code int, enh smtp.EnhancedCode, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
	}
	tests := []struct {
		name       string
		script     smtpScript
		want       string
		code       int
		status     string
		nextPasses bool
	}{
		{"451 to RCPT", smtpScript{rcpt: map[string]error{bad: smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Try again later")}}, "temporary", 451, "4.3.0", true},
		{"550 to RCPT", smtpScript{rcpt: map[string]error{bad: smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user")}}, "permanent", 550, "5.1.1", true},
		{"552 to RCPT", smtpScript{rcpt: map[string]error{bad: smtpErr(552, smtp.EnhancedCode{5, 2, 2}, "Mailbox full")}}, "temporary", 552, "5.2.2", true},
		{"relay denied", smtpScript{rcpt: map[string]error{bad: smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "<bad@example.net>: Relay access denied")}}, "config", 554, "5.7.1", true},
		{"554 to the data", smtpScript{data: map[string]error{bad: smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "Message rejected as spam")}}, "permanent", 554, "5.7.1", true},
		{"452 to the data", smtpScript{data: map[string]error{bad: smtpErr(452, smtp.EnhancedCode{4, 3, 1}, "Insufficient system storage")}}, "temporary", 452, "4.3.1", true},
		{"421 to the data", smtpScript{data: map[string]error{bad: smtpErr(421, smtp.EnhancedCode{4, 3, 2}, "Shutting down")}}, "temporary", 421, "4.3.2", false},
		{"553 to MAIL FROM", smtpScript{mail: map[string]error{"bounce+1@sklep.example": smtpErr(553, smtp.EnhancedCode{5, 7, 1}, "Sender not owned by user")}}, "config", 553, "5.7.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTestSMTP(t, tt.script, plainServer)
			errs := NewSMTP(srv.config()).Deliver(context.Background(), deliveryItems(bad, good))
			if got := errClass(errs[0]); got != tt.want {
				t.Errorf("first item %s (%v), want %s", got, errs[0], tt.want)
			}
			var de *DeliveryError
			if !errors.As(errs[0], &de) || de.Code != tt.code || de.Status != tt.status {
				t.Errorf("error %#v, want code %d status %s", errs[0], tt.code, tt.status)
			}
			if tt.nextPasses && (errs[1] != nil || len(srv.received()) != 1) {
				t.Errorf("next item: %v, server got %d", errs[1], len(srv.received()))
			}
			if !tt.nextPasses && !Temporary(errs[1]) {
				t.Errorf("next item after 421: %v", errs[1])
			}
		})
	}
}

func TestDeliverConnectionDropped(t *testing.T) {
	tests := []struct {
		name string
		to   []string
		want []string
	}{
		{"first item", []string{"drop@example.net", "b@example.net", "c@example.net"}, []string{"temporary", "temporary", "temporary"}},
		{"second item", []string{"a@example.net", "drop@example.net", "c@example.net"}, []string{"delivered", "temporary", "temporary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTestSMTP(t, smtpScript{drop: map[string]bool{"drop@example.net": true}}, plainServer)
			start := time.Now()
			errs := NewSMTP(srv.config()).Deliver(context.Background(), deliveryItems(tt.to...))
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			for i, err := range errs {
				if got := errClass(err); got != tt.want[i] {
					t.Errorf("item %d: %s (%v), want %s", i, got, err, tt.want[i])
				}
			}
			last := errs[len(errs)-1]
			if !strings.Contains(last.Error(), "not attempted") {
				t.Errorf("last item: %v", last)
			}
		})
	}
}

func TestDeliverConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, ln.Addr().String())
	ln.Close()
	errs := NewSMTP(SMTPConfig{Host: host, Port: port, Security: SecurityNone, Timeout: 2 * time.Second}).
		Deliver(context.Background(), deliveryItems("a@example.net", "b@example.net"))
	for i, err := range errs {
		if !Temporary(err) || IsConfigError(err) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("item %d: %s: %v", i, errClass(err), err)
		}
	}
}

func TestDeliverAuth(t *testing.T) {
	const user, pass = "reklamacje", "s3cret-Pass"
	tests := []struct {
		name, user, pass string
		want             string
	}{
		{"correct", user, pass, "delivered"},
		{"wrong password", user, "wrong-Pass", "config"},
		{"unknown user", "nobody", pass, "config"},
		{"no credentials", "", "", "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTestSMTP(t, smtpScript{user: user, pass: pass}, plainServer)
			cfg := srv.config()
			cfg.Username, cfg.Password = tt.user, tt.pass
			errs := NewSMTP(cfg).Deliver(context.Background(), deliveryItems("a@example.net", "b@example.net"))
			for i, err := range errs {
				if got := errClass(err); got != tt.want {
					t.Errorf("item %d: %s (%v), want %s", i, got, err, tt.want)
				}
				if err != nil && (strings.Contains(err.Error(), tt.pass) && tt.pass != "") {
					t.Errorf("item %d: the error shows the password: %v", i, err)
				}
			}
			if tt.want == "delivered" && len(srv.received()) != 2 {
				t.Errorf("server got %d messages", len(srv.received()))
			}
		})
	}
}

func TestDeliverTLS(t *testing.T) {
	tests := []struct {
		name     string
		mode     smtpServerMode
		security string
		host     string
		skip     bool
		want     string
	}{
		{"starttls self-signed, verified", startTLSServer, SecuritySTARTTLS, "127.0.0.1", false, "config"},
		{"starttls self-signed, not verified", startTLSServer, SecuritySTARTTLS, "127.0.0.1", true, "delivered"},
		{"starttls wanted, not offered", plainServer, SecuritySTARTTLS, "127.0.0.1", true, "config"},
		{"implicit self-signed, verified", implicitTLS, SecurityTLS, "localhost", false, "config"},
		{"implicit self-signed, not verified", implicitTLS, SecurityTLS, "localhost", true, "delivered"},
		{"implicit TLS to a plain server", plainServer, SecurityTLS, "127.0.0.1", true, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTestSMTP(t, smtpScript{}, tt.mode)
			cfg := srv.config()
			cfg.Host, cfg.Security, cfg.InsecureSkipVerify, cfg.Timeout = tt.host, tt.security, tt.skip, 2*time.Second
			errs := NewSMTP(cfg).Deliver(context.Background(), deliveryItems("a@example.net"))
			if got := errClass(errs[0]); got != tt.want {
				t.Fatalf("%s (%v), want %s", got, errs[0], tt.want)
			}
			if tt.want == "delivered" && (len(srv.received()) != 1 || !srv.received()[0].TLS) {
				t.Errorf("not received over TLS: %+v", srv.received())
			}
		})
	}
}

func TestDeliverCertificateErrorIsClear(t *testing.T) {
	srv := startTestSMTP(t, smtpScript{}, startTLSServer)
	cfg := srv.config()
	cfg.Security = SecuritySTARTTLS
	err := NewSMTP(cfg).Deliver(context.Background(), deliveryItems("a@example.net"))[0]
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v", err)
	}
}

func TestDeliverContextCancelled(t *testing.T) {
	srv := startTestSMTP(t, smtpScript{stall: map[string]bool{"slow@example.net": true}}, plainServer)
	cfg := srv.config()
	cfg.Timeout = time.Minute // the context, not the timeout, must end it
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	errs := NewSMTP(cfg).Deliver(ctx, deliveryItems("slow@example.net", "b@example.net"))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %v", d)
	}
	for i, err := range errs {
		if !Temporary(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("item %d: %s: %v", i, errClass(err), err)
		}
	}
}

func TestDeliverContextCancelledBefore(t *testing.T) {
	srv := startTestSMTP(t, smtpScript{}, plainServer)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := NewSMTP(srv.config()).Deliver(ctx, deliveryItems("a@example.net", "b@example.net"))
	for i, err := range errs {
		if !Temporary(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("item %d: %v", i, err)
		}
	}
	if n := srv.connections(); n != 0 {
		t.Errorf("%d connections", n)
	}
}

// TestDeliverComposeFailure: an item that cannot be written fails alone.
func TestDeliverComposeFailure(t *testing.T) {
	srv := startTestSMTP(t, smtpScript{}, plainServer)
	items := deliveryItems("a@example.net", "b@example.net", "c@example.net")
	items[0].To.Addr = "not an address"
	items[1].MessageID = "broken"
	errs := NewSMTP(srv.config()).Deliver(context.Background(), items)
	want := []string{"permanent", "config", "delivered"}
	for i, err := range errs {
		if got := errClass(err); got != want[i] {
			t.Errorf("item %d: %s (%v), want %s", i, got, err, want[i])
		}
	}
}

// TestDeliverIPv6Host: go-mail alone would dial "::1:port".
func TestDeliverIPv6Host(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := serveTestSMTP(t, ln, smtpScript{}, plainServer)
	errs := NewSMTP(srv.config()).Deliver(context.Background(), deliveryItems("a@example.net"))
	if errs[0] != nil || len(srv.received()) != 1 {
		t.Errorf("%v, server got %d", errs[0], len(srv.received()))
	}
}

func TestDeliverBadConfig(t *testing.T) {
	errs := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: 1, Security: "ssl"}).
		Deliver(context.Background(), deliveryItems("a@example.net"))
	if !IsConfigError(errs[0]) || Temporary(errs[0]) {
		t.Errorf("%s: %v", errClass(errs[0]), errs[0])
	}
}

// TestDeliverResetsAfterRefusedData: go-mail sends no RSET after a
// refused DATA command, and a server then refuses the next MAIL FROM as a
// nested transaction (RFC 5321 §4.1.4) unless Deliver resets.
func TestDeliverResetsAfterRefusedData(t *testing.T) {
	host, port, served := startStrictServer(t)
	errs := NewSMTP(SMTPConfig{Host: host, Port: port, Security: SecurityNone, Timeout: 5 * time.Second}).
		Deliver(context.Background(), deliveryItems("a@example.net", "b@example.net"))
	if !Temporary(errs[0]) || errs[1] != nil {
		t.Errorf("errors %v; %v", errs[0], errs[1])
	}
	if n := <-served; n != 1 {
		t.Errorf("server accepted %d messages, want 1", n)
	}
}

// startStrictServer runs a hand-written SMTP server for one connection
// that refuses the first DATA command with 451, keeps the transaction
// open, and refuses MAIL inside an open transaction with 503. It reports
// the number of messages it accepted when the client quits.
func startStrictServer(t *testing.T) (string, int, <-chan int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	served := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- -1
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		served <- strictSession(textproto.NewConn(c))
	}()
	host, port := hostPort(t, ln.Addr().String())
	return host, port, served
}

func strictSession(tc *textproto.Conn) int {
	inTx, refused, accepted := false, false, 0
	_ = tc.PrintfLine("220 localhost ESMTP strict")
	for {
		line, err := tc.ReadLine()
		if err != nil {
			return accepted
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			_ = tc.PrintfLine("250 localhost")
		case verb == "MAIL" && inTx:
			_ = tc.PrintfLine("503 5.5.1 Error: nested MAIL command")
		case verb == "MAIL":
			inTx = true
			_ = tc.PrintfLine("250 2.1.0 Ok")
		case verb == "RCPT" || verb == "NOOP":
			_ = tc.PrintfLine("250 2.1.5 Ok")
		case verb == "DATA" && !refused:
			refused = true
			_ = tc.PrintfLine("451 4.3.0 Try again later")
		case verb == "DATA":
			_ = tc.PrintfLine("354 End data with <CR><LF>.<CR><LF>")
			if _, err := io.Copy(io.Discard, tc.DotReader()); err != nil {
				return accepted
			}
			inTx = false
			accepted++
			_ = tc.PrintfLine("250 2.0.0 Ok: queued")
		case verb == "RSET":
			inTx = false
			_ = tc.PrintfLine("250 2.0.0 Ok")
		case verb == "QUIT":
			_ = tc.PrintfLine("221 2.0.0 Bye")
			return accepted
		default:
			_ = tc.PrintfLine("502 5.5.2 Error: command not recognized")
		}
	}
}

func TestReplyClass(t *testing.T) {
	tests := []struct {
		stage smtpStage
		code  int
		text  string
		want  errorClass
	}{
		{stageSession, 421, "4.3.2 Service not available", classTemporary},
		{stageSession, 454, "4.7.0 Temporary authentication failure", classTemporary},
		{stageSession, 535, "5.7.8 Authentication credentials invalid", classConfig},
		{stageSession, 554, "5.7.1 No SMTP service here", classConfig},
		{stageMail, 451, "4.3.0 Try later", classTemporary},
		{stageMail, 530, "5.7.0 Authentication required", classConfig},
		{stageMail, 550, "5.7.60 Client does not have permissions to send as this sender", classConfig},
		{stageRcpt, 450, "4.2.0 Greylisted", classTemporary},
		{stageRcpt, 550, "5.1.1 User unknown", classPermanent},
		{stageRcpt, 552, "5.2.2 Mailbox full", classTemporary},
		{stageRcpt, 554, "5.7.1 <x@y>: Relay access denied", classConfig},
		{stageRcpt, 550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain", classConfig},
		{stageRcpt, 550, "5.7.1 Recipient rejected by policy", classPermanent},
		{stageData, 552, "5.3.4 Message too big", classPermanent},
		{stageData, 554, "5.6.0 Message rejected", classPermanent},
		{stageData, 451, "4.7.1 Please try again", classTemporary},
		{stageData, 600, "nonsense", classTemporary},
		{stageMail, 503, "5.5.1 Error: nested MAIL command", classConfig},
		{stageRcpt, 501, "5.1.3 Bad recipient address syntax", classPermanent},
		{stageData, 502, "5.5.1 Command not implemented", classConfig},
	}
	for _, tt := range tests {
		if got := replyClass(tt.stage, tt.code, tt.text); got != tt.want {
			t.Errorf("replyClass(%d, %d, %q) = %d, want %d", tt.stage, tt.code, tt.text, got, tt.want)
		}
	}
}

type declaresTemporary struct{}

func (declaresTemporary) Error() string   { return "busy" }
func (declaresTemporary) Temporary() bool { return true }

func TestClassifyForeignErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, "delivered"},
		{"cancelled", fmt.Errorf("sending: %w", context.Canceled), "temporary"},
		{"deadline", context.DeadlineExceeded, "temporary"},
		{"EOF", io.EOF, "temporary"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, "temporary"},
		{"closed", net.ErrClosed, "temporary"},
		{"declares temporary", declaresTemporary{}, "temporary"},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "config"},
		{"reply 451", &textproto.Error{Code: 451, Msg: "later"}, "temporary"},
		{"reply 550", &textproto.Error{Code: 550, Msg: "no"}, "permanent"},
		{"reply 535", &textproto.Error{Code: 535, Msg: "bad credentials"}, "config"},
		{"anything else", errors.New("boom"), "permanent"},
	}
	for _, tt := range tests {
		if got := errClass(tt.err); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestEnhancedStatus(t *testing.T) {
	tests := []struct{ text, want string }{
		{"550 5.1.1 No such user", "5.1.1"},
		{"5.7.8 Authentication failed", "5.7.8"},
		{"451 Try again later", ""},
		{"250 2.0.0 Ok", "2.0.0"},
		{"550 No 5.1.1 here", ""},
		{`550 "5.1.1 No such user"`, "5.1.1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := enhancedStatus(tt.text); got != tt.want {
			t.Errorf("enhancedStatus(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSMTPConfigHidesPassword(t *testing.T) {
	cfg := SMTPConfig{Host: "smtp.example.com", Port: 587, Security: SecuritySTARTTLS, Username: "u", Password: "hunter2-secret"}
	tr := NewSMTP(cfg)
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg),
		fmt.Sprintf("%v", struct{ C SMTPConfig }{cfg}), cfg.LogValue().String(), fmt.Sprintf("%+v", tr), fmt.Sprint(tr)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password shown: %s", s)
		}
	}
}

func TestNewSMTPDefaults(t *testing.T) {
	tests := []struct {
		in       SMTPConfig
		security string
		port     int
	}{
		{SMTPConfig{Host: "h"}, SecuritySTARTTLS, 587},
		{SMTPConfig{Host: "h", Security: SecurityTLS}, SecurityTLS, 465},
		{SMTPConfig{Host: "h", Security: SecurityNone}, SecurityNone, 25},
		{SMTPConfig{Host: "h", Security: SecurityTLS, Port: 2465}, SecurityTLS, 2465},
	}
	for _, tt := range tests {
		s := NewSMTP(tt.in)
		if s.cfg.Security != tt.security || s.cfg.Port != tt.port || s.cfg.Timeout != defaultSMTPTimeout {
			t.Errorf("NewSMTP(%v) = %+v", tt.in, s.cfg)
		}
	}
}

// BenchmarkDeliverGoSMTP measures items per second delivered to an
// in-process go-smtp sink over one connection, in batches of 50.
func BenchmarkDeliverGoSMTP(b *testing.B) {
	srv := startTestSMTP(b, smtpScript{discard: true}, plainServer)
	tr := NewSMTP(srv.config())
	items := make([]store.OutboxItem, 50)
	for i := range items {
		items[i] = deliveryItem(uint64(i+1), fmt.Sprintf("c%d@example.net", i))
	}
	ctx := context.Background()
	for b.Loop() {
		for i, err := range tr.Deliver(ctx, items) {
			if err != nil {
				b.Fatalf("item %d: %v", i, err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "items/s")
}
