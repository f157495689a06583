package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/store"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, context.Background(), args...)
	if code != 0 {
		t.Fatalf("claimsd %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// writeConfig writes a configuration for an IMAP server on loopback.
func writeConfig(t testing.TB, dir, host string, port int, user, password string) string {
	t.Helper()
	pw := filepath.Join(dir, "imap-password")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data_dir: %s
timezone: Europe/Warsaw
case_prefix: CLM
claims_address: reklamacje@sklep.example
log: {level: warn}
imap:
  host: %s
  port: %d
  security: none
  username: %s
  password_file: %s
  poll_interval: 5s
staff:
  - {name: Anna Nowak, email: anna@sklep.example, role: specialist}
`, filepath.Join(dir, "data"), host, port, user, pw)
	p := filepath.Join(dir, "claimsd.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type sample struct {
	name string
	raw  []byte
	date time.Time
}

func loadSamples(t *testing.T) []sample {
	t.Helper()
	names, err := sampleNames()
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, n := range names {
		raw, err := samples.ReadFile(path.Join("samples", n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{n, raw, sampleDate(raw)})
	}
	return out
}

func listCases(t *testing.T, cfg string) []store.Case {
	t.Helper()
	var cases []store.Case
	if err := json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "cases", "list", "--json")), &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestEndToEndDovecot drives the real binary's code path against a real
// Dovecot: intake of the demo samples, idempotent reruns, a UIDVALIDITY
// change, and the daemon answering the CLI over its socket.
func TestEndToEndDovecot(t *testing.T) {
	const user, pass = "claims@example.test", "secret-pw"
	d := mailtest.StartDovecot(t, mailtest.User{Name: user, Password: pass})
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "127.0.0.1", d.IMAPPort, user, pass)
	all := loadSamples(t)
	for _, s := range all {
		d.DeliverMaildir(t, user, "INBOX", [][]byte{s.raw}, s.date)
	}

	out := mustCLI(t, "--config", cfg, "run", "--once")
	if !strings.Contains(out, fmt.Sprintf("fetched %d, committed %d, new cases 4", len(all), len(all))) {
		t.Fatalf("first run: %s", out)
	}
	cases := listCases(t, cfg)
	wantSubjects := map[string]string{
		"CLM-2026-000001": "Reklamacja - pęknięty ekran telefonu",
		"CLM-2026-000002": "Blender stopped working after two weeks",
		"CLM-2026-000003": "Uszkodzona przesyłka - odkurzacz",
		"CLM-2026-000004": "Re: [CLM-2026-000001] please send the refund to my account instead",
	}
	if len(cases) != len(wantSubjects) {
		t.Fatalf("%d cases, want %d: %+v", len(cases), len(wantSubjects), cases)
	}
	for _, c := range cases {
		if wantSubjects[c.ID] != c.Subject {
			t.Errorf("%s subject %q, want %q", c.ID, c.Subject, wantSubjects[c.ID])
		}
	}
	var shown caseView
	if err := json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "cases", "show", "CLM-2026-000001", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range shown.MessageList {
		got = append(got, m.Kind+"/"+m.ThreadedBy)
	}
	if want := "customer/new_case customer/references auto_reply/subject_tag"; strings.Join(got, " ") != want {
		t.Errorf("case 1 messages %v, want %s", got, want)
	}
	if !strings.Contains(shown.MessageList[1].Text, "SN 35-881204-77") || strings.Contains(shown.MessageList[1].Text, "> Dzień dobry") {
		t.Errorf("reply text not separated from the quote: %q", shown.MessageList[1].Text)
	}

	// Every message is marked on the server, none deleted.
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8, 9), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(all) {
		t.Fatalf("%d messages left on the server, want %d", len(msgs), len(all))
	}
	for _, m := range msgs {
		found := false
		for _, f := range m.Flags {
			found = found || f == "$ClaimsdProcessed"
		}
		if !found {
			t.Errorf("message %d not marked: %v", m.SeqNum, m.Flags)
		}
	}

	// A second run finds nothing new.
	if out := mustCLI(t, "--config", cfg, "run", "--once"); !strings.Contains(out, "fetched 0, committed 0, new cases 0") {
		t.Errorf("second run: %s", out)
	}

	// The mailbox is recreated (new UIDVALIDITY) with the same mail: all
	// is fetched again and recognised as duplicates.
	d.RecreateMailbox(t, user, "INBOX")
	for _, s := range all {
		d.DeliverMaildir(t, user, "INBOX", [][]byte{s.raw}, s.date)
	}
	if out := mustCLI(t, "--config", cfg, "run", "--once"); !strings.Contains(out, fmt.Sprintf("fetched %d, committed 0, new cases 0, duplicates %d", len(all), len(all))) {
		t.Errorf("run after UIDVALIDITY change: %s", out)
	}
	if n := len(listCases(t, cfg)); n != 4 {
		t.Errorf("%d cases after UIDVALIDITY change, want 4", n)
	}

	// The daemon: the CLI reads through its socket while it holds the
	// database, and new mail arrives through IDLE.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		_, _, code := runCLI(t, ctx, "--config", cfg, "run")
		done <- code
	}()
	newMail := "From: Nowa Klientka <nowa@example.pl>\r\nTo: reklamacje@sklep.example\r\nSubject: Zepsuta pralka\r\nMessage-ID: <pralka-1@example.pl>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n\r\nPralka nie wiruje.\r\n"
	d.DeliverMaildir(t, user, "INBOX", [][]byte{[]byte(newMail)}, time.Now())
	deadline := time.Now().Add(30 * time.Second)
	for {
		if cs := listCases(t, cfg); len(cs) == 5 && cs[4].Subject == "Zepsuta pralka" {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the daemon did not ingest new mail within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("daemon exit code %d after SIGTERM-equivalent", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

// TestCorpusThroughDovecot ingests every corpus message from a real
// Dovecot: the whole path (IMAP fetch, spool, parse, commit, mark) must
// take each one, without stalling on any.
func TestCorpusThroughDovecot(t *testing.T) {
	corpus := mailtest.CorpusMessages(t)
	const user, pass = "claims@example.test", "secret-pw"
	d := mailtest.StartDovecot(t, mailtest.User{Name: user, Password: pass})
	raws := make([][]byte, len(corpus))
	for i, m := range corpus {
		raws[i] = m.Raw
	}
	d.DeliverMaildir(t, user, "INBOX", raws, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	cfg := writeConfig(t, t.TempDir(), "127.0.0.1", d.IMAPPort, user, pass)
	out := mustCLI(t, "--config", cfg, "run", "--once")
	var fetched, committed, cases, dups, failed, unfiled, marked int
	if _, err := fmt.Sscanf(out, "fetched %d, committed %d, new cases %d, duplicates %d, unparsable %d, unfiled %d, marked %d",
		&fetched, &committed, &cases, &dups, &failed, &unfiled, &marked); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if fetched != len(corpus) || committed+dups != len(corpus) || marked != len(corpus) {
		t.Fatalf("%d corpus messages, run said: %s", len(corpus), out)
	}
	t.Logf("%d corpus messages through Dovecot: %s", len(corpus), strings.TrimSpace(out))
}
