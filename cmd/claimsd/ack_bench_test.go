package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// customer i writes from jan+i@: Postfix and Dovecot deliver every such
// address to jan@'s INBOX, and each is its own recipient for the caps.
func customerComplaint(i int) []byte {
	return []byte(complaint(fmt.Sprintf("Klient %d <jan+%d@example.test>", i, i), fmt.Sprintf("Reklamacja nr %d: pęknięty ekran", i),
		fmt.Sprintf("complaint-%d@example.test", i), "Dzień dobry, ekran pękł po tygodniu używania. Proszę o naprawę."))
}

func imapLogin(tb testing.TB, addr, user, pass string) *imapclient.Client {
	tb.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Login(user, pass).Wait(); err != nil {
		tb.Fatal(err)
	}
	return c
}

func inboxCount(tb testing.TB, c *imapclient.Client) uint32 {
	tb.Helper()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		tb.Fatal(err)
	}
	return *st.NumMessages
}

// BenchmarkAckLatency measures, with IDLE on, from a complaint's APPEND
// to the claims mailbox to its acknowledgement being visible in the
// customer's mailbox: intake, the commit with the queued mail, SMTP
// submission to Postfix, LMTP delivery into Dovecot.
// Run: go test -run '^$' -bench AckLatency -benchtime 200x ./cmd/claimsd
func BenchmarkAckLatency(b *testing.B) {
	d, p := mailtest.StartMailStack(b, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: janUser, Password: janPass})
	cfg := writeStackConfig(b, b.TempDir(), d, p.SubmissionPort, "")
	startDaemon(b, cfg)
	claims := imapLogin(b, d.Addr, claimsUser, claimsPass)
	defer claims.Close()
	jan := imapLogin(b, d.Addr, janUser, janPass)
	defer jan.Close()
	time.Sleep(500 * time.Millisecond) // the watcher reaches IDLE
	var lat []time.Duration
	i := 0
	for b.Loop() {
		raw := customerComplaint(i)
		i++
		before := inboxCount(b, jan)
		cmd := claims.Append("INBOX", int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for inboxCount(b, jan) == before {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("acknowledgement %d not delivered within 30s", i)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// queueAcks fills a fresh store with n queued acknowledgements to
// jan+i@example.test.
func queueAcks(tb testing.TB, n int) *store.DB {
	tb.Helper()
	db, err := store.Open(tb.TempDir(), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	now := time.Now()
	err = db.Update(func(tx *store.Tx) error {
		for i := range n {
			it := &store.OutboxItem{Purpose: outbox.PurposeAck, Status: store.OutboxQueued,
				MessageID: fmt.Sprintf("CLM-2026-%06d.o%d.bench@example.test", i+1, i+1),
				From:      message.Address{Name: "Dział Reklamacji", Addr: claimsUser},
				To:        message.Address{Addr: fmt.Sprintf("jan+%d@example.test", i)},
				Subject:   fmt.Sprintf("Re: Reklamacja nr %d: pęknięty ekran [CLM-2026-%06d]", i, i+1), AutoSubmitted: "auto-replied",
				Text: strings.Repeat("Dziękujemy za zgłoszenie reklamacji. ", 40), HTML: "<p>" + strings.Repeat("Dziękujemy. ", 100) + "</p>",
				Date: now, QueuedAt: now, NextAttemptAt: now}
			if err := tx.AddOutbox(it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// BenchmarkOutboxThroughput delivers 500 queued acknowledgements from the
// outbox through Postfix's submission port (SASL, then LMTP into Dovecot)
// and, as the baseline in the same run, to go-smtp in-process.
// Run: go test -run '^$' -bench OutboxThroughput -benchtime 3x ./cmd/claimsd
func BenchmarkOutboxThroughput(b *testing.B) {
	const n = 500
	_, p := mailtest.StartMailStack(b, stackDomain,
		mailtest.User{Name: claimsUser, Password: claimsPass}, mailtest.User{Name: janUser, Password: janPass})
	sink, err := devmail.StartSMTPSink(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	port := func(addr string) int {
		_, ps, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(ps)
		return n
	}
	send := func(tr outbox.Transport) time.Duration {
		db := queueAcks(b, n)
		s := outbox.NewSender(db, tr, outbox.SenderConfig{}, log, time.Now)
		start := time.Now()
		got, _, err := s.RunOnce(context.Background())
		if err != nil || got.Sent != n {
			b.Fatalf("sent %+v: %v", got, err)
		}
		return time.Since(start)
	}
	var postfixDur, deliveredDur, gosmtpDur time.Duration
	for b.Loop() {
		gosmtpDur += send(outbox.NewSMTP(outbox.SMTPConfig{Host: "127.0.0.1", Port: port(sink.Addr), Security: "none"}))
		start := time.Now()
		postfixDur += send(outbox.NewSMTP(outbox.SMTPConfig{Host: "127.0.0.1", Port: p.SubmissionPort, Security: "none",
			Username: claimsUser, Password: claimsPass}))
		p.WaitQueueEmpty(b, 2*time.Minute)
		deliveredDur += time.Since(start)
	}
	rounds := float64(b.N)
	pf, gs := n*rounds/postfixDur.Seconds(), n*rounds/gosmtpDur.Seconds()
	b.ReportMetric(pf, "postfix-accepted-msg/s")
	b.ReportMetric(n*rounds/deliveredDur.Seconds(), "postfix-delivered-msg/s")
	b.ReportMetric(gs, "gosmtp-msg/s")
	b.ReportMetric(pf/gs, "postfix/gosmtp")
}

func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "claimsd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkSIGKILL runs the crash round of the reliability suite
// (internal/reliability): each iteration is one run of 200 complaints with
// the daemon killed by SIGKILL at three random moments. It reports totals
// over all runs. The suite itself (TestReliability, short in go test ./...,
// long in make reliability) checks the same rounds case by case.
// Run: go test -run '^$' -bench SIGKILL -benchtime 20x ./cmd/claimsd
func BenchmarkSIGKILL(b *testing.B) {
	bin := buildBinary(b)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	var total reliability.CrashResult
	runs := 0
	for b.Loop() {
		got := reliability.CrashRound(b, bin, 200, 3, r)
		total.AcksMissing += got.AcksMissing
		total.AcksDuplicated += got.AcksDuplicated
		total.SameIDResent += got.SameIDResent
		total.Kills += got.Kills
		runs++
	}
	b.ReportMetric(float64(runs), "runs")
	b.ReportMetric(float64(total.Kills), "kills")
	b.ReportMetric(float64(total.AcksMissing), "missing-acks")
	b.ReportMetric(float64(total.AcksDuplicated), "duplicate-acks")
	b.ReportMetric(float64(total.SameIDResent), "same-id-resends")
	b.Logf("%+v", total)
}
