package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/store"
	"github.com/robfig/cron/v3"
)

const (
	gdprJan      = "jan.kowalski@example.pl"
	gdprJanName  = "Jan Kowalski"
	gdprJanWords = "Zygzakowaty czajnik Pumeks eksplodował w kuchni"
	gdprEwa      = "ewa.zielinska@example.com"
	gdprEwaWords = "Odkurzacz Wichura gubi kółko"
)

// gdprMail is a complaint with a quoted-printable body and, when given,
// a base64 attachment.
func gdprMail(from, cc, subject, msgID, text string, attachment []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: reklamacje@sklep.example\r\n", from)
	if cc != "" {
		fmt.Fprintf(&b, "Cc: %s\r\n", cc)
	}
	fmt.Fprintf(&b, "Subject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n",
		subject, msgID, time.Now().Format(time.RFC1123Z))
	b.WriteString("--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(text))
	qp.Close()
	if attachment != nil {
		b.WriteString("\r\n--XX\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"paragon kasowy.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		b.WriteString(base64.StdEncoding.EncodeToString(attachment))
	}
	b.WriteString("\r\n--XX--\r\n")
	return b.Bytes()
}

// gdprDaemon starts the daemon and returns a function that stops it.
func gdprDaemon(t *testing.T, cfgPath string) (stop func()) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"--config", cfgPath, "run"}, io.Discard, &errOut) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("unix", cfg.SocketPath()); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the daemon did not open its socket: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("daemon exit %d: %s", code, errOut.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("daemon did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// grepDir lists where under dir one of needles occurs, ignoring case.
func grepDir(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lower := bytes.ToLower(data)
		for _, n := range needles {
			if bytes.Contains(lower, bytes.ToLower([]byte(n))) {
				rel, _ := filepath.Rel(dir, path)
				hits = append(hits, rel+": "+n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func readExport(t *testing.T, path string) (exportIndex, map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open export: %v", err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(r)
		r.Close()
	}
	var idx exportIndex
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	return idx, files
}

// TestGDPREndToEnd: complaints from in-process IMAP become cases; the
// running daemon exports a person's data and plans the erasure but
// refuses to erase; with the daemon stopped the erasure leaves no byte of
// the person in the data directory, the other customer's case intact,
// and an audit record; mail seen again is a duplicate; the retention job
// later purges the restricted case.
func TestGDPREndToEnd(t *testing.T) {
	srv, err := devmail.StartIMAP(nil, "claims@example.test", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(portStr)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, host, port, "claims@example.test", "pw")
	dataDir := filepath.Join(dir, "data")
	receipt := bytes.Repeat([]byte("RECEIPT-TEMPLATE-SKLEP "), 200) // both customers attach the shop's receipt
	janMail := gdprMail(gdprJanName+" <"+gdprJan+">", "", "Reklamacja: czajnik Pumeks", "c1.84512@mail.example.pl",
		gdprJanWords+".\nPozdrawiam,\n"+gdprJanName, receipt)
	for _, raw := range [][]byte{
		janMail,
		gdprMail("Ewa Zielińska <"+gdprEwa+">", gdprJanName+" <"+gdprJan+">", "Odkurzacz", "e1.99@example.com",
			gdprEwaWords+". Sąsiad ma to samo.", receipt),
	} {
		if err := srv.Append("INBOX", raw, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if out := mustCLI(t, "--config", cfg, "run", "--once"); !strings.Contains(out, "new cases 2") {
		t.Fatalf("run: %s", out)
	}
	janTraces := []string{gdprJan, gdprJanName, "Pumeks", gdprJanWords, base64.StdEncoding.EncodeToString([]byte(gdprJanWords))}
	if hits := grepDir(t, dataDir, janTraces...); len(hits) < 4 {
		t.Fatalf("intake should have stored Jan's data: %v", hits)
	}

	// While the daemon runs: export and dry runs over its socket; the
	// erasure itself is refused.
	stop := gdprDaemon(t, cfg)
	export := filepath.Join(dir, "jan.zip")
	out := mustCLI(t, "--config", cfg, "gdpr", "export", gdprJan, "--out", export)
	if !strings.Contains(out, "1 cases, 2 messages, 2 attachments, 1 mails sent") {
		t.Errorf("export: %s", out)
	}
	idx, files := readExport(t, export)
	for _, name := range []string{"index.json", "summary.txt", "cases/CLM-2026-000001.json", "messages/000001.eml", "messages/000001.txt",
		"messages/000001.json", "attachments/000001-1-paragon_kasowy.jpg", "messages/000002.eml", "outbox/000001.json", "outbox/000001.txt"} {
		if _, ok := files[name]; !ok {
			t.Errorf("export lacks %s; it holds %v", name, idx.Files)
		}
	}
	if len(idx.Files) != len(files) || idx.Address != gdprJan || !slices.Equal(idx.Names, []string{gdprJanName}) ||
		idx.Messages[1].Role != store.RoleRecipient || !bytes.Equal(files["attachments/000001-1-paragon_kasowy.jpg"], receipt) ||
		!bytes.Equal(files["messages/000001.eml"], janMail) || !strings.Contains(string(files["messages/000001.txt"]), gdprJanWords) {
		t.Errorf("export index: %+v", idx)
	}
	if !strings.Contains(string(files["summary.txt"]), "CLM-2026-000001") {
		t.Errorf("summary:\n%s", files["summary.txt"])
	}
	_, errOut, code := runCLI(t, context.Background(), "--config", cfg, "gdpr", "export", gdprJan, "--out", filepath.Join(dataDir, "x.zip"))
	if code != 2 || !strings.Contains(errOut, "inside data_dir") {
		t.Errorf("export into data_dir: exit %d, %s", code, errOut)
	}
	out, errOut, code = runCLI(t, context.Background(), "--config", cfg, "gdpr", "erase", gdprJan, "--dry-run")
	if code != 1 || !strings.Contains(out, "CLM-2026-000001") || !strings.Contains(out, "hold: still open") || !strings.Contains(errOut, "close them first") {
		t.Errorf("dry run with the case open: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runCLI(t, context.Background(), "--config", cfg, "gdpr", "erase", gdprJan)
	if code != 1 || !strings.Contains(errOut, "stop the daemon (systemctl stop claimsd)") {
		t.Errorf("erase while the daemon runs: exit %d, %s", code, errOut)
	}
	if out := mustCLI(t, "--config", cfg, "gdpr", "retention", "--dry-run"); !strings.Contains(out, "0 cases due (dry run)") {
		t.Errorf("retention dry run: %s", out)
	}
	stop()

	// Closed, Jan's case can be erased: a dry run first changes nothing.
	mustCLI(t, "--config", cfg, "cases", "status", "CLM-2026-000001", "resolved")
	out = mustCLI(t, "--config", cfg, "gdpr", "erase", gdprJan, "--dry-run")
	if !strings.Contains(out, "restrict: kept for legal claims until") || len(grepDir(t, dataDir, gdprJan)) == 0 {
		t.Fatalf("dry run:\n%s", out)
	}
	out = mustCLI(t, "--config", cfg, "gdpr", "erase", gdprJan)
	t.Logf("claimsd gdpr erase:\n%s", out)
	for _, want := range []string{"erasure done", "CLM-2026-000001", "restrict", "files deleted: 0; kept because other mail refers to them: 1",
		"database rewritten", "audit record 1", "still on the IMAP server", "INBOX uidvalidity"} {
		if !strings.Contains(out, want) {
			t.Errorf("erase output lacks %q:\n%s", want, out)
		}
	}
	if hits := grepDir(t, dataDir, janTraces...); len(hits) > 0 {
		t.Errorf("Jan's data remains after the erasure:\n%s", strings.Join(hits, "\n"))
	}

	// Ewa's case is whole, minus Jan in her copy list.
	var ewa caseView
	if err := json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "cases", "show", "CLM-2026-000002", "--json")), &ewa); err != nil {
		t.Fatal(err)
	}
	if m := ewa.MessageList[0]; !strings.Contains(m.Text, gdprEwaWords) || len(m.Attachments) != 1 || m.Cc[0].Addr != "erased@erased.invalid" || ewa.Customer != gdprEwa {
		t.Errorf("Ewa's case: %+v", ewa)
	}
	var kept caseView
	if err := json.Unmarshal([]byte(mustCLI(t, "--config", cfg, "cases", "show", "CLM-2026-000001", "--json")), &kept); err != nil {
		t.Fatal(err)
	}
	if !kept.Restricted || !strings.HasPrefix(kept.Customer, "restricted-") || kept.Status != "resolved" || kept.ReceivedAt.IsZero() || len(kept.MessageList) != 1 {
		t.Errorf("restricted case: %+v", kept)
	}
	if out := mustCLI(t, "--config", cfg, "gdpr", "audit"); !strings.Contains(out, "erasure") || strings.Contains(out, gdprJan) {
		t.Errorf("audit:\n%s", out)
	}

	// The mail is still on the server: offered again it is recognised,
	// not ingested anew.
	if err := srv.Append("INBOX", janMail, time.Now()); err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, "--config", cfg, "run", "--once"); !strings.Contains(out, "new cases 0, duplicates 1") {
		t.Errorf("the erased mail again: %s", out)
	}
	if hits := grepDir(t, dataDir, janTraces...); len(hits) > 0 {
		t.Errorf("after the mail came again:\n%s", strings.Join(hits, "\n"))
	}

	// His right of access still finds what is kept, under the pseudonym.
	again := filepath.Join(dir, "jan-after.zip")
	mustCLI(t, "--config", cfg, "gdpr", "export", gdprJan, "--out", again)
	idx, _ = readExport(t, again)
	if len(idx.Cases) != 1 || !idx.Cases[0].Restricted || len(idx.Erasures) != 1 || idx.Pseudonym == "" {
		t.Errorf("export after the erasure: %+v", idx)
	}

	// Years later the retention job purges the restricted case too.
	later := time.Date(time.Now().Year()+8, 1, 2, 8, 0, 0, 0, time.UTC).Format(time.RFC3339)
	out = mustCLI(t, "--config", cfg, "gdpr", "retention", "--now", later)
	if !strings.Contains(out, "1 cases purged") || !strings.Contains(out, "CLM-2026-000001") || !strings.Contains(out, "audit record 2") {
		t.Errorf("retention:\n%s", out)
	}
	for _, c := range listCases(t, cfg) {
		if c.ID == "CLM-2026-000001" && (c.PurgedAt.IsZero() || c.Customer != "") {
			t.Errorf("purged case: %+v", c)
		}
		if c.ID == "CLM-2026-000002" && c.Customer != gdprEwa {
			t.Errorf("Ewa's open case was touched: %+v", c)
		}
	}
}

// TestGDPRCommandErrors checks the command line's refusals.
func TestGDPRCommandErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	db, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no subcommand", []string{"gdpr"}, 2, "want export, erase, retention or audit"},
		{"unknown subcommand", []string{"gdpr", "forget"}, 2, `unknown subcommand "forget"`},
		{"erase without address", []string{"gdpr", "erase"}, 2, "want the person's e-mail address"},
		{"not an address", []string{"gdpr", "erase", "jan"}, 1, `"jan" is not an e-mail address; fix: give the plain address`},
		{"staff", []string{"gdpr", "erase", "anna@sklep.example"}, 1, "is a staff address"},
		{"our own address", []string{"gdpr", "erase", "reklamacje@sklep.example"}, 1, "one of claimsd's own addresses"},
		{"a pseudonym", []string{"gdpr", "export", "restricted-0123456789abcdef@erased.invalid"}, 1, "is a pseudonym claimsd made"},
		{"bad --now", []string{"gdpr", "retention", "--now", "soon"}, 2, "want RFC 3339"},
		{"nobody", []string{"gdpr", "erase", "nobody@example.net", "--dry-run"}, 0, "no cases with this customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, context.Background(), append([]string{"--config", cfg}, tt.args...)...)
			if code != tt.code || !strings.Contains(out+errOut, tt.contains) {
				t.Errorf("exit %d, want %d; want %q in\nstdout: %s\nstderr: %s", code, tt.code, tt.contains, out, errOut)
			}
		})
	}
}

// TestDaemonRetentionJob: the daemon's scheduled job purges a case whose
// retention period is over, at the scheduled time of its clock.
func TestDaemonRetentionJob(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "127.0.0.1", 1143, "claims@example.test", "pw")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg.DataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	closed := time.Date(2019, 6, 1, 10, 0, 0, 0, cfg.Location)
	err = db.Update(func(tx *store.Tx) error {
		c := &store.Case{ID: "CLM-2019-000001", Status: store.StatusResolved, Customer: gdprJan, Subject: gdprJanWords,
			CreatedAt: closed, ReceivedAt: closed, ClosedAt: closed, Category: "repair"}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		return tx.AddMessage(&store.Message{CaseID: c.ID, From: gdprJan, Text: gdprJanWords, Kind: "customer"}, []byte("Subject: "+gdprJanWords+"\r\n\r\n"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The default schedule is 03:30 every night; the clock stands just
	// before it on a day the case is due.
	now := time.Date(2027, 1, 2, 3, 29, 59, 900_000_000, cfg.Location)
	d, err := openDaemon(cfg, slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sched, err := cron.ParseStandard("CRON_TZ=" + cfg.Location.String() + " " + *cfg.Retention.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.runRetention(ctx, sched); close(done) }()
	var c store.Case
	deadline := time.Now().Add(10 * time.Second)
	for c.PurgedAt.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		d.db.View(func(tx *store.Tx) error { c, _, err = tx.Case("CLM-2019-000001"); return err })
	}
	cancel()
	<-done
	if c.PurgedAt.IsZero() || c.Customer != "" || c.Category != "repair" || c.Events[len(c.Events)-1].What != "retention_purged" {
		t.Fatalf("after the scheduled run: %+v", c)
	}
	if hits := grepDir(t, cfg.DataDir, gdprJan); len(hits) > 0 {
		// The daemon does not compact: the bytes may linger in freed
		// pages, but never in a live record.
		d.db.View(func(tx *store.Tx) error {
			msgs, _ := tx.CaseMessages(c.ID)
			if len(msgs) != 1 || msgs[0].Text != "" || msgs[0].From != "" || tx.Raw(msgs[0].Seq) != nil {
				t.Errorf("purged message: %+v", msgs)
			}
			return nil
		})
	}
}
