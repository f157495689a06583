package reliability_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
	"github.com/claimsd/claimsd/store"
)

// maxAnon bounds claimsd's own memory (RssAnon: heap, stacks) in a
// `run --once` on any one hostile message and on the backlog; the
// resident set (VmHWM) also counts the store's pages that bbolt maps,
// which grow with the store and which the kernel can drop at any time.
const maxAnon = 100 << 20

// mem writes a run's memory for the table.
func mem(r reliability.Run) string {
	return fmt.Sprintf("RSS %.1f MB, anon %.1f MB", float64(r.PeakRSS)/(1<<20), float64(r.PeakAnon)/(1<<20))
}

// hostile: messages built to hurt the parser, each stored (or refused)
// with a reason, in bounded memory, without a crash; the fuzzers of every
// parser with the corpus as seeds.
func (s *suite) hostile(t *testing.T) {
	t.Run("Messages", s.hostileMessages)
	t.Run("Fuzz", s.fuzz)
}

func (s *suite) hostileMessages(t *testing.T) {
	d := mailtest.StartDovecot(t, reliability.StackUsers()...)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := reliability.Config{DataDir: data, IMAPPort: d.IMAPPort,
		IMAPUser: reliability.ClaimsUser, IMAPPassword: reliability.ClaimsPass}.Write(t, dir)
	msgs := append([]reliability.Hostile{reliability.BigMessage(sizes.BigMessageMB)}, reliability.HostileMessages(sizes.Parts)...)
	for _, h := range msgs {
		sc := "hostile: " + h.Name
		d.DeliverMaildir(t, reliability.ClaimsUser, "INBOX", [][]byte{h.Raw}, time.Now())
		run := reliability.Exec(t, s.bin, cfg, "run", "--once")
		s.report.Check(t, sc, "`run --once`: exit, peak memory", exitText(run.Err)+", "+mem(run),
			fmt.Sprintf("0, anon ≤ %d MB", maxAnon>>20), run.Err == nil && run.PeakAnon <= maxAnon)
		if run.Err != nil {
			t.Logf("%s: run --once: %v\n%s%s", h.Name, run.Err, run.Stdout, reliabilityTail(run.Stderr))
			continue
		}
		outcome, ok, m := storedOutcome(t, data, h)
		s.report.Check(t, sc, fmt.Sprintf("%.1f MB: outcome", float64(len(h.Raw))/(1<<20)), outcome, "stored or refused, with a reason", ok)
		s.report.Note(sc, "`run --once` time", run.Took.Round(10*time.Millisecond), "", true)
		switch {
		case strings.HasPrefix(h.Name, "header injection"):
			s.checkInjection(t, sc, cfg, data, m)
		case strings.HasPrefix(h.Name, "attachment names"):
			s.checkPaths(t, sc, dir, data, m)
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

func reliabilityTail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// storedOutcome says what the store made of a message: found by its
// Message-ID, or by its bytes when the header could not be read.
func storedOutcome(t *testing.T, data string, h reliability.Hostile) (string, bool, store.Message) {
	t.Helper()
	db, err := store.Open(data, store.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var m store.Message
	found := false
	err = db.View(func(tx *store.Tx) error {
		seq, ok := tx.MessageSeqByID(h.MessageID)
		if !ok {
			sum := sha256.Sum256(h.Raw)
			if seq, ok = tx.MessageSeqByRawHash(hex.EncodeToString(sum[:])); !ok {
				return nil
			}
		}
		m, found, err = tx.Message(seq)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		return "not stored", false, m
	}
	var parts []string
	if m.CaseID != "" {
		parts = append(parts, "case "+m.CaseID)
	} else {
		parts = append(parts, "kept unfiled ("+m.Kind+": "+clip(m.KindReason+" "+m.ThreadNote, 40)+")")
	}
	if m.ParseError != "" {
		parts = append(parts, "unparsable: "+clip(m.ParseError, 60))
	}
	if len(m.Problems) > 0 {
		parts = append(parts, fmt.Sprintf("%d problems, first: %s", len(m.Problems), clip(m.Problems[0], 60)))
	}
	if len(m.Subject) > 200 {
		parts = append(parts, fmt.Sprintf("subject kept %d bytes", len(m.Subject)))
	}
	return strings.Join(parts, "; "), m.ParseError != "" || len(m.Problems) > 0 || m.CaseID != "", m
}

// checkInjection renders the acknowledgement of the message's case as it
// would be sent and looks for headers the customer wrote into it.
func (s *suite) checkInjection(t *testing.T, sc, cfg, data string, m store.Message) {
	t.Helper()
	db, err := store.Open(data, store.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ackID uint64
	err = db.View(func(tx *store.Tx) error {
		c, _, err := tx.Case(m.CaseID)
		ackID = c.AckOutboxID
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ackID == 0 {
		s.report.Check(t, sc, "acknowledgement to check for injected headers", "none queued", "one", false)
		return
	}
	out := reliability.MustExec(t, s.bin, cfg, "outbox", "show", strconv.FormatUint(ackID, 10)).Stdout
	msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(out)))
	if err != nil {
		s.report.Check(t, sc, "acknowledgement parses as a message", clip(err.Error(), 60), "yes", false)
		return
	}
	var bad []string
	for name, values := range msg.Header {
		switch {
		case name == "Bcc" || name == "X-Injected":
			bad = append(bad, name)
		case (name == "To" || name == "Subject") && len(values) != 1:
			bad = append(bad, fmt.Sprintf("%d× %s", len(values), name))
		}
	}
	if strings.Contains(msg.Header.Get("Subject"), "\r") || strings.Contains(msg.Header.Get("Subject"), "\n") {
		bad = append(bad, "line break in Subject")
	}
	value := "none"
	if len(bad) > 0 {
		value = strings.Join(bad, ", ")
	}
	s.report.Check(t, sc, "headers injected into the acknowledgement", value, "none", len(bad) == 0)
}

var blobName = regexp.MustCompile(`^[0-9a-f]{2}/[0-9a-f]{64}(\.eml)?$`)

// checkPaths looks for a file any attachment name aimed at, anywhere
// under the test's directories, /tmp and the root, and checks that the
// data directory holds only content-addressed files.
func (s *suite) checkPaths(t *testing.T, sc, dir, data string, m store.Message) {
	t.Helper()
	var escaped []string
	for _, root := range []string{filepath.Dir(dir), os.TempDir(), "/tmp", "/"} {
		_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if e.IsDir() && p != root && (root == "/" || root == "/tmp") {
				return fs.SkipDir // only the top level of those
			}
			if strings.Contains(e.Name(), reliability.AttackMarker) {
				escaped = append(escaped, p)
			}
			return nil
		})
	}
	var odd []string
	for _, sub := range []string{"attachments", "raw"} {
		base := filepath.Join(data, sub)
		_ = filepath.WalkDir(base, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(base, p)
			if !blobName.MatchString(rel) {
				odd = append(odd, p)
			}
			return nil
		})
	}
	slices.Sort(escaped)
	s.report.Check(t, sc, "files written outside the data directory", len(escaped), "0", len(escaped) == 0)
	s.report.Check(t, sc, "files not named by their SHA-256", len(odd), "0", len(odd) == 0)
	stored := 0
	for _, a := range m.Attachments {
		if strings.Contains(a.Name, reliability.AttackMarker) {
			stored++
		}
	}
	s.report.Note(sc, "attachments kept, names as display text only", fmt.Sprintf("%d of %d", stored, len(reliability.AttackNames)), fmt.Sprint(len(reliability.AttackNames)), stored == len(reliability.AttackNames))
	if len(escaped) > 0 {
		t.Logf("files outside the data directory: %v", escaped)
	}
}

// fuzz runs every parser's fuzzer for the set time, seeded with the
// corpus (long suite, or -reliability.fuzztime).
func (s *suite) fuzz(t *testing.T) {
	d := sizes.FuzzTime
	if *fuzzTime > 0 {
		d = *fuzzTime
	}
	if d == 0 {
		s.report.Note("hostile: fuzzers", "run", "not in the short suite (seed inputs run as unit tests)", "", true)
		return
	}
	corpus := mailtest.CorpusDir(t)
	cache, err := reliability.GoCache()
	if err != nil {
		t.Fatal(err)
	}
	written, err := reliability.WriteFuzzSeeds(corpus, cache)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	targets, err := reliability.ListFuzzTargets(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range targets {
		key := target.Package + "." + target.Name
		r := reliability.Fuzz(root, target, d)
		sc := "hostile: fuzz " + strings.TrimPrefix(target.Package, "github.com/claimsd/claimsd/") + "." + target.Name
		s.report.Check(t, sc, fmt.Sprintf("%v, %d corpus seeds: executions, failures", d, written[key]),
			fmt.Sprintf("%d, %d", r.Execs, boolInt(r.Failed)), "0 failures", !r.Failed)
		if r.Failed {
			t.Logf("%s:\n%s", key, r.Output)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
