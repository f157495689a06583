package mailbox

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/claimsd/claimsd/internal/devmail"
)

const (
	testUser     = "claims@example.com"
	testPassword = "s3cret-Pa55"
	// guard bounds waits that only end early when something is wrong.
	guard = 15 * time.Second
)

// delivery is what the fake sink saw of one Deliver call.
type delivery struct {
	Mailbox      string
	UIDValidity  uint32
	UID          uint32
	InternalDate time.Time
	Size         int64 // as the watcher reported it
	Read         int64 // bytes actually read from Body
	SHA256       string
}

// fakeSink is an in-memory Sink. Like a real one it holds deliveries until
// Flush, then commits them, advances the cursor and records pending marks
// until MarksDone.
type fakeSink struct {
	mu         sync.Mutex
	cursors    map[string]Cursor
	pending    map[uint32]bool // marks pending under the cursor's UIDVALIDITY
	held       []delivery
	committed  map[uint32]delivery
	deliveries []delivery // every successful Deliver, in order
	resets     []uint32   // ResetCursor arguments
	flushes    []int      // UIDs returned by each Flush
	marksDone  [][]uint32

	// Hooks, set before the watcher runs.
	beforeRead func(f Fetched)           // called in Deliver before Body is read
	deliverErr func(uid uint32) error    // a non-nil result fails Deliver
	flushErr   func() error              // a non-nil result fails Flush
	delivered  chan uint32               // if set, gets every delivered UID
	cursorHook func(ctx context.Context) // called at each Cursor
}

func newFakeSink() *fakeSink {
	return &fakeSink{
		cursors:   map[string]Cursor{},
		pending:   map[uint32]bool{},
		committed: map[uint32]delivery{},
		delivered: make(chan uint32, 1000),
	}
}

func (s *fakeSink) Cursor(ctx context.Context, mailbox string) (Cursor, error) {
	if s.cursorHook != nil {
		s.cursorHook(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[mailbox], nil
}

func (s *fakeSink) ResetCursor(_ context.Context, mailbox string, uidValidity uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[mailbox] = Cursor{UIDValidity: uidValidity}
	s.pending = map[uint32]bool{}
	s.committed = map[uint32]delivery{}
	s.resets = append(s.resets, uidValidity)
	return nil
}

func (s *fakeSink) Deliver(_ context.Context, f Fetched) error {
	if s.beforeRead != nil {
		s.beforeRead(f)
	}
	h := sha256.New()
	n, err := io.Copy(h, f.Body)
	if err != nil {
		return err
	}
	if s.deliverErr != nil {
		if err := s.deliverErr(f.UID); err != nil {
			return err
		}
	}
	d := delivery{
		Mailbox: f.Mailbox, UIDValidity: f.UIDValidity, UID: f.UID,
		InternalDate: f.InternalDate, Size: f.Size, Read: n,
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}
	s.mu.Lock()
	s.held = append(s.held, d)
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	if s.delivered != nil {
		s.delivered <- f.UID
	}
	return nil
}

func (s *fakeSink) Flush(context.Context) ([]uint32, error) {
	if s.flushErr != nil {
		if err := s.flushErr(); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var uids []uint32
	for _, d := range s.held {
		c := s.cursors[d.Mailbox]
		if c.UIDValidity != d.UIDValidity || slices.Contains(uids, d.UID) {
			continue // held from an aborted run: already redelivered
		}
		s.committed[d.UID] = d
		s.pending[d.UID] = true
		c.LastUID = max(c.LastUID, d.UID)
		s.cursors[d.Mailbox] = c
		uids = append(uids, d.UID)
	}
	s.held = nil
	s.flushes = append(s.flushes, len(uids))
	return uids, nil
}

func (s *fakeSink) PendingMarks(_ context.Context, mailbox string, uidValidity uint32) ([]uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursors[mailbox].UIDValidity != uidValidity {
		return nil, nil
	}
	return slices.Sorted(maps.Keys(s.pending)), nil
}

func (s *fakeSink) MarksDone(_ context.Context, mailbox string, uidValidity uint32, uids []uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cursors[mailbox].UIDValidity == uidValidity {
		for _, uid := range uids {
			delete(s.pending, uid)
		}
	}
	s.marksDone = append(s.marksDone, slices.Clone(uids))
	return nil
}

// snapshot returns copies of the sink's state for assertions.
func (s *fakeSink) snapshot() (cursor Cursor, committed, pending []uint32, deliveries []delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors["INBOX"], slices.Sorted(maps.Keys(s.committed)), slices.Sorted(maps.Keys(s.pending)), slices.Clone(s.deliveries)
}

func (s *fakeSink) flushSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.flushes)
}

// testLog collects log output and mirrors it to t until the test ends
// (server goroutines may log later, which t.Log would panic on).
type testLog struct {
	t    *testing.T
	mu   sync.Mutex
	buf  bytes.Buffer
	done bool
}

func newTestLog(t *testing.T) (*slog.Logger, *testLog) {
	l := &testLog{t: t}
	t.Cleanup(func() {
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if !l.done {
		l.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startServer starts a devmail IMAP server for the test.
func startServer(t *testing.T, cfg devmail.IMAPConfig) *devmail.IMAPServer {
	t.Helper()
	cfg.Username, cfg.Password = testUser, testPassword
	log, _ := newTestLog(t)
	srv, err := devmail.StartIMAPWith(log.With("side", "server"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// optionsFor returns plain-text options for srv (it listens on loopback).
func optionsFor(t *testing.T, srv *devmail.IMAPServer) Options {
	t.Helper()
	host, portStr, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Host: host, Port: port, Security: SecurityNone,
		Username: testUser, Password: testPassword,
		Mailbox: "INBOX", IDLE: true, PollInterval: time.Hour,
	}
}

// newTestWatcher is NewWatcher with timings short enough for tests.
func newTestWatcher(t *testing.T, opts Options, sink Sink) (*Watcher, *testLog) {
	log, tl := newTestLog(t)
	w := NewWatcher(opts, sink, log.With("side", "watcher"))
	w.backoffMin = 20 * time.Millisecond
	w.backoffMax = 200 * time.Millisecond
	w.minCycleGap = 10 * time.Millisecond
	w.dialTimeout = 5 * time.Second
	w.cmdTimeout = guard
	return w, tl
}

// rawMessage is a small complaint numbered i.
func rawMessage(i int) []byte {
	return fmt.Appendf(nil, "From: customer%d@example.com\r\nTo: claims@example.com\r\n"+
		"Subject: complaint %d\r\nMessage-ID: <%d@example.com>\r\n\r\nMy parcel %d never came.\r\n", i, i, i, i)
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// appendN appends messages first..first+n-1 to mailbox.
func appendN(t *testing.T, srv *devmail.IMAPServer, mailbox string, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if err := srv.Append(mailbox, rawMessage(i), time.Date(2025, 1, 2, 3, 4, i%60, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
}

// admin is a second client, playing the mail admin or the user's MUA.
func admin(t *testing.T, srv *devmail.IMAPServer) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(testUser, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// uidValidity asks the server for mailbox's UIDVALIDITY.
func uidValidity(t *testing.T, srv *devmail.IMAPServer, mailbox string) uint32 {
	t.Helper()
	data, err := admin(t, srv).Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return data.UIDValidity
}

// flagsByUID lists the messages of mailbox with their flags, read with a
// separate read-only connection.
func flagsByUID(t *testing.T, srv *devmail.IMAPServer, mailbox string) map[uint32][]imap.Flag {
	t.Helper()
	c := admin(t, srv)
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[uint32(m.UID)] = m.Flags
	}
	return out
}

// hasFlag compares case-insensitively: imapmemserver stores flags in
// lower case.
func hasFlag(flags []imap.Flag, want string) bool {
	return slices.ContainsFunc(flags, func(f imap.Flag) bool { return strings.EqualFold(string(f), want) })
}

// markedUIDs lists the UIDs in mailbox carrying keyword.
func markedUIDs(t *testing.T, srv *devmail.IMAPServer, mailbox, keyword string) []uint32 {
	t.Helper()
	var out []uint32
	for uid, flags := range flagsByUID(t, srv, mailbox) {
		if hasFlag(flags, keyword) {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out
}

// waitUID waits for the sink to deliver want.
func waitUID(t *testing.T, ch <-chan uint32, want uint32) {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
			if got > want {
				t.Fatalf("delivered uid %d, expected %d first", got, want)
			}
		case <-timeout:
			t.Fatalf("uid %d not delivered within %v", want, guard)
		}
	}
}

// waitFor polls cond until it holds; the guard only bounds failures.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runWatcher runs w.Run until the test ends, then checks it returned nil.
func runWatcher(t *testing.T, w *Watcher) (cancel func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(guard):
			t.Errorf("Run did not return after cancel")
		}
	})
	return cancel
}

// selfSignedTLS is a server config with a throwaway certificate for
// 127.0.0.1, which no client trusts.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "devmail test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
