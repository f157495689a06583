package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/deadline"
	"github.com/claimsd/claimsd/internal/benchdata"
	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const opsUser, opsPass = "reklamacje@sklep.example", "ops-test-password"

// opsServers are the in-process IMAP server and SMTP sink a test daemon
// talks to; each is closed once, by the test or at its end.
type opsServers struct {
	imap      *devmail.IMAPServer
	smtp      *devmail.SMTPSink
	closeIMAP func()
	closeSMTP func()
}

func startOpsServers(t *testing.T) *opsServers {
	t.Helper()
	imapSrv, err := devmail.StartIMAP(nil, opsUser, opsPass)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := devmail.StartSMTPSink(nil)
	if err != nil {
		imapSrv.Close()
		t.Fatal(err)
	}
	s := &opsServers{imap: imapSrv, smtp: sink,
		closeIMAP: sync.OnceFunc(func() { imapSrv.Close() }), closeSMTP: sync.OnceFunc(func() { sink.Close() })}
	t.Cleanup(s.closeIMAP)
	t.Cleanup(s.closeSMTP)
	return s
}

// opsConfig writes a configuration for the servers, with extra YAML at
// its end, and returns its path.
func opsConfig(t *testing.T, dir string, s *opsServers, extra string) string {
	t.Helper()
	pw := filepath.Join(dir, "imap-password")
	if err := os.WriteFile(pw, []byte(opsPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	imapHost, imapPort, _ := net.SplitHostPort(s.imap.Addr)
	smtpHost, smtpPort, _ := net.SplitHostPort(s.smtp.Addr)
	yaml := fmt.Sprintf(`data_dir: %s
timezone: Europe/Warsaw
claims_address: %s
log: {level: info}
imap:
  host: %s
  port: %s
  security: none
  username: %s
  password_file: %s
  poll_interval: 5s
smtp:
  host: %s
  port: %s
  security: none
  from: "Dział Reklamacji <%s>"
outbox:
  retry_initial: 1s
staff:
  - {name: Anna Nowak, email: anna@sklep.example, role: specialist}
%s`, filepath.Join(dir, "data"), opsUser, imapHost, imapPort, opsUser, pw, smtpHost, smtpPort, opsUser, extra)
	p := filepath.Join(dir, "claimsd.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// opsComplaint is complaint i; with attachBytes > 0 it carries a photo
// of that many random bytes (over about 190 KB the raw message is over
// store.InlineRawLimit and kept as a file).
func opsComplaint(i, attachBytes int, extraHeaders string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Klient %d <klient+%d@example.net>\r\nTo: %s\r\nSubject: Reklamacja nr %d\r\nMessage-ID: <ops-%d@example.net>\r\nDate: %s\r\nMIME-Version: 1.0\r\n%s",
		i, i, opsUser, i, i, time.Now().Format(time.RFC1123Z), extraHeaders)
	text := fmt.Sprintf("Dzień dobry, ekran telefonu nr %d pękł po tygodniu. Proszę o naprawę.\r\n", i)
	if attachBytes == 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text)
		return []byte(b.String())
	}
	photo := make([]byte, attachBytes)
	rng := rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)})
	rng.Read(photo)
	enc := base64.StdEncoding.EncodeToString(photo)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text)
	b.WriteString("--b\r\nContent-Type: image/jpeg; name=\"zdjecie.jpg\"\r\nContent-Disposition: attachment; filename=\"zdjecie.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return []byte(b.String())
}

// freeLocalAddr is a loopback address nothing listens on right now.
func freeLocalAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrape reads /metrics with Prometheus' own text parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: %s\n%s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue is the value of the series of name with the given labels
// (name=value pairs); ok is false when there is no such series.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func getHealth(t *testing.T, addr string) (int, healthView) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v healthView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("/healthz body: %v", err)
	}
	return resp.StatusCode, v
}

// TestMetricsAndHealth runs the daemon against in-process IMAP and SMTP
// servers, scrapes /metrics over a real socket and checks each figure
// against the store; /healthz is 200 until a mail is stuck in the outbox,
// the IMAP server stops and an added check fails, and then names all
// three.
func TestMetricsAndHealth(t *testing.T) {
	srv := startOpsServers(t)
	addr := freeLocalAddr(t)
	dir := t.TempDir()
	cfgPath := opsConfig(t, dir, srv, fmt.Sprintf("metrics:\n  listen: %q\n  poll_stale_after: 1m\n  outbox_stuck_after: 1m\n", addr))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf strings.Builder
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logBuf}, nil))
	d, err := openDaemon(cfg, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The hook another part of the daemon (OAuth2) appends to.
	var credentialsExpired atomic.Bool
	d.healthChecks = append(d.healthChecks, func(time.Time) error {
		if credentialsExpired.Load() {
			return errors.New("imap credentials: refresh token revoked")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- d.serve(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		d.Close()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			logMu.Lock()
			t.Logf("daemon log:\n%s", logBuf.String())
			logMu.Unlock()
		}
	})

	now := time.Now()
	mails := [][]byte{
		opsComplaint(1, 0, ""),
		opsComplaint(2, 0, ""),
		opsComplaint(3, 0, ""),
		opsComplaint(4, 0, ""), // received 30 days ago: past both deadlines
		opsComplaint(5, 0, "Auto-Submitted: auto-replied\r\n"),
		[]byte("From: Anna Nowak <anna@sklep.example>\r\nTo: " + opsUser + "\r\nSubject: grafik\r\nMessage-ID: <staff-1@sklep.example>\r\n\r\nJutro mnie nie ma.\r\n"),
	}
	for i, raw := range mails {
		at := now
		if i == 3 {
			at = now.AddDate(0, 0, -30)
		}
		if err := srv.imap.Append("INBOX", raw, at); err != nil {
			t.Fatal(err)
		}
	}
	counters := func() map[string]uint64 {
		var c map[string]uint64
		d.db.View(func(tx *store.Tx) error { c = tx.Counters(); return nil })
		return c
	}
	pending := func() int {
		var w store.OutboxWaiting
		d.db.View(func(tx *store.Tx) (err error) { w, err = tx.OutboxWaiting(); return err })
		return w.Pending[store.OutboxQueued] + w.Pending[store.OutboxSending]
	}
	waitFor(t, 30*time.Second, "six messages committed and their mail sent", func() bool {
		return counters()[store.CountIngested] == 6 && pending() == 0
	})
	var first store.Message
	d.db.View(func(tx *store.Tx) error {
		seq, _ := tx.MessageSeqByID("ops-1@example.net")
		first, _, _ = tx.Message(seq)
		return nil
	})
	if _, err := setCaseStatus(d.db, d.policy, first.CaseID, store.StatusResolved, time.Now()); err != nil {
		t.Fatalf("resolve the case of complaint 1 (%q): %v", first.CaseID, err)
	}

	fams := scrape(t, addr)
	scrapedAt := time.Now()
	want := map[string]float64{}
	err = d.db.View(func(tx *store.Tx) error {
		for _, s := range []string{store.StatusOpen, store.StatusWaiting, store.StatusResolved, store.StatusRejected} {
			cs, err := tx.ListCases(store.CaseFilter{Status: s})
			if err != nil {
				return err
			}
			want["cases/"+s] = float64(len(cs))
		}
		yesterday := calendar.DateOf(scrapedAt, cfg.Location).AddDays(-1).String()
		legal, err := tx.OpenCasesLegalDueBy(yesterday)
		if err != nil {
			return err
		}
		first, err := tx.OpenCasesFirstAnswerDueBy(scrapedAt)
		want["overdue/legal"], want["overdue/first_answer"] = float64(len(legal)), float64(len(first))
		for name, v := range tx.Counters() {
			want["counter/"+name] = float64(v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what   string
		metric string
		labels []string
		want   float64
	}{
		{"open cases", "claimsd_cases", []string{"status", "open"}, want["cases/open"]},
		{"resolved cases", "claimsd_cases", []string{"status", "resolved"}, want["cases/resolved"]},
		{"waiting cases", "claimsd_cases", []string{"status", "waiting"}, want["cases/waiting"]},
		{"legal overdue", "claimsd_cases_overdue", []string{"deadline", "legal"}, want["overdue/legal"]},
		{"first answer overdue", "claimsd_cases_overdue", []string{"deadline", "first_answer"}, want["overdue/first_answer"]},
		{"customer mail", "claimsd_messages_ingested_total", []string{"kind", "customer"}, want["counter/kind_customer"]},
		{"auto-replies", "claimsd_messages_ingested_total", []string{"kind", "auto_reply"}, want["counter/kind_auto_reply"]},
		{"staff mail", "claimsd_messages_ingested_total", []string{"kind", "staff"}, want["counter/kind_staff"]},
		{"bounces (none yet)", "claimsd_messages_ingested_total", []string{"kind", "bounce"}, 0},
		{"committed", "claimsd_messages_committed_total", nil, want["counter/ingested"]},
		{"cases created", "claimsd_cases_created_total", nil, want["counter/cases_created"]},
		{"mail queued", "claimsd_mail_queued_total", nil, want["counter/mail_queued"]},
		{"mail failed (none)", "claimsd_mail_failed_total", nil, 0},
		{"mail bounced (none)", "claimsd_mail_bounced_total", nil, 0},
		{"outbox queued", "claimsd_outbox_pending", []string{"status", "queued"}, 0},
		{"outbox sending", "claimsd_outbox_pending", []string{"status", "sending"}, 0},
		{"outbox oldest", "claimsd_outbox_oldest_waiting_seconds", nil, 0},
		{"imap connected", "claimsd_imap_connected", []string{"watcher", "claims"}, 1},
	}
	for _, c := range checks {
		got, ok := metricValue(fams, c.metric, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s: %s%v = %v (present %v), the store says %v", c.what, c.metric, c.labels, got, ok, c.want)
		}
	}
	// The figures the store holds are the ones this test caused.
	for key, v := range map[string]float64{"cases/open": 3, "cases/resolved": 1, "overdue/legal": 1, "overdue/first_answer": 1,
		"counter/kind_customer": 4, "counter/kind_auto_reply": 1, "counter/kind_staff": 1} {
		if want[key] != v {
			t.Errorf("store: %s = %v, this test made %v", key, want[key], v)
		}
	}
	for _, name := range []string{"claimsd_imap_last_success_age_seconds", "claimsd_store_size_bytes", "claimsd_build_info", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := metricValue(fams, name); !ok {
			t.Errorf("%s missing", name)
		}
	}
	if code, v := getHealth(t, addr); code != http.StatusOK || v.Status != "ok" || v.Checks != 3 {
		t.Fatalf("healthy daemon: /healthz %d %+v", code, v)
	}

	// A mail that has waited two hours, and an SMTP server that is gone.
	srv.closeSMTP()
	var stuckID uint64
	err = d.db.Update(func(tx *store.Tx) error {
		at := time.Now().Add(-2 * time.Hour)
		it := &store.OutboxItem{Purpose: "ack", Status: store.OutboxQueued, MessageID: "stuck.1@sklep.example",
			From: message.Address{Addr: opsUser}, To: message.Address{Addr: "klient+9@example.net"}, EnvelopeFrom: opsUser,
			Subject: "Re: Reklamacja", Text: "Dziękujemy.", Date: at, QueuedAt: at, NextAttemptAt: at}
		err := tx.AddOutbox(it)
		stuckID = it.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code, v := getHealth(t, addr)
	if code != http.StatusServiceUnavailable || len(v.Failures) != 1 || !strings.Contains(v.Failures[0], fmt.Sprintf("outbox: mail %d has waited 2h0m", stuckID)) {
		t.Errorf("stuck outbox: /healthz %d %+v", code, v)
	}
	fams = scrape(t, addr)
	if got, _ := metricValue(fams, "claimsd_outbox_oldest_waiting_seconds"); got < 7200 {
		t.Errorf("oldest waiting %v s, want at least 7200", got)
	}
	if got, _ := metricValue(fams, "claimsd_outbox_pending", "status", "queued"); got+func() float64 {
		v, _ := metricValue(fams, "claimsd_outbox_pending", "status", "sending")
		return v
	}() != 1 {
		t.Errorf("outbox pending %v, want 1 (queued or being sent)", got)
	}

	// The IMAP server stops and the credentials check fails too.
	credentialsExpired.Store(true)
	srv.closeIMAP()
	waitFor(t, 30*time.Second, "/healthz to report the mailbox", func() bool {
		_, v := getHealth(t, addr)
		return strings.Contains(strings.Join(v.Failures, "\n"), "mailbox INBOX: not connected")
	})
	code, v = getHealth(t, addr)
	all := strings.Join(v.Failures, "\n")
	if code != http.StatusServiceUnavailable || v.Status != "failing" || len(v.Failures) != 3 ||
		!strings.Contains(all, "outbox: mail") || !strings.Contains(all, "refresh token revoked") {
		t.Errorf("everything failing: /healthz %d %+v", code, v)
	}
	if got, ok := metricValue(scrape(t, addr), "claimsd_imap_connected", "watcher", "claims"); !ok || got != 0 {
		t.Errorf("imap connected = %v after the server stopped", got)
	}

	// Shutdown closes the endpoint.
	stop()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the metrics endpoint still accepts connections after the daemon stopped")
	}
}

// lockedWriter serialises a log shared by the daemon's goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// BenchmarkOpsLargeStore measures, over a store of 100,000 cases
// (CLAIMSD_BENCH_CASES changes it) of which 1,000 are overdue, one
// metrics scrape's store read (scrape), `claimsd verify` (verify) and an
// online backup into memory (backup).
// Run: TMPDIR=/var/tmp go test -run '^$' -bench OpsLargeStore -benchtime 5x ./cmd/claimsd
func BenchmarkOpsLargeStore(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("CLAIMSD_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	loc, _ := time.LoadLocation("Europe/Warsaw")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, loc)
	dir := b.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := benchdata.FillCases(db, deadline.DefaultPolicy(loc), n, 1000, now); err != nil {
		b.Fatal(err)
	}
	c := newStoreCollector(db, nil, loc, func() time.Time { return now.Add(15 * 24 * time.Hour) })
	b.Run("scrape", func(b *testing.B) {
		for b.Loop() {
			ch := make(chan prometheus.Metric, 64)
			go func() { c.Collect(ch); close(ch) }()
			for m := range ch {
				if d := m.Desc(); d == c.cases {
					var out dto.Metric
					m.Write(&out)
				}
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if r, err := db.Verify(); err != nil || !r.OK() {
				b.Fatal(err, r.Problems)
			}
		}
	})
	b.Run("backup", func(b *testing.B) {
		var size int64
		for b.Loop() {
			info, err := db.Backup(io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			size = info.DBBytes
		}
		b.ReportMetric(float64(size)/(1<<20), "db-MB")
	})
}
