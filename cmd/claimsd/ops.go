package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/claimsd/claimsd/store"
)

// wireOps registers the health checks (mailboxes, outbox) and, when
// metrics.listen is set, the metrics and health endpoint as a background
// job.
func (d *daemon) wireOps() error {
	m := d.cfg.Metrics
	started := time.Now()
	mailboxes := []watchedMailbox{{label: "claims", name: d.cfg.IMAP.Mailbox, w: d.watcher}}
	if d.sentWatcher != nil {
		name := d.cfg.Answering.SentFolder
		if name == "" {
			name = `\Sent`
		}
		mailboxes = append(mailboxes, watchedMailbox{label: "sent", name: name, w: d.sentWatcher})
	}
	for _, mb := range mailboxes {
		d.healthChecks = append(d.healthChecks, mailboxCheck(mb, m.PollStaleAfter.Duration, started))
	}
	// Without smtp.host mail waits in the outbox by design: not stuck.
	if d.sender != nil {
		d.healthChecks = append(d.healthChecks, outboxCheck(d.db, m.OutboxStuckAfter.Duration))
	}
	if m.Listen == "" {
		return nil
	}
	reg := newMetricsRegistry(newStoreCollector(d.db, mailboxes, d.cfg.Location, d.now))
	ep, err := listenOps(m.Listen, reg, d.serveHealth, d.log.With("component", "metrics"))
	if err != nil {
		return err
	}
	d.background = append(d.background, ep.run)
	return nil
}

// backupTrailer carries the outcome of a backup streamed over the
// control socket: the status line went out before the archive did.
const backupTrailer = "X-Claimsd-Backup"

// backupOutcome is the trailer's value.
type backupOutcome struct {
	Info       store.BackupInfo `json:"info"`
	Error      string           `json:"error,omitempty"`
	Incomplete bool             `json:"incomplete,omitempty"` // written, but raw files were missing
}

// serveBackup streams a backup to the CLI (GET /v1/backup). The CLI
// writes the file: with its permissions and in its file system view, as
// the daemon may run with a read-only view of everything but data_dir.
func (r storeReader) serveBackup(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Trailer", backupTrailer)
	start := time.Now()
	info, err := r.db.Backup(w)
	out := backupOutcome{Info: info}
	log := r.daemon.log.With("component", "backup")
	switch {
	case err == nil:
		log.Info("backup sent", "db_bytes", info.DBBytes, "raw_files", info.RawFiles, "attachments", info.Attachments,
			"file_bytes", info.FileBytes, "took", time.Since(start).Round(time.Millisecond))
	case errors.Is(err, store.ErrBackupIncomplete):
		out.Error, out.Incomplete = err.Error(), true
		log.Error("backup sent without some raw message files", "err", err)
	default:
		out.Error = err.Error()
		log.Error("backup failed", "err", err)
	}
	// A trailer is one header line: the list of problems is in the error.
	out.Info.RawProblems = nil
	data, _ := json.Marshal(out)
	w.Header().Set(backupTrailer, string(data))
}

// serveVerify runs the consistency check in the daemon (GET /v1/verify),
// which holds the file lock.
func (r storeReader) serveVerify(w http.ResponseWriter, _ *http.Request) {
	report, err := r.db.Verify()
	if err != nil {
		r.daemon.log.Error("verify failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(report)
}

// longRequest asks the daemon something that takes as long as the store
// is big: no client timeout, only ctx.
func longRequest(ctx context.Context, socket, path string) (*http.Response, error) {
	client := *dialControl(socket).client
	client.Timeout = 0
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://claimsd"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the running daemon: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		// The path alone: a query may hold a person's address.
		return nil, fmt.Errorf("the running daemon does not know %s: it is older than this claimsd; restart it with this version", req.URL.Path)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("daemon answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}

// askLong gets JSON from the daemon into v, with longRequest.
func askLong(ctx context.Context, socket, path string, v any) error {
	resp, err := longRequest(ctx, socket, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("read the daemon's answer: %w", err)
	}
	return nil
}

// streamFromDaemon copies the archive the daemon streams for path (with
// longRequest) into w, and decodes the outcome the daemon sends after it,
// in the trailer named trailer, into outcome. The trailer arrives after
// the body; without it the daemon did not finish the archive. what names
// the archive in errors.
func streamFromDaemon(ctx context.Context, socket, path, trailer, what string, w io.Writer, outcome any) error {
	resp, err := longRequest(ctx, socket, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("receive the %s from the daemon: %w", what, err)
	}
	if err := json.Unmarshal([]byte(resp.Trailer.Get(trailer)), outcome); err != nil {
		return fmt.Errorf("the daemon's %s ended without its outcome: the archive is incomplete (see the daemon's log)", what)
	}
	return nil
}

func (c *cli) backup(args []string) error {
	fs := c.flags("backup")
	file, err := oneArg(fs, args, "file", "the file to write, e.g. claimsd backup /var/backups/claimsd/claimsd-$(date +%F).tar.gz")
	if err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	var info store.BackupInfo
	err = writeFileAtomically(file, func(w io.Writer) (err error) {
		info, err = c.backupTo(w, cfg.DataDir, cfg.SocketPath())
		return err
	})
	incomplete := errors.Is(err, store.ErrBackupIncomplete)
	if err != nil && !incomplete {
		return fmt.Errorf("backup %s: %w", file, err)
	}
	fmt.Fprintf(c.stdout, "backup %s: schema %d, database %s, %d raw message files and %d attachments (%s), taken %s\n",
		file, info.Schema, byteSize(info.DBBytes), info.RawFiles, info.Attachments, byteSize(info.FileBytes), info.CreatedAt.Format(time.RFC3339))
	if info.AttachmentsMissing > 0 {
		fmt.Fprintf(c.stdout, "note: %d attachment files were missing (a cache: each is in its raw message)\n", info.AttachmentsMissing)
	}
	if incomplete {
		return fmt.Errorf("backup %s was written but is incomplete (claimsd verify lists what the store lacks): %w", file, err)
	}
	return nil
}

// backupTo writes the store's backup to w: the store itself when no
// daemon holds it, else the daemon's, over the control socket.
func (c *cli) backupTo(w io.Writer, dataDir, socket string) (store.BackupInfo, error) {
	info, err := store.BackupDir(dataDir, w)
	if !errors.Is(err, store.ErrLocked) {
		return info, err
	}
	var out backupOutcome
	if err := streamFromDaemon(c.ctx, socket, "/v1/backup", backupTrailer, "backup", w, &out); err != nil {
		return store.BackupInfo{}, err
	}
	switch {
	case out.Incomplete:
		return out.Info, fmt.Errorf("%w: %s", store.ErrBackupIncomplete, out.Error)
	case out.Error != "":
		return out.Info, fmt.Errorf("the daemon: %s", out.Error)
	}
	return out.Info, nil
}

func (c *cli) restore(args []string) error {
	fs := c.flags("restore")
	force := fs.Bool("force", false, "replace a data_dir that is not empty (its contents are moved aside to DATA_DIR.replaced-TIME)")
	ignore := fs.Bool("ignore-problems", false, "restore a backup that does not verify (e.g. one whose raw message files were lost)")
	file, err := oneArg(fs, args, "file", "the backup file, e.g. claimsd restore /var/backups/claimsd/claimsd-2026-11-30.tar.gz")
	if err != nil {
		return err
	}
	cfg, err := c.loadConfig()
	if err != nil {
		return err
	}
	r, closeFile, err := openBackup(file)
	if err != nil {
		return err
	}
	defer closeFile()
	res, err := store.Restore(r, cfg.DataDir, store.RestoreOptions{Force: *force, IgnoreProblems: *ignore})
	if err != nil {
		return fmt.Errorf("restore %s: %w", file, err)
	}
	fmt.Fprintf(c.stdout, "restored %s (taken %s, schema %d) into %s\n", file, res.Info.CreatedAt.Format(time.RFC3339), res.Info.Schema, cfg.DataDir)
	printReport(c.stdout, res.Report)
	if res.MovedAside != "" {
		fmt.Fprintf(c.stdout, "the previous data_dir is in %s; delete it once the restored store is right\n", res.MovedAside)
	}
	if res.Info.Schema < store.SchemaVersion {
		fmt.Fprintf(c.stdout, "the backup has schema %d: the daemon migrates it to %d when it starts\n", res.Info.Schema, store.SchemaVersion)
	}
	return nil
}

func (c *cli) verify(args []string) error {
	fs := c.flags("verify")
	asJSON := fs.Bool("json", false, "print JSON")
	backupFile := fs.String("backup", "", "check this backup file instead of data_dir (unpacked into a temporary directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("verify: unexpected %q (a backup file goes after --backup)", fs.Arg(0))
	}
	var report store.Report
	var err error
	if *backupFile != "" {
		report, err = verifyBackupFile(*backupFile)
	} else {
		report, err = c.verifyStore()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if err := c.printJSON(report); err != nil {
			return err
		}
	} else {
		printReport(c.stdout, report)
	}
	if !report.OK() {
		return fmt.Errorf("verify: %d problems", len(report.Problems)+report.Omitted)
	}
	return nil
}

// verifyStore checks data_dir itself, or asks the daemon that holds it.
func (c *cli) verifyStore() (store.Report, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return store.Report{}, err
	}
	report, err := store.Verify(cfg.DataDir)
	if !errors.Is(err, store.ErrLocked) {
		return report, err
	}
	err = askLong(c.ctx, cfg.SocketPath(), "/v1/verify", &report)
	return report, err
}

// verifyBackupFile unpacks a backup into a temporary directory and checks
// it there: a backup can be tested without touching data_dir.
func verifyBackupFile(file string) (store.Report, error) {
	r, closeFile, err := openBackup(file)
	if err != nil {
		return store.Report{}, err
	}
	defer closeFile()
	dir, err := os.MkdirTemp("", "claimsd-verify-")
	if err != nil {
		return store.Report{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := store.Extract(r, dir); err != nil {
		return store.Report{}, fmt.Errorf("verify %s: %w", file, err)
	}
	return store.Verify(dir)
}

func printReport(w io.Writer, r store.Report) {
	fmt.Fprintf(w, "schema %d: %d cases, %d messages, %d outgoing mails\n", r.Schema, r.Cases, r.Messages, r.OutboxItems)
	fmt.Fprintf(w, "checked: bbolt pages, indexes, %d raw messages in the database and %d raw message files (size and SHA-256), %d attachment files\n",
		r.RawInline, r.RawFiles, r.Attachments)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	if r.Omitted > 0 {
		fmt.Fprintf(w, "PROBLEM: %d more not listed\n", r.Omitted)
	}
	if r.OK() {
		fmt.Fprintln(w, "ok")
	}
}

// isGzip says whether a backup file name asks for compression.
func isGzip(name string) bool {
	return strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tgz")
}

// writeFileAtomically writes path through a temporary file beside it,
// synced and renamed into place, the directory synced after: a crash
// leaves the old file or the new one, never a part. write's
// store.ErrBackupIncomplete still keeps the file (it is the best backup
// there is); any other error removes it.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create a file beside %s: %w", path, err)
	}
	kept := false
	defer func() {
		if !kept {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var zw *gzip.Writer
	if isGzip(path) {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	werr := write(w)
	if werr != nil && !errors.Is(werr, store.ErrBackupIncomplete) {
		return werr
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	kept = true
	if err := store.SyncDir(dir); err != nil {
		return err
	}
	return werr
}

// openBackup opens a backup file, gzip-compressed or not (recognised by
// its first bytes, not its name).
func openBackup(file string) (io.Reader, func(), error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		return zr, func() { f.Close() }, nil
	}
	return br, func() { f.Close() }, nil
}

// byteSize prints n bytes for people.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
