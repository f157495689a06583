package mailbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/claimsd/claimsd/internal/devmail"
)

func TestRunOnceIsIncremental(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 3)
	sink := newFakeSink()
	w, _ := newTestWatcher(t, optionsFor(t, srv), sink)
	ctx := context.Background()

	st, err := w.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{Fetched: 3, Committed: 3, Marked: 3}); st != want {
		t.Errorf("first run: %+v, want %+v", st, want)
	}
	v := uidValidity(t, srv, "INBOX")
	_, _, _, got := sink.snapshot()
	for i, d := range got {
		raw := rawMessage(i + 1)
		want := delivery{
			Mailbox: "INBOX", UIDValidity: v, UID: uint32(i + 1),
			InternalDate: time.Date(2025, 1, 2, 3, 4, i+1, 0, time.UTC),
			Size:         int64(len(raw)), Read: int64(len(raw)), SHA256: sha(raw),
		}
		if !d.InternalDate.Equal(want.InternalDate) {
			t.Errorf("uid %d internal date %v, want %v", d.UID, d.InternalDate, want.InternalDate)
		}
		d.InternalDate = want.InternalDate
		if d != want {
			t.Errorf("delivery %d = %+v, want %+v", i, d, want)
		}
	}

	appendN(t, srv, "INBOX", 4, 2)
	st, err = w.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{Fetched: 2, Committed: 2, Marked: 2}); st != want {
		t.Errorf("second run: %+v, want %+v", st, want)
	}
	cur, committed, pending, deliveries := sink.snapshot()
	if len(deliveries) != 5 || deliveries[3].UID != 4 || deliveries[4].UID != 5 {
		t.Errorf("deliveries after second run: %+v", deliveries)
	}

	// Nothing new: `UID SEARCH UID 6:*` still answers UID 5, which must
	// not be delivered again.
	st, err = w.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{}) {
		t.Errorf("third run: %+v, want nothing", st)
	}
	if cur != (Cursor{UIDValidity: v, LastUID: 5}) {
		t.Errorf("cursor %+v", cur)
	}
	if !slices.Equal(committed, []uint32{1, 2, 3, 4, 5}) || len(pending) != 0 {
		t.Errorf("committed %v, pending %v", committed, pending)
	}
	if got := markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword); !slices.Equal(got, []uint32{1, 2, 3, 4, 5}) {
		t.Errorf("marked on server: %v", got)
	}
	for uid, flags := range flagsByUID(t, srv, "INBOX") {
		if hasFlag(flags, string(imap.FlagSeen)) {
			t.Errorf("uid %d got \\Seen: the fetch must PEEK", uid)
		}
	}
	s := w.State()
	if s.Connected || s.LastSuccess.IsZero() || s.LastError != "" || s.UIDValidity != v {
		t.Errorf("state after runs: %+v", s)
	}
}

func TestMarking(t *testing.T) {
	tests := []struct {
		name      string
		caps      imap.CapSet
		keyword   string
		moveTo    string
		wantMoved bool
	}{
		{name: "keyword only"},
		{name: "custom keyword", keyword: "$Done"},
		{name: "MOVE", moveTo: "Processed", wantMoved: true},
		{name: "COPY and UID EXPUNGE without MOVE", caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}},
			moveTo: "Processed", wantMoved: true},
		{name: "neither MOVE nor UIDPLUS", caps: imap.CapSet{imap.CapIMAP4rev1: {}}, moveTo: "Processed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, devmail.IMAPConfig{Caps: tt.caps, Mailboxes: []string{"Processed"}})
			// UID 1 is someone else's: already past our cursor and flagged
			// \Deleted. Marking and moving ours must leave it alone.
			appendN(t, srv, "INBOX", 1, 4)
			a := admin(t, srv)
			if _, err := a.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			if err := a.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
				Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
				t.Fatal(err)
			}
			sink := newFakeSink()
			sink.cursors["INBOX"] = Cursor{UIDValidity: uidValidity(t, srv, "INBOX"), LastUID: 1}

			opts := optionsFor(t, srv)
			opts.ProcessedKeyword, opts.MoveTo = tt.keyword, tt.moveTo
			w, logs := newTestWatcher(t, opts, sink)
			st, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.Fetched != 3 || st.Marked != 3 {
				t.Errorf("stats %+v, want 3 fetched and marked", st)
			}
			kw := tt.keyword
			if kw == "" {
				kw = DefaultProcessedKeyword
			}
			inbox := flagsByUID(t, srv, "INBOX")
			if flags, ok := inbox[1]; !ok || !hasFlag(flags, string(imap.FlagDeleted)) || hasFlag(flags, kw) {
				t.Errorf("foreign uid 1 changed: present %v, flags %v", ok, flags)
			}
			marked := markedUIDs(t, srv, "INBOX", kw)
			moved := markedUIDs(t, srv, "Processed", kw)
			if tt.wantMoved {
				if len(inbox) != 1 || len(marked) != 0 || len(moved) != 3 {
					t.Errorf("after move: inbox %v, marked %v, moved %v", inbox, marked, moved)
				}
			} else {
				if !slices.Equal(marked, []uint32{2, 3, 4}) || len(flagsByUID(t, srv, "Processed")) != 0 {
					t.Errorf("inbox marked %v, processed %v", marked, moved)
				}
			}
			warned := strings.Contains(logs.String(), "neither MOVE nor UIDPLUS")
			if want := tt.moveTo != "" && !tt.wantMoved; warned != want {
				t.Errorf("warned about missing MOVE: %v, want %v", warned, want)
			}
			if _, _, pending, _ := sink.snapshot(); len(pending) != 0 {
				t.Errorf("pending marks left: %v", pending)
			}
		})
	}
}

// A failed move (here: MoveTo does not exist) must leave the messages
// where they are, marked, and the marks pending.
func TestMoveFailureKeepsMail(t *testing.T) {
	for _, caps := range []imap.CapSet{nil, {imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}} {
		t.Run(fmt.Sprintf("caps %v", slices.Sorted(maps.Keys(caps))), func(t *testing.T) {
			srv := startServer(t, devmail.IMAPConfig{Caps: caps})
			appendN(t, srv, "INBOX", 1, 2)
			sink := newFakeSink()
			opts := optionsFor(t, srv)
			opts.MoveTo = "Missing"
			w, _ := newTestWatcher(t, opts, sink)
			if _, err := w.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "Missing") {
				t.Fatalf("RunOnce = %v, want a move error", err)
			}
			if got := markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword); !slices.Equal(got, []uint32{1, 2}) {
				t.Errorf("INBOX keeps %v marked, want [1 2]", got)
			}
			if _, _, pending, _ := sink.snapshot(); !slices.Equal(pending, []uint32{1, 2}) {
				t.Errorf("pending marks %v, want [1 2]", pending)
			}
		})
	}
}

func TestUIDValidity(t *testing.T) {
	tests := []struct {
		name string
		// setup runs after three messages are in INBOX and returns the
		// expected ResetCursor calls.
		setup       func(t *testing.T, srv *devmail.IMAPServer, w *Watcher, sink *fakeSink) []uint32
		wantChanged bool
	}{
		{
			name: "first run records it",
			setup: func(t *testing.T, srv *devmail.IMAPServer, w *Watcher, sink *fakeSink) []uint32 {
				return []uint32{uidValidity(t, srv, "INBOX")}
			},
		},
		{
			name: "stored cursor from another UIDVALIDITY",
			setup: func(t *testing.T, srv *devmail.IMAPServer, w *Watcher, sink *fakeSink) []uint32 {
				v := uidValidity(t, srv, "INBOX")
				sink.cursors["INBOX"] = Cursor{UIDValidity: v + 100, LastUID: 10}
				return []uint32{v}
			},
			wantChanged: true,
		},
		{
			name: "mailbox recreated on the server",
			setup: func(t *testing.T, srv *devmail.IMAPServer, w *Watcher, sink *fakeSink) []uint32 {
				old := uidValidity(t, srv, "INBOX")
				if _, err := w.RunOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
				a := admin(t, srv)
				if err := a.Delete("INBOX").Wait(); err != nil {
					t.Fatal(err)
				}
				if err := a.Create("INBOX", nil).Wait(); err != nil {
					t.Fatal(err)
				}
				// The new mailbox reuses UIDs 1-3 for other messages.
				appendN(t, srv, "INBOX", 1, 3)
				v := uidValidity(t, srv, "INBOX")
				if v == old {
					t.Fatalf("UIDVALIDITY stayed %d", v)
				}
				return []uint32{old, v}
			},
			wantChanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, devmail.IMAPConfig{})
			appendN(t, srv, "INBOX", 1, 3)
			sink := newFakeSink()
			w, _ := newTestWatcher(t, optionsFor(t, srv), sink)
			wantResets := tt.setup(t, srv, w, sink)

			st, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.UIDValidityChanged != tt.wantChanged || st.Fetched != 3 {
				t.Errorf("stats %+v, want changed=%v and all 3 fetched", st, tt.wantChanged)
			}
			if !slices.Equal(sink.resets, wantResets) {
				t.Errorf("ResetCursor calls %v, want %v", sink.resets, wantResets)
			}
			v := wantResets[len(wantResets)-1]
			cur, committed, _, _ := sink.snapshot()
			if cur != (Cursor{UIDValidity: v, LastUID: 3}) || !slices.Equal(committed, []uint32{1, 2, 3}) {
				t.Errorf("cursor %+v, committed %v", cur, committed)
			}
			if got := w.State().UIDValidity; got != v {
				t.Errorf("State().UIDValidity = %d, want %d", got, v)
			}
		})
	}
}

func TestPendingMarksFlushedFirst(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 3)
	sink := newFakeSink()
	// A crash fell between committing UIDs 1 and 2 and marking them.
	sink.cursors["INBOX"] = Cursor{UIDValidity: uidValidity(t, srv, "INBOX"), LastUID: 2}
	sink.pending[1], sink.pending[2] = true, true
	w, _ := newTestWatcher(t, optionsFor(t, srv), sink)

	st, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{Fetched: 1, Committed: 1, Marked: 3}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if want := [][]uint32{{1, 2}, {3}}; !slices.EqualFunc(sink.marksDone, want, slices.Equal) {
		t.Errorf("MarksDone calls %v, want %v", sink.marksDone, want)
	}
	if got := markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Errorf("marked %v", got)
	}
}

func TestSinkErrorMarksNothing(t *testing.T) {
	errFull := errors.New("disk full")
	tests := []struct {
		name       string
		deliverErr func(uid uint32) error
		flushErr   func() error
	}{
		{name: "deliver fails on the first message", deliverErr: func(uint32) error { return errFull }},
		{name: "deliver fails midway", deliverErr: func(uid uint32) error {
			if uid == 2 {
				return errFull
			}
			return nil
		}},
		{name: "flush fails", flushErr: func() error { return errFull }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, devmail.IMAPConfig{})
			appendN(t, srv, "INBOX", 1, 3)
			sink := newFakeSink()
			sink.deliverErr, sink.flushErr = tt.deliverErr, tt.flushErr
			w, _ := newTestWatcher(t, optionsFor(t, srv), sink)

			if _, err := w.RunOnce(context.Background()); !errors.Is(err, errFull) {
				t.Fatalf("RunOnce = %v, want %v", err, errFull)
			}
			if got := markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword); len(got) != 0 {
				t.Errorf("marked after failure: %v", got)
			}
			if cur, committed, pending, _ := sink.snapshot(); cur.LastUID != 0 || len(committed)+len(pending) != 0 {
				t.Errorf("cursor %+v, committed %v, pending %v", cur, committed, pending)
			}
			if s := w.State(); !strings.Contains(s.LastError, "disk full") {
				t.Errorf("State().LastError = %q", s.LastError)
			}

			// Once the sink recovers, the retry delivers everything once.
			sink.deliverErr, sink.flushErr = nil, nil
			st, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.Committed != 3 || st.Marked != 3 {
				t.Errorf("retry stats %+v", st)
			}
			if got := markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword); !slices.Equal(got, []uint32{1, 2, 3}) {
				t.Errorf("marked after retry: %v", got)
			}
		})
	}
}

func TestBatchesAndFlushes(t *testing.T) {
	tests := []struct {
		name        string
		messages    int
		batch       int
		wantFlushes []int
	}{
		{"windows of two", 5, 2, []int{2, 2, 1}},
		{"flush every FlushEvery", 10, 0, []int{4, 4, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, devmail.IMAPConfig{})
			appendN(t, srv, "INBOX", 1, tt.messages)
			sink := newFakeSink()
			opts := optionsFor(t, srv)
			opts.BatchSize = tt.batch
			if tt.batch == 0 {
				opts.FlushEvery = 4
			}
			w, _ := newTestWatcher(t, opts, sink)
			st, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.Fetched != tt.messages || st.Marked != tt.messages {
				t.Errorf("stats %+v", st)
			}
			if got := sink.flushSizes(); !slices.Equal(got, tt.wantFlushes) {
				t.Errorf("flushes %v, want %v", got, tt.wantFlushes)
			}
			_, _, _, deliveries := sink.snapshot()
			for i, d := range deliveries {
				if d.UID != uint32(i+1) {
					t.Fatalf("delivery %d is uid %d: not in UID order", i, d.UID)
				}
			}
		})
	}
}

func TestLargeMessageStreams(t *testing.T) {
	const size = 20 << 20
	var b bytes.Buffer
	b.WriteString("From: big@example.com\r\nSubject: photos\r\nContent-Type: text/plain\r\n\r\n")
	line := []byte(strings.Repeat("0123456789abcdef", 4) + "\r\n")
	for b.Len() < size {
		b.Write(line)
	}
	raw := b.Bytes()

	srv := startServer(t, devmail.IMAPConfig{})
	if err := srv.Append("INBOX", raw, time.Time{}); err != nil {
		t.Fatal(err)
	}
	sink := newFakeSink()
	sink.beforeRead = func(f Fetched) {
		// The body must be the stream, not a buffer the watcher filled.
		if _, ok := f.Body.(*bodyReader); !ok {
			t.Errorf("Body is %T", f.Body)
		}
	}
	w, _ := newTestWatcher(t, optionsFor(t, srv), sink)
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, _, deliveries := sink.snapshot()
	if len(deliveries) != 1 {
		t.Fatalf("%d deliveries", len(deliveries))
	}
	d := deliveries[0]
	if d.Size != int64(len(raw)) || d.Read != int64(len(raw)) || d.SHA256 != sha(raw) {
		t.Errorf("got size %d, read %d, sha %s; want %d bytes, sha %s", d.Size, d.Read, d.SHA256, len(raw), sha(raw))
	}
}

func TestRunWakesOnIDLE(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 1)
	sink := newFakeSink()
	w, _ := newTestWatcher(t, optionsFor(t, srv), sink) // IDLE on, polling hourly
	w.idleRecheck = time.Hour                           // only IDLE can wake it
	runWatcher(t, w)

	waitUID(t, sink.delivered, 1)
	for i := 2; i <= 3; i++ {
		// Let the cycle finish, so the watcher is (about to be) idling.
		waitFor(t, "cycle to finish", func() bool {
			_, _, pending, deliveries := sink.snapshot()
			return len(deliveries) == i-1 && len(pending) == 0
		})
		appendN(t, srv, "INBOX", i, 1)
		waitUID(t, sink.delivered, uint32(i))
	}
	waitFor(t, "marks", func() bool {
		return slices.Equal(markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword), []uint32{1, 2, 3})
	})
	if s := w.State(); !s.Connected {
		t.Errorf("state %+v, want connected", s)
	}
}

func TestRunPollsWithoutIDLE(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	sink := newFakeSink()
	cycles := make(chan struct{}, 100)
	sink.cursorHook = func(context.Context) { cycles <- struct{}{} }
	opts := optionsFor(t, srv)
	opts.IDLE, opts.PollInterval = false, 20*time.Millisecond
	w, _ := newTestWatcher(t, opts, sink)
	runWatcher(t, w)

	// Several cycles pass on an empty mailbox: the poll timer drives them.
	for range 3 {
		select {
		case <-cycles:
		case <-time.After(guard):
			t.Fatal("no poll cycle")
		}
	}
	appendN(t, srv, "INBOX", 1, 2)
	waitUID(t, sink.delivered, 1)
	waitUID(t, sink.delivered, 2)
}

func TestRunReconnects(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 1)
	sink := newFakeSink()
	w, logs := newTestWatcher(t, optionsFor(t, srv), sink)
	w.idleRecheck = time.Hour
	runWatcher(t, w)
	waitUID(t, sink.delivered, 1)
	// Drop the connection while the watcher idles.
	waitFor(t, "the first cycle to finish", func() bool {
		_, _, pending, _ := sink.snapshot()
		return len(pending) == 0 && w.State().Connected
	})

	if n := srv.DropConnections(); n == 0 {
		t.Fatal("no connection to drop")
	}
	appendN(t, srv, "INBOX", 2, 1)
	waitUID(t, sink.delivered, 2)
	if !strings.Contains(logs.String(), "reconnecting") {
		t.Error("the dropped connection was not logged")
	}
	waitFor(t, "marks", func() bool {
		return slices.Equal(markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword), []uint32{1, 2})
	})
}

func TestRunRetriesAfterSinkError(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 2)
	sink := newFakeSink()
	failures := 2
	sink.deliverErr = func(uid uint32) error {
		if uid == 2 && failures > 0 {
			failures-- // only the watcher goroutine calls Deliver
			return errors.New("disk full")
		}
		return nil
	}
	w, logs := newTestWatcher(t, optionsFor(t, srv), sink)
	runWatcher(t, w)
	waitUID(t, sink.delivered, 2)
	waitFor(t, "marks", func() bool {
		return slices.Equal(markedUIDs(t, srv, "INBOX", DefaultProcessedKeyword), []uint32{1, 2})
	})
	if got := strings.Count(logs.String(), "level=ERROR msg=\"mailbox cycle failed; reconnecting\""); got != 2 {
		t.Errorf("logged %d sink failures at error level, want 2\n%s", got, logs)
	}
}

// Cancelling Run while a message is being delivered lets that delivery
// finish, flushes it and stops before the next message.
func TestRunStopsAfterCurrentDelivery(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 3)
	sink := newFakeSink()
	w, _ := newTestWatcher(t, optionsFor(t, srv), sink)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink.beforeRead = func(f Fetched) {
		if f.UID == 2 {
			cancel() // Body has not been read yet
		}
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Run did not return")
	}

	_, committed, pending, deliveries := sink.snapshot()
	if len(deliveries) != 2 || deliveries[1].SHA256 != sha(rawMessage(2)) {
		t.Errorf("deliveries %+v, want uids 1 and 2 whole", deliveries)
	}
	if !slices.Equal(committed, []uint32{1, 2}) {
		t.Errorf("committed %v, want [1 2]", committed)
	}
	// There was no connection left to mark them on; the next run does.
	if !slices.Equal(pending, []uint32{1, 2}) {
		t.Errorf("pending %v, want [1 2]", pending)
	}
	sink.beforeRead = nil
	st, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Fetched != 1 || st.Marked != 3 {
		t.Errorf("next run: %+v", st)
	}
}

func TestSecurity(t *testing.T) {
	serverTLS := selfSignedTLS(t)
	tests := []struct {
		name       string
		server     devmail.IMAPConfig
		security   Security
		host       string
		skipVerify bool
		wantErr    string // empty: must succeed
	}{
		{name: "implicit TLS", server: devmail.IMAPConfig{TLSConfig: serverTLS, ImplicitTLS: true},
			security: SecurityTLS, skipVerify: true},
		{name: "implicit TLS verifies the certificate", server: devmail.IMAPConfig{TLSConfig: serverTLS, ImplicitTLS: true},
			security: SecurityTLS, wantErr: "certificate"},
		{name: "STARTTLS", server: devmail.IMAPConfig{TLSConfig: serverTLS},
			security: SecuritySTARTTLS, skipVerify: true},
		{name: "STARTTLS verifies the certificate", server: devmail.IMAPConfig{TLSConfig: serverTLS},
			security: SecuritySTARTTLS, wantErr: "certificate"},
		{name: "STARTTLS not offered", security: SecuritySTARTTLS, wantErr: "starttls"},
		{name: "plain text to a remote host", security: SecurityNone, host: "192.0.2.7", wantErr: "refusing"},
		{name: "plain text to localhost", security: SecurityNone, host: "localhost"},
		{name: "unknown security", security: "ssl", wantErr: "unknown security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.server)
			appendN(t, srv, "INBOX", 1, 1)
			opts := optionsFor(t, srv)
			opts.Security, opts.InsecureSkipVerify = tt.security, tt.skipVerify
			if tt.host != "" {
				opts.Host = tt.host
			}
			w, logs := newTestWatcher(t, opts, newFakeSink())
			st, err := w.RunOnce(context.Background())
			if tt.wantErr == "" {
				if err != nil || st.Fetched != 1 {
					t.Fatalf("RunOnce = %+v, %v", st, err)
				}
				return
			}
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), tt.wantErr) {
				t.Fatalf("RunOnce error = %v, want one mentioning %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testPassword) || strings.Contains(logs.String(), testPassword) {
				t.Error("password leaked into an error or the log")
			}
		})
	}
}

func TestWrongPassword(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	opts := optionsFor(t, srv)
	opts.Password = "not-the-" + testPassword
	w, logs := newTestWatcher(t, opts, newFakeSink())
	_, err := w.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "log in") {
		t.Fatalf("RunOnce = %v, want a login error", err)
	}
	if strings.Contains(err.Error(), opts.Password) || strings.Contains(logs.String(), opts.Password) {
		t.Error("password leaked")
	}
	if s := w.State(); s.Connected || !strings.Contains(s.LastError, "log in") {
		t.Errorf("state %+v", s)
	}
}

func TestFetchAllRaw(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 4)
	var want int64
	for i := 1; i <= 4; i++ {
		want += int64(len(rawMessage(i)))
	}
	n, size, err := FetchAllRaw(context.Background(), optionsFor(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || size != want {
		t.Errorf("FetchAllRaw = %d messages, %d bytes; want 4, %d", n, size, want)
	}
	for uid, flags := range flagsByUID(t, srv, "INBOX") {
		if len(flags) != 0 {
			t.Errorf("uid %d flags %v: FetchAllRaw must not change anything", uid, flags)
		}
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, time.Second, 5 * time.Minute} {
		for range 100 {
			if got := jitter(d); got < d/2 || got > d {
				t.Fatalf("jitter(%v) = %v, outside [d/2, d]", d, got)
			}
		}
	}
}

// A message expunged between UID SEARCH and UID FETCH is simply absent
// from the FETCH: the rest of the window is delivered and flushed.
func TestFetchWindowSkipsExpunged(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	appendN(t, srv, "INBOX", 1, 3)
	sink := newFakeSink()
	w, _ := newTestWatcher(t, optionsFor(t, srv), sink)
	ctx := context.Background()
	s, err := w.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(true)

	a := admin(t, srv)
	if _, err := a.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := a.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.UIDExpunge(imap.UIDSetNum(2)).Close(); err != nil {
		t.Fatal(err)
	}
	sink.cursors["INBOX"] = Cursor{UIDValidity: s.uidValidity}

	var st Stats
	committed, err := s.fetchWindow(ctx, []imap.UID{1, 2, 3}, 0, &st)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(committed, []uint32{1, 3}) || st.Fetched != 2 {
		t.Errorf("committed %v, stats %+v; want [1 3]", committed, st)
	}
}
