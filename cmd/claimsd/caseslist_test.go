package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/claimsd/claimsd/config"
	"github.com/claimsd/claimsd/store"
	bolt "go.etcd.io/bbolt"
)

// fillListCases writes n cases of every status and mark the table shows
// into a new store in dataDir; customers' addresses grow longer at case
// 1700, so that a later block of the table is wider than the first.
func fillListCases(t *testing.T, dataDir string, n int) {
	t.Helper()
	db, err := store.Open(dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *store.Tx) error {
		for i := range n {
			c := listCase(i)
			if err := tx.UpdateCase(nil, &c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func listCase(i int) store.Case {
	t0 := time.Date(2026, 11, 2, 7, 30, 0, 0, time.UTC)
	statuses := []string{store.StatusOpen, store.StatusWaiting, store.StatusResolved, store.StatusRejected}
	c := store.Case{
		ID:       fmt.Sprintf("CLM-2026-%06d", i+1),
		Status:   statuses[i%len(statuses)],
		Customer: fmt.Sprintf("klient%d@sklep%d.example", i, i%7),
		Subject:  fmt.Sprintf("Reklamacja nr %d: pęknięty ekran <telefonu> & etui", i),
		Messages: 1 + i%4,
		// Created in arrival order, as intake creates them; shown in
		// Europe/Warsaw.
		CreatedAt: t0.Add(time.Duration(i) * time.Minute), ReceivedAt: t0.Add(time.Duration(i) * time.Minute),
		LastMessageAt: t0.Add(time.Duration(i) * time.Minute),
	}
	if i >= 1700 {
		c.Customer = "bardzo.dlugi.adres." + c.Customer
	}
	switch {
	case store.IsOpenStatus(c.Status):
		c.LegalDue = fmt.Sprintf("2026-12-%02d", 1+i%28)
		c.LegalOverdue = i%5 == 0
		c.FirstAnswerOverdue = i%3 == 0
	default:
		c.ClosedAt = c.CreatedAt.Add(48 * time.Hour)
		c.Restricted = i%11 == 0
		if i%13 == 0 {
			c.PurgedAt = c.ClosedAt.Add(time.Hour)
		}
	}
	c.CustomerUnreachable = i%17 == 0
	if i%19 == 0 {
		c.Subject = strings.Repeat("Bardzo długi temat reklamacji ", 4) + fmt.Sprint(i)
	}
	if i%23 == 0 {
		c.Subject = ""
	}
	return c
}

// tabwriterTable is the table of cases as printCases made it before it
// printed in blocks: one text/tabwriter flushed at the end.
func tabwriterTable(cases []store.Case) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tRECEIVED\tLEGAL DUE\tMSGS\tCUSTOMER\tSUBJECT")
	for _, cs := range cases {
		due := cs.LegalDue
		if cs.LegalOverdue {
			due += " OVERDUE"
		}
		if cs.FirstAnswerOverdue && cs.FirstAnsweredAt.IsZero() {
			due += " (no first answer)"
		}
		if cs.CustomerUnreachable {
			due += " (unreachable)"
		}
		status := cs.Status
		switch {
		case !cs.PurgedAt.IsZero():
			status += " (purged)"
		case cs.Restricted:
			status += " (restricted)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", cs.ID, status, cs.ReceivedAt.Format("2006-01-02 15:04"), due, cs.Messages, cs.Customer, clip(cs.Subject, 60))
	}
	tw.Flush()
	return b.String()
}

// TestCaseTable: a table of up to one block is exactly the tabwriter's;
// a longer one keeps each block aligned and widens a column only from
// the block where a wider cell appears.
func TestCaseTable(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"no case", 0},
		{"one case", 1},
		{"one block", caseTableBlock - 1},
		{"blocks", 3 * caseTableBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cases []store.Case
			for i := range tt.n {
				cases = append(cases, listCase(i))
			}
			var b bytes.Buffer
			if err := printCases(&b, cases); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			if tt.n < caseTableBlock {
				if want := tabwriterTable(cases); got != want {
					t.Errorf("table differs from the tabwriter's:\n%s\nwant:\n%s", got, want)
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(lines) != tt.n+1 {
				t.Fatalf("%d lines, want %d", len(lines), tt.n+1)
			}
			first := strings.Join(lines[:caseTableBlock], "\n") + "\n"
			if want := tabwriterTable(cases[:caseTableBlock-1]); first != want {
				t.Errorf("first block differs from the tabwriter's")
			}
			// Where the last column starts, block by block.
			var starts []int
			for i, line := range lines {
				cell := "SUBJECT"
				if i > 0 {
					cell = clip(cases[i-1].Subject, 60)
				}
				start := utf8.RuneCountInString(strings.TrimSuffix(line, cell))
				if i%caseTableBlock == 0 {
					starts = append(starts, start)
				} else if want := starts[len(starts)-1]; start != want {
					t.Fatalf("line %d: subject at column %d, want %d as in the rest of its block:\n%s", i+1, start, want, line)
				}
			}
			if !slices.IsSorted(starts) || starts[0] == starts[len(starts)-1] {
				t.Errorf("subject column by block %v: want growing with the longer addresses of case 1700 on", starts)
			}
		})
	}
}

// TestCaseJSON: the streamed array is byte for byte the one printJSON
// makes of the whole slice, as `cases list --json` printed before.
func TestCaseJSON(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cases := []store.Case{}
			for i := range n {
				cases = append(cases, listCase(i*19)) // long subjects, HTML characters
			}
			var want, got bytes.Buffer
			if err := (&cli{stdout: &want}).printJSON(cases); err != nil {
				t.Fatal(err)
			}
			j := &caseJSON{w: &got}
			for _, c := range cases {
				if err := j.Add(c); err != nil {
					t.Fatal(err)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("streamed:\n%s\nwant:\n%s", got.String(), want.String())
			}
		})
	}
}

// TestCasesListDaemonAndOffline lists a store of more cases than a page
// of the store and a block of the table, every way, with no daemon (the
// CLI reads the file) and then through a running daemon: the outputs are
// identical, and the JSON is what printJSON makes of all the cases.
func TestCasesListDaemonAndOffline(t *testing.T) {
	const n = 3000
	dir := t.TempDir()
	cfgPath := opsConfig(t, dir, startOpsServers(t), "")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fillListCases(t, cfg.DataDir, n)
	listings := [][]string{
		{"cases", "list"},
		{"cases", "list", "--json"},
		{"cases", "list", "--status", "rejected"},
		{"cases", "list", "--status", "waiting", "--json"},
		{"cases", "list", "--status", "nosuch", "--json"},
		{"cases", "list", "--due-before", "2026-12-03"},
		{"cases", "list", "--due-before", "2026-12-03", "--json"},
	}
	offline := map[string]string{}
	for _, args := range listings {
		offline[strings.Join(args, " ")] = mustCLI(t, append([]string{"--config", cfgPath}, args...)...)
	}

	// What `cases list --json` printed before it streamed: every case,
	// in the zone, through printJSON.
	db, err := store.Open(cfg.DataDir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var all, rejected []store.Case
	db.View(func(tx *store.Tx) error {
		all, err = tx.ListCases(store.CaseFilter{})
		if err != nil {
			return err
		}
		rejected, err = tx.ListCases(store.CaseFilter{Status: store.StatusRejected})
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		inZone(&all[i], cfg.Location)
	}
	for i := range rejected {
		inZone(&rejected[i], cfg.Location)
	}
	var want bytes.Buffer
	if err := (&cli{stdout: &want}).printJSON(all); err != nil {
		t.Fatal(err)
	}
	if got := offline["cases list --json"]; got != want.String() {
		t.Errorf("cases list --json differs from printJSON of the %d cases (%d bytes, want %d)", len(all), len(got), want.Len())
	}
	var parsed []store.Case
	if err := json.Unmarshal([]byte(offline["cases list --json"]), &parsed); err != nil || len(parsed) != n {
		t.Errorf("cases list --json: %d cases, %v", len(parsed), err)
	}
	if got, want := offline["cases list --status rejected"], tabwriterTable(rejected); got != want {
		t.Errorf("cases list --status rejected (%d cases, one block) differs from the tabwriter's table", len(rejected))
	}
	if got := offline["cases list --status nosuch --json"]; got != "[]\n" {
		t.Errorf("no case: %q, want []", got)
	}
	if lines := strings.Count(offline["cases list"], "\n"); lines != n+1 {
		t.Errorf("cases list: %d lines, want %d", lines, n+1)
	}

	startDaemon(t, cfgPath)
	waitFor(t, 30*time.Second, "the daemon's control socket", func() bool {
		conn, err := net.Dial("unix", cfg.SocketPath())
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	for _, args := range listings {
		key := strings.Join(args, " ")
		if got := mustCLI(t, append([]string{"--config", cfgPath}, args...)...); got != offline[key] {
			t.Errorf("%s through the daemon differs from the store read offline (%d bytes, want %d)", key, len(got), len(offline[key]))
		}
	}
}

// TestCasesListCutShort: a listing whose store fails part way (a case
// that does not decode) ends with that error, offline and through the
// daemon, and its JSON stays unclosed, so no one takes it for complete.
func TestCasesListCutShort(t *testing.T) {
	dir := t.TempDir()
	cfgPath := opsConfig(t, dir, startOpsServers(t), "")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fillListCases(t, cfg.DataDir, 1500)
	bdb, err := bolt.Open(filepath.Join(cfg.DataDir, "claimsd.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("cases")).Put([]byte("CLM-2026-999999"), []byte("{not json"))
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	check := func(how string) {
		t.Helper()
		for _, asJSON := range []bool{false, true} {
			args := []string{"--config", cfgPath, "cases", "list"}
			if asJSON {
				args = append(args, "--json")
			}
			out, errOut, code := runCLI(t, context.Background(), args...)
			if code != 1 || !strings.Contains(errOut, "decode case CLM-2026-999999") {
				t.Errorf("%s %v: exit %d, stderr %q; want 1 and the case that did not decode", how, args[3:], code, errOut)
			}
			if asJSON && (!strings.HasPrefix(out, "[\n") || json.Valid([]byte(out))) {
				t.Errorf("%s --json: printed %d bytes that parse as a whole listing", how, len(out))
			}
		}
	}
	check("offline")
	startDaemon(t, cfgPath)
	waitFor(t, 30*time.Second, "the daemon's control socket", func() bool {
		conn, err := net.Dial("unix", cfg.SocketPath())
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	check("through the daemon")
}

// TestSocketReaderStreams: the CLI's side of GET /v1/cases hands each
// case on as it arrives (the server below sends the rest only once the
// CLI has the first two), reads the arrays of daemons from before
// streaming, and reports a listing cut short with the daemon's reason.
func TestSocketReaderStreams(t *testing.T) {
	type answer struct {
		first, rest string // body before and after the CLI has the first two cases
		trailer     string
	}
	tests := []struct {
		name    string
		answer  answer
		want    []string
		wantErr string
	}{
		{"streamed", answer{first: `[{"id":"CLM-2026-000001"},{"id":"CLM-2026-000002"}`, rest: `,{"id":"CLM-2026-000003"}]`}, []string{"CLM-2026-000001", "CLM-2026-000002", "CLM-2026-000003"}, ""},
		{"older daemon", answer{first: `[{"id":"CLM-2026-000001"},{"id":"CLM-2026-000002"}]` + "\n"}, []string{"CLM-2026-000001", "CLM-2026-000002"}, ""},
		{"older daemon, no case", answer{first: "null\n"}, nil, ""},
		{"the daemon's error", answer{first: `[{"id":"CLM-2026-000001"},{"id":"CLM-2026-000002"}`, rest: `,`, trailer: "decode case CLM-2026-000003: unexpected end of JSON input"},
			[]string{"CLM-2026-000001", "CLM-2026-000002"}, "the daemon stopped listing cases: decode case CLM-2026-000003: unexpected end of JSON input"},
		{"cut short", answer{first: `[{"id":"CLM-2026-000001"},{"id":"CLM-2026-000002"}`}, []string{"CLM-2026-000001", "CLM-2026-000002"}, "read the daemon's list of cases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotTwo := make(chan struct{})
			socket := filepath.Join(t.TempDir(), "s.sock")
			ln, err := net.Listen("unix", socket)
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.URL.Path != "/v1/cases" || req.URL.Query().Get("status") != "open" {
					http.Error(w, "unexpected "+req.URL.String(), http.StatusBadRequest)
					return
				}
				w.Header().Set("Trailer", casesErrorTrailer)
				io.WriteString(w, tt.answer.first)
				w.(http.Flusher).Flush()
				if tt.answer.rest != "" {
					select {
					case <-gotTwo:
					case <-req.Context().Done():
						return
					}
					io.WriteString(w, tt.answer.rest)
				}
				if tt.answer.trailer != "" {
					w.Header().Set(casesErrorTrailer, tt.answer.trailer)
				}
			})}
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close() })
			// Only a CLI that waits for the whole answer runs into this.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var got []string
			err = dialControl(socket).EachCase(ctx, store.CaseFilter{Status: store.StatusOpen}, func(c store.Case) error {
				if got = append(got, c.ID); len(got) == 2 {
					close(gotTwo)
				}
				return nil
			})
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the CLI waited for the whole answer before handing on the first cases (got %q)", got)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("cases %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("fn's error stops", func(t *testing.T) {
		db, err := store.Open(t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.Update(func(tx *store.Tx) error {
			for i := range 3 {
				c := listCase(i * 4) // open
				if err := tx.UpdateCase(nil, &c); err != nil {
					return err
				}
			}
			return nil
		})
		socket := filepath.Join(t.TempDir(), "s.sock")
		ctl, err := startControl(socket, storeReader{db: db}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer ctl.Close()
		stop := errors.New("stop")
		n := 0
		err = dialControl(socket).EachCase(context.Background(), store.CaseFilter{Status: store.StatusOpen}, func(store.Case) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("err %v after %d cases, want stop after 1", err, n)
		}
	})
}
