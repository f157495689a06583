package main

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// devSet is the folder of labelled mail the rules are developed against
// (the evaluation set stays unseen).
const devSet = "../../classifier/testdata/dev"

// TestClassifierTrain: `classifier train` teaches the stored model from a
// labelled folder, first on the store directly, then through the running
// daemon, whose live model grows too; --dry-run changes nothing and
// --reset starts from an empty model.
func TestClassifierTrain(t *testing.T) {
	srv, err := devmail.StartIMAP(nil, "claims@example.test", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(portStr)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, host, port, "claims@example.test", "pw")
	// A first run creates the store.
	mustCLI(t, "--config", cfg, "run", "--once")

	held := regexp.MustCompile(`category: trained on (\d+) examples; the model now holds (\d+)`)
	trainCLI := func(args ...string) (added, total int) {
		t.Helper()
		out := mustCLI(t, append([]string{"--config", cfg, "classifier", "train", devSet}, args...)...)
		m := held.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("unexpected output:\n%s", out)
		}
		added, _ = strconv.Atoi(m[1])
		total, _ = strconv.Atoi(m[2])
		return added, total
	}

	out := mustCLI(t, "--config", cfg, "classifier", "train", devSet, "--dry-run")
	if !strings.Contains(out, "category: would train on") {
		t.Fatalf("dry run: %s", out)
	}
	if n := storedExamples(t, cfg); n != 0 {
		t.Fatalf("dry run stored a model with %d examples", n)
	}
	n, total := trainCLI()
	if n < 100 || total != n {
		t.Fatalf("first training: added %d, holds %d", n, total)
	}
	if got := storedExamples(t, cfg); got != n {
		t.Fatalf("store holds %d examples, want %d", got, n)
	}
	if _, total := trainCLI("--reset"); total != n {
		t.Fatalf("--reset: holds %d, want %d", total, n)
	}

	// Through the daemon: it trains its live model and stores it.
	startDaemon(t, cfg)
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "control socket", func() bool {
		conn, err := net.Dial("unix", c.SocketPath())
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	if _, total := trainCLI(); total != 2*n {
		t.Fatalf("through the daemon: holds %d, want %d", total, 2*n)
	}

	_, errOut, code := runCLI(t, context.Background(), "--config", cfg, "classifier", "train", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "no .eml files") {
		t.Errorf("empty folder: exit %d, %s", code, errOut)
	}
}

// storedExamples reads the category examples of the model in the store
// (with no daemon running).
func storedExamples(t *testing.T, cfgPath string) int {
	t.Helper()
	c, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(c.DataDir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var data []byte
	db.View(func(tx *store.Tx) error { data = tx.Value(outbox.ModelKey); return nil })
	if data == nil {
		return 0
	}
	m, err := classifier.UnmarshalModel(data)
	if err != nil {
		t.Fatal(err)
	}
	return m.Examples(classifier.SpaceCategory)
}
