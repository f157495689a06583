package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
	"github.com/claimsd/claimsd/store"
)

// outage: the SMTP server down, answering 4xx, answering 5xx; the IMAP
// connection cut in the middle of a FETCH; the IMAP server restarted; the
// mailbox recreated with a new UIDVALIDITY. Nothing may be lost or
// doubled; the time to recover is reported.
func (s *suite) outage(t *testing.T) {
	t.Run("IMAPCut", s.imapCut)
	t.Run("IMAPRestart", s.imapRestart)
	t.Run("UIDValidity", s.uidValidity)
	t.Run("SMTP", s.smtpOutages)
}

// casesCreated polls the daemon's counters until n cases were created
// and returns how long that took; ok is false after timeout.
func casesCreated(t *testing.T, bin, cfg string, n int, timeout time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	for {
		st := reliability.ReadStats(t, bin, cfg)
		if int(st.Counters[store.CountCases]) >= n {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func complaints(from, n int, tag string) []reliability.Complaint {
	out := make([]reliability.Complaint, 0, n)
	for i := from; i < from+n; i++ {
		out = append(out, reliability.NewComplaint(i, "jan", reliability.Domain, tag))
	}
	return out
}

// checkAudit reports an audit's losses and duplicates as failures.
func (s *suite) checkAudit(t *testing.T, sc string, a reliability.Audit) {
	t.Helper()
	s.report.Check(t, sc, "complaints lost (not in exactly one case, whole)", fmt.Sprintf("%d of %d", a.Lost(), a.Expected), "0", a.Lost() == 0)
	if a.Altered > 0 {
		t.Logf("%s: %d complaints stored with other bytes than delivered (truncated?)", sc, a.Altered)
	}
	s.report.Check(t, sc, "duplicate cases", a.DuplicateCases, "0", a.DuplicateCases == 0)
}

// imapCut: the IMAP connection is reset in the middle of a FETCH, three
// connections in a row, each after a random number of bytes.
func (s *suite) imapCut(t *testing.T) {
	const sc = "outage: IMAP cut mid-FETCH"
	d := mailtest.StartDovecot(t, reliability.StackUsers()...)
	proxy := mailtest.StartProxy(t, d.Addr)
	n := sizes.OutageMessages
	cs := complaints(0, n, "cut")
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(cs), time.Now())
	// The greeting, login and SELECT take about 1 KB; each connection
	// is cut somewhere in the first quarter of the FETCH of n complaints
	// of ~650 bytes, so that three cuts still leave mail to fetch.
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	const cuts = 3
	total := 0
	for _, c := range cs {
		total += len(c.Raw)
	}
	proxy.CutAfter(int64(4<<10+r.IntN(max(total/(cuts+1)-4<<10, 1))), cuts)
	dir := t.TempDir()
	cfg := reliability.Config{DataDir: filepath.Join(dir, "data"), IMAPPort: proxy.Port,
		IMAPUser: reliability.ClaimsUser, IMAPPassword: reliability.ClaimsPass}.Write(t, dir)
	dm := reliability.StartDaemon(t, s.bin, cfg)
	took, ok := casesCreated(t, s.bin, cfg, n, 2*time.Minute)
	_, _ = reliability.Poll(context.Background(), 10*time.Second, func() bool {
		return reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword) == 0
	})
	unmarked := reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword)
	dm.Stop()
	st := proxy.Stats()
	fetchErrors := strings.Count(dm.Log(), "mailbox cycle failed")
	s.report.Check(t, sc, "connections cut during the FETCH", fmt.Sprintf("%d (%d reconnects logged)", st.Cut, fetchErrors), fmt.Sprint(cuts), st.Cut == cuts)
	s.checkAudit(t, sc, reliability.AuditStore(t, filepath.Join(dir, "data"), cs))
	s.report.Check(t, sc, "mails left unmarked", unmarked, "0", unmarked == 0)
	s.report.Note(sc, fmt.Sprintf("time to take all %d (3 reconnects with backoff)", n), took.Round(100*time.Millisecond), "< 15s", ok && took < 15*time.Second)
}

// imapRestart: Dovecot stops while the daemon IDLEs, mail arrives while
// it is down, and it starts again.
func (s *suite) imapRestart(t *testing.T) {
	const sc = "outage: IMAP restart"
	d := mailtest.StartDovecot(t, reliability.StackUsers()...)
	dir := t.TempDir()
	cfg := reliability.Config{DataDir: filepath.Join(dir, "data"), IMAPPort: d.IMAPPort,
		IMAPUser: reliability.ClaimsUser, IMAPPassword: reliability.ClaimsPass}.Write(t, dir)
	dm := reliability.StartDaemon(t, s.bin, cfg)
	third := max(sizes.OutageMessages/3, 1)
	before, during, after := complaints(0, third, "r"), complaints(third, third, "r"), complaints(2*third, third, "r")
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(before), time.Now())
	if _, ok := casesCreated(t, s.bin, cfg, third, time.Minute); !ok {
		t.Fatal("the mail before the outage was not taken within a minute")
	}
	d.Stop(t)
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(during), time.Now())
	time.Sleep(3 * time.Second) // a few failed reconnects
	d.Start(t)
	took, ok := casesCreated(t, s.bin, cfg, 2*third, time.Minute)
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(after), time.Now())
	_, ok2 := casesCreated(t, s.bin, cfg, 3*third, time.Minute)
	_, _ = reliability.Poll(context.Background(), 10*time.Second, func() bool {
		return reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword) == 0
	})
	unmarked := reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword)
	dm.Stop()
	all := append(append(before, during...), after...)
	s.checkAudit(t, sc, reliability.AuditStore(t, filepath.Join(dir, "data"), all))
	s.report.Check(t, sc, "mail after the restart taken", ok2, "true", ok2)
	s.report.Check(t, sc, "mails left unmarked", unmarked, "0", unmarked == 0)
	s.report.Note(sc, "server back → mail that came meanwhile committed (down 3s)", took.Round(100*time.Millisecond), "< 10s", ok && took < 10*time.Second)
}

// uidValidity: the mailbox is recreated (new UIDVALIDITY, UIDs from 1
// again) with the old mail and new mail in it.
func (s *suite) uidValidity(t *testing.T) {
	const sc = "outage: UIDVALIDITY changed"
	d := mailtest.StartDovecot(t, reliability.StackUsers()...)
	dir := t.TempDir()
	cfg := reliability.Config{DataDir: filepath.Join(dir, "data"), IMAPPort: d.IMAPPort,
		IMAPUser: reliability.ClaimsUser, IMAPPassword: reliability.ClaimsPass}.Write(t, dir)
	dm := reliability.StartDaemon(t, s.bin, cfg)
	half := max(sizes.OutageMessages/2, 1)
	old, fresh := complaints(0, half, "u"), complaints(half, half, "u")
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(old), time.Now())
	if _, ok := casesCreated(t, s.bin, cfg, half, time.Minute); !ok {
		t.Fatal("the first mail was not taken within a minute")
	}
	start := time.Now()
	d.RecreateMailbox(t, reliability.ClaimsUser, "INBOX")
	d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(append(append([]reliability.Complaint(nil), old...), fresh...)), time.Now())
	_, ok := casesCreated(t, s.bin, cfg, 2*half, time.Minute)
	took := time.Since(start)
	_, _ = reliability.Poll(context.Background(), 10*time.Second, func() bool {
		return reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword) == 0
	})
	unmarked := reliability.Unmarked(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, reliability.ProcessedKeyword)
	dm.Stop()
	a := reliability.AuditStore(t, filepath.Join(dir, "data"), append(old, fresh...))
	s.checkAudit(t, sc, a)
	s.report.Check(t, sc, "refetched mail recognised as duplicates", fmt.Sprintf("%d of %d", a.Duplicates, half), fmt.Sprint(half), int(a.Duplicates) == half)
	s.report.Check(t, sc, "cases", a.Cases, fmt.Sprint(2*half), a.Cases == 2*half)
	s.report.Check(t, sc, "mails left unmarked", unmarked, "0", unmarked == 0)
	s.report.Note(sc, "recreated → new mail committed", took.Round(100*time.Millisecond), "< 10s", ok && took < 10*time.Second)
	if strings.Contains(dm.Log(), "UIDVALIDITY changed") {
		s.report.Note(sc, "logged as a warning", "yes", "", true)
	}
}

// smtpOutages: the submission server refuses connections, answers 421,
// answers 554, each for a while; acknowledgements wait and go out once it
// is back, each exactly once.
func (s *suite) smtpOutages(t *testing.T) {
	d, p := mailtest.StartMailStack(t, reliability.Domain, reliability.StackUsers()...)
	proxy := mailtest.StartProxy(t, p.SubmissionAddr)
	dir := t.TempDir()
	cfg := reliability.StackConfig(filepath.Join(dir, "data"), d, proxy.Port).Write(t, dir)
	dm := reliability.StartDaemon(t, s.bin, cfg)
	const per = 50
	outages := []struct {
		name string
		set  func()
	}{
		{"SMTP down (connection refused)", proxy.Refuse},
		{"SMTP answers 421 (4xx)", func() { proxy.Answer(t, "421 4.3.2 Service not available, closing transmission channel\r\n") }},
		{"SMTP answers 554 (5xx)", func() { proxy.Answer(t, "554 5.3.2 No SMTP service here\r\n") }},
	}
	var all []reliability.Complaint
	for i, o := range outages {
		sc := "outage: " + o.name
		cs := complaints(i*per, per, "s")
		all = append(all, cs...)
		o.set()
		d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", reliability.Raws(cs), time.Now())
		if _, ok := casesCreated(t, s.bin, cfg, len(all), time.Minute); !ok {
			t.Fatalf("%s: complaints not taken within a minute", o.name)
		}
		time.Sleep(3 * time.Second) // several attempts fail
		failed, waiting, attempted := 0, 0, 0
		for _, it := range reliability.Outbox(t, s.bin, cfg) {
			switch it.Status {
			case store.OutboxFailed:
				failed++
			case store.OutboxQueued, store.OutboxSending:
				waiting++
				if it.Attempts > 0 {
					attempted++
				}
			}
		}
		s.report.Check(t, sc, "acknowledgements failed during the outage", failed, "0", failed == 0)
		s.report.Check(t, sc, "waiting in the outbox, tried", fmt.Sprintf("%d, %d", waiting, attempted), fmt.Sprintf("%d, %d", per, per), waiting == per && attempted == per)
		proxy.Forward(t)
		start := time.Now()
		_, err := reliability.Poll(context.Background(), time.Minute, func() bool {
			return reliability.Count(t, d.Addr, reliability.JanUser, reliability.JanPass) >= len(all)
		})
		took := time.Since(start)
		s.report.Note(sc, "server back → all acknowledgements delivered (retry 1s doubling to 4s)", took.Round(100*time.Millisecond), "< 10s", err == nil && took < 10*time.Second)
	}
	p.WaitQueueEmpty(t, time.Minute)
	time.Sleep(time.Second)
	dm.Stop()
	copies := map[string]int{}
	for _, m := range reliability.Mailbox(t, d.Addr, reliability.JanUser, reliability.JanPass, "") {
		copies[m.InReplyTo()]++
	}
	missing, twice := 0, 0
	for _, c := range all {
		switch n := copies[c.MessageID]; {
		case n == 0:
			missing++
		case n > 1:
			twice++
		}
	}
	const sc = "outage: SMTP, all three"
	s.report.Check(t, sc, "acknowledgements missing in the customer's mailbox", missing, "0", missing == 0)
	s.report.Check(t, sc, "acknowledgements delivered twice", twice, "0", twice == 0)
	s.checkAudit(t, sc, reliability.AuditStore(t, filepath.Join(dir, "data"), all))
}
