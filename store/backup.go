package store

// Backups, restores and the consistency check.
//
// A backup is one tar archive:
//
//	claimsd.db                  the bbolt file as one read transaction saw it
//	raw/ab/<sha256>.eml         the raw-message files that snapshot refers to
//	attachments/ab/<sha256>     the attachment files it refers to
//	claimsd-backup.json         BackupInfo, last: an archive without it is cut short
//
// The database is copied inside one read transaction, so it is a
// consistent snapshot while intake keeps committing. The files are copied
// after that transaction: they are content-addressed and never rewritten,
// and a raw file is synced before the commit that refers to it, so every
// file the snapshot names exists, unless something deleted it since.

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupFormat names the archive layout; Restore refuses any other.
const BackupFormat = "claimsd-backup/1"

const (
	dbFileName       = "claimsd.db"
	manifestName     = "claimsd-backup.json"
	maxManifestBytes = 1 << 20
	// maxListed bounds the names a report lists: a store with a
	// systematic fault would otherwise print a million lines.
	maxListed = 100
)

// ErrBackupIncomplete is returned (wrapped) by Backup when it wrote the
// archive but a raw-message file the snapshot refers to was missing or
// damaged; BackupInfo.RawProblems names them.
var ErrBackupIncomplete = errors.New("backup incomplete")

// BackupInfo describes a backup; it is the archive's last entry.
type BackupInfo struct {
	Format    string    `json:"format"`
	Schema    uint64    `json:"schema_version"`
	CreatedAt time.Time `json:"created_at"`
	DBBytes   int64     `json:"db_bytes"`
	// RawFiles and Attachments count the files archived, FileBytes their
	// size.
	RawFiles    int   `json:"raw_files"`
	Attachments int   `json:"attachments"`
	FileBytes   int64 `json:"file_bytes"`
	// RawProblems lists raw-message files the snapshot refers to that
	// were missing or did not match their record: the archive lacks (or
	// holds damaged) raw bytes of those messages.
	RawProblems []string `json:"raw_problems,omitempty"`
	// AttachmentsMissing counts attachment files not found. Attachments
	// are a cache (each can be extracted again from its raw message), so
	// this does not make the backup incomplete.
	AttachmentsMissing int `json:"attachments_missing,omitempty"`
}

// Backup writes a backup of the store to w (see the layout above). The
// database part is written inside one read transaction; a commit that
// has to grow the file waits until that part is written.
func (db *DB) Backup(w io.Writer) (BackupInfo, error) { return backup(db.bolt, db.dataDir, w) }

// BackupDir writes a backup of the store in dataDir without a daemon: it
// fails with ErrLocked while one runs (ask the daemon, which calls
// DB.Backup). Unlike Open it takes a store of any schema, so the store of
// an older release can be saved before an upgrade.
func BackupDir(dataDir string, w io.Writer) (BackupInfo, error) {
	bdb, err := openReadOnly(dataDir)
	if err != nil {
		return BackupInfo{}, err
	}
	defer bdb.Close()
	return backup(bdb, dataDir, w)
}

// openReadOnly opens dataDir's bbolt file read-only, as it is: no schema
// check, no migration.
func openReadOnly(dataDir string) (*bolt.DB, error) {
	p := filepath.Join(dataDir, dbFileName)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("no store in %s: %w", dataDir, err)
	}
	bdb, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", p, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	return bdb, nil
}

func backup(bdb *bolt.DB, dataDir string, w io.Writer) (BackupInfo, error) {
	tw := tar.NewWriter(w)
	info := BackupInfo{Format: BackupFormat}
	var refs blobRefs
	err := bdb.View(func(tx *bolt.Tx) error {
		info.CreatedAt = time.Now().UTC().Truncate(time.Second)
		info.Schema = schemaOf(tx)
		info.DBBytes = tx.Size()
		if err := tw.WriteHeader(fileHeader(dbFileName, tx.Size(), info.CreatedAt)); err != nil {
			return fmt.Errorf("write backup: %w", err)
		}
		if _, err := tx.WriteTo(tw); err != nil {
			return fmt.Errorf("write database snapshot: %w", err)
		}
		var err error
		refs, err = referencedFiles(tx)
		return err
	})
	if err != nil {
		return info, err
	}
	for _, f := range refs.raw {
		n, problem, err := copyFile(tw, dataDir, f, info.CreatedAt)
		if err != nil {
			return info, err
		}
		if problem != "" {
			info.RawProblems = append(info.RawProblems, problem)
		}
		if n >= 0 {
			info.RawFiles++
			info.FileBytes += n
		}
	}
	for _, f := range refs.attachments {
		n, _, err := copyFile(tw, dataDir, f, info.CreatedAt)
		if err != nil {
			return info, err
		}
		if n < 0 {
			info.AttachmentsMissing++
			continue
		}
		info.Attachments++
		info.FileBytes += n
	}
	manifest, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return info, err
	}
	if err := tw.WriteHeader(fileHeader(manifestName, int64(len(manifest)), info.CreatedAt)); err != nil {
		return info, fmt.Errorf("write backup: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return info, fmt.Errorf("write backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return info, fmt.Errorf("write backup: %w", err)
	}
	if len(info.RawProblems) > 0 {
		return info, fmt.Errorf("%w: %d raw message files missing or damaged: %s", ErrBackupIncomplete,
			len(info.RawProblems), listed(info.RawProblems))
	}
	return info, nil
}

func fileHeader(name string, size int64, mod time.Time) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: mod, Format: tar.FormatPAX}
}

// blobFile is a content-addressed file the database refers to.
type blobFile struct {
	name   string // slash-separated, relative to the data dir
	sha256 string
	size   int64 // -1 when the record does not say
}

type blobRefs struct{ raw, attachments []blobFile }

// referencedFiles lists the raw-message and attachment files the messages
// of tx refer to, each once, sorted by name.
func referencedFiles(tx *bolt.Tx) (blobRefs, error) {
	var files fileSet
	err := tx.Bucket(bMessages).ForEach(func(k, v []byte) error {
		var m messageFiles
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode message %d: %w", binary.BigEndian.Uint64(k), err)
		}
		files.add(m)
		return nil
	})
	return files.refs(), err
}

// fileSet collects the files messages refer to.
type fileSet struct{ raw, attachments map[string]blobFile }

func (s *fileSet) add(m messageFiles) {
	if s.raw == nil {
		s.raw, s.attachments = map[string]blobFile{}, map[string]blobFile{}
	}
	if m.RawInFile && m.RawSHA256 != "" {
		s.raw[m.RawSHA256] = blobFile{rawName(m.RawSHA256), m.RawSHA256, m.RawSize}
	}
	for _, a := range m.Attachments {
		if a.SHA256 != "" {
			s.attachments[a.SHA256] = blobFile{attachmentName(a.SHA256), a.SHA256, a.Size}
		}
	}
}

func (s *fileSet) refs() blobRefs {
	sorted := func(m map[string]blobFile) []blobFile {
		out := make([]blobFile, 0, len(m))
		for _, f := range m {
			out = append(out, f)
		}
		slices.SortFunc(out, func(a, b blobFile) int { return strings.Compare(a.name, b.name) })
		return out
	}
	return blobRefs{raw: sorted(s.raw), attachments: sorted(s.attachments)}
}

// messageFiles is the part of a message record that names files; decoding
// only it skips copying texts.
type messageFiles struct {
	RawSHA256   string         `json:"raw_sha256"`
	RawSize     int64          `json:"raw_size"`
	RawInFile   bool           `json:"raw_in_file"`
	Attachments []recordedFile `json:"attachments"`
}

type recordedFile struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func rawName(sha string) string        { return blobName("raw", sha, ".eml") }
func attachmentName(sha string) string { return blobName("attachments", sha, "") }

// blobName mirrors Blobs.Path with slashes, as names appear in a tar.
func blobName(dir, sha, ext string) string {
	if len(sha) < 2 {
		return dir + "/" + sha + ext
	}
	return dir + "/" + sha[:2] + "/" + sha + ext
}

// copyFile appends the data dir's file f to tw. It returns the bytes
// copied, or -1 when the file does not exist; problem says what was wrong
// with a file that was copied (or missing). err is for failures of the
// archive itself.
func copyFile(tw *tar.Writer, dataDir string, f blobFile, mod time.Time) (n int64, problem string, err error) {
	file, err := os.Open(filepath.Join(dataDir, filepath.FromSlash(f.name)))
	if errors.Is(err, fs.ErrNotExist) {
		return -1, f.name + ": missing", nil
	}
	if err != nil {
		return -1, f.name + ": " + err.Error(), nil
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return -1, f.name + ": " + err.Error(), nil
	}
	// The header fixes the size, so the copy takes exactly the size the
	// file had when opened; blobs are never rewritten in place.
	if err := tw.WriteHeader(fileHeader(f.name, st.Size(), mod)); err != nil {
		return 0, "", fmt.Errorf("write backup: %w", err)
	}
	h := newContentHash()
	if _, err := io.CopyN(io.MultiWriter(tw, h), file, st.Size()); err != nil {
		return 0, "", fmt.Errorf("copy %s into the backup: %w", f.name, err)
	}
	problem, _ = h.judge(f, st.Size())
	return st.Size(), problem, nil
}

// contentHash hashes a file as it streams past. Until intake's spool was
// fixed it hashed the first InlineRawLimit+1 bytes of a large message
// twice, so raw files it wrote are named sha256(those bytes ‖ the whole
// message); such a name is accepted too (the content is what intake
// read), and reported apart.
type contentHash struct {
	plain, spool hash.Hash
	head         []byte // the first InlineRawLimit+1 bytes, until seen
	headDone     bool
}

func newContentHash() *contentHash { return &contentHash{plain: sha256.New(), spool: sha256.New()} }

func (h *contentHash) Write(p []byte) (int, error) {
	n := len(p)
	h.plain.Write(p)
	if !h.headDone {
		take := min(InlineRawLimit+1-len(h.head), len(p))
		h.head, p = append(h.head, p[:take]...), p[take:]
		if len(h.head) <= InlineRawLimit {
			return n, nil
		}
		h.spool.Write(h.head)
		h.spool.Write(h.head)
		h.head, h.headDone = nil, true
	}
	h.spool.Write(p)
	return n, nil
}

// judge compares the n bytes hashed with f's record: problem is "" when
// they match; spoolName when they match only the name the former spool
// gave.
func (h *contentHash) judge(f blobFile, n int64) (problem string, spoolName bool) {
	switch {
	case f.size >= 0 && n != f.size:
		return fmt.Sprintf("%s: %d bytes, the record says %d", f.name, n, f.size), false
	case hex.EncodeToString(h.plain.Sum(nil)) == f.sha256:
		return "", false
	case h.headDone && hex.EncodeToString(h.spool.Sum(nil)) == f.sha256:
		return "", true
	}
	return f.name + ": content does not match its SHA-256", false
}

// schemaOf reads the schema version (0 for a file without one).
func schemaOf(tx *bolt.Tx) uint64 {
	if meta := tx.Bucket(bMeta); meta != nil {
		if v := meta.Get(keySchema); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

// listed joins up to maxListed names for an error message.
func listed(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, "; ")
	}
	return strings.Join(names[:10], "; ") + fmt.Sprintf("; and %d more", len(names)-10)
}

// Report is what Verify found.
type Report struct {
	Schema      uint64 `json:"schema_version"`
	Cases       int    `json:"cases"`
	Messages    int    `json:"messages"`
	OutboxItems int    `json:"outbox_items"`
	// RawInline and RawFiles count the raw messages checked inside the
	// database and as files (size and SHA-256 each).
	RawInline   int `json:"raw_inline"`
	RawFiles    int `json:"raw_files"`
	Attachments int `json:"attachments"`
	// Problems make the store inconsistent; Notes are worth knowing but
	// harmless (missing attachment files, leftovers of a crash).
	Problems []string `json:"problems"`
	Notes    []string `json:"notes,omitempty"`
	// Omitted counts problems not listed (more than 100).
	Omitted int `json:"problems_omitted,omitempty"`
}

// OK reports whether the store verified without problems.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.Omitted == 0 }

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) >= maxListed {
		r.Omitted++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks the store in dataDir without a daemon: it fails with
// ErrLocked while one runs (ask the daemon, which calls DB.Verify).
func Verify(dataDir string) (Report, error) {
	bdb, err := openReadOnly(dataDir)
	if err != nil {
		return Report{}, fmt.Errorf("verify: %w", err)
	}
	defer bdb.Close()
	return verify(bdb, dataDir)
}

// Verify checks the open store; it reads in one transaction beside the
// daemon's writes (the raw files are checked after it).
func (db *DB) Verify() (Report, error) { return verify(db.bolt, db.dataDir) }

// verify runs bbolt's own page check and the store's: the schema, the
// Message-ID key, every record decodes, every index entry a record needs
// exists and no index holds more entries than records need, every raw
// message (inline or file) has its recorded size and SHA-256.
func verify(bdb *bolt.DB, dataDir string) (Report, error) {
	r := Report{Problems: []string{}}
	var refs blobRefs
	err := bdb.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			r.problem("bbolt: %v", err)
		}
		r.Schema = schemaOf(tx)
		switch {
		case tx.Bucket(bMeta) == nil:
			return errors.New("no meta bucket: this is not a claimsd store")
		case r.Schema > SchemaVersion:
			// The store's own refusal, so the words match the daemon's.
			return (&DB{}).checkSchema(tx, false)
		case r.Schema < SchemaVersion:
			r.Notes = append(r.Notes, fmt.Sprintf("schema %d: indexes not checked; the daemon migrates the store to schema %d when it starts", r.Schema, SchemaVersion))
		}
		if len(tx.Bucket(bMeta).Get(keySecret)) != 32 {
			r.problem("the key that signs Message-IDs is missing or not 32 bytes")
		}
		if r.Schema == SchemaVersion {
			for _, name := range allBuckets {
				if tx.Bucket(name) == nil {
					r.problem("bucket %s is missing", name)
				}
			}
			if !r.OK() {
				return nil
			}
			verifyCases(tx, &r)
			verifyOutbox(tx, &r)
		}
		refs = verifyMessages(tx, &r, r.Schema == SchemaVersion)
		return nil
	})
	if err != nil {
		return r, err
	}
	spoolNamed := 0
	for _, f := range refs.raw {
		r.RawFiles++
		p, spoolName := checkFile(dataDir, f)
		if p != "" {
			r.problem("raw message %s", p)
		}
		if spoolName {
			spoolNamed++
		}
	}
	if spoolNamed > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d raw message files are named by the hash intake's spool computed before its fix (the first %d bytes counted twice); their contents match that name", spoolNamed, InlineRawLimit+1))
	}
	missing, damaged := 0, 0
	for _, f := range refs.attachments {
		r.Attachments++
		switch p, _ := checkFile(dataDir, f); {
		case strings.HasSuffix(p, ": missing"):
			missing++
		case p != "":
			damaged++
		}
	}
	if missing+damaged > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d attachment files missing and %d damaged of %d (a cache: each is in its raw message)", missing, damaged, len(refs.attachments)))
	}
	if n := orphanRawFiles(dataDir, refs.raw); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d raw message files are referred to by no message (left by a crash before their commit; harmless)", n))
	}
	return r, nil
}

// has reports whether bucket b holds key. (Get cannot tell an empty
// value from a missing key.)
func has(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key)
}

func countKeys(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// indexCheck counts the entries records need in each index and reports
// the ones missing; comparing the counts with the indexes' sizes then
// finds stale entries without holding every key in memory.
type indexCheck struct {
	tx   *bolt.Tx
	r    *Report
	want map[string]int
}

func (ic *indexCheck) need(bucket []byte, key []byte, what string) {
	ic.want[string(bucket)]++
	if !has(ic.tx.Bucket(bucket), key) {
		ic.r.problem("index %s lacks the entry of %s", bucket, what)
	}
}

func (ic *indexCheck) sizes(buckets ...[]byte) {
	for _, b := range buckets {
		if got, want := countKeys(ic.tx.Bucket(b)), ic.want[string(b)]; got != want {
			ic.r.problem("index %s holds %d entries, the records need %d", b, got, want)
		}
	}
}

func verifyCases(tx *bolt.Tx, r *Report) {
	ic := &indexCheck{tx: tx, r: r, want: map[string]int{}}
	tx.Bucket(bCases).ForEach(func(k, v []byte) error {
		r.Cases++
		var c Case
		if err := json.Unmarshal(v, &c); err != nil {
			r.problem("case %s does not decode: %v", k, err)
			return nil
		}
		if c.ID != string(k) {
			r.problem("case stored under %s has id %s", k, c.ID)
		}
		what := "case " + c.ID
		ic.need(bStatus, statusKey(c.Status, c.CreatedAt, c.ID), what)
		if c.Customer != "" {
			ic.need(bCustomer, join(keyPart(c.Customer), []byte(c.ID)), what)
			ic.need(bCustSubject, join(keyPart(c.Customer), keyPart(c.NormSubject), []byte(c.ID)), what)
		}
		for bucket, key := range dueKeys(&c) {
			ic.need([]byte(bucket), key, what)
		}
		return nil
	})
	ic.sizes(bStatus, bCustomer, bCustSubject, bDue, bLegalDue, bFirstDue)
}

// verifyMessages checks the messages and their indexes and returns the
// files they refer to, checked after the transaction.
func verifyMessages(tx *bolt.Tx, r *Report, indexes bool) blobRefs {
	ic := &indexCheck{tx: tx, r: r, want: map[string]int{}}
	var files fileSet
	cases, raws := tx.Bucket(bCases), tx.Bucket(bRaw)
	tx.Bucket(bMessages).ForEach(func(k, v []byte) error {
		r.Messages++
		// Redacted (GDPR erasure, retention) messages have no raw message
		// any more. Read by its JSON name, this check does not depend on
		// the erasure code.
		var rec struct {
			Message
			Redacted string `json:"redacted"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			r.problem("message %x does not decode: %v", k, err)
			return nil
		}
		m, redacted := rec.Message, rec.Redacted != ""
		files.add(filesOf(&m))
		what := fmt.Sprintf("message %d", m.Seq)
		if !bytes.Equal(k, u64(m.Seq)) {
			r.problem("message stored under %x has seq %d", k, m.Seq)
		}
		if !m.RawInFile && m.RawSHA256 != "" && !redacted && raws != nil {
			r.RawInline++
			raw := raws.Get(k)
			sum := sha256.Sum256(raw)
			switch {
			case raw == nil:
				r.problem("%s: raw message missing from the database", what)
			case int64(len(raw)) != m.RawSize:
				r.problem("%s: raw message has %d bytes, the record says %d", what, len(raw), m.RawSize)
			case hex.EncodeToString(sum[:]) != m.RawSHA256:
				r.problem("%s: raw message does not match its SHA-256", what)
			}
		}
		if !indexes {
			return nil
		}
		if m.CaseID != "" {
			if !has(cases, []byte(m.CaseID)) {
				r.problem("%s belongs to case %s, which does not exist", what, m.CaseID)
			}
			ic.need(bCaseMsgs, join([]byte(m.CaseID), k), what)
		} else {
			ic.need(bUnfiled, k, what)
		}
		if m.ParseError != "" {
			ic.need(bFailed, k, what)
		}
		if m.MessageID != "" && tx.Bucket(bMsgID).Get(keyPart(m.MessageID)) == nil {
			r.problem("index %s lacks the Message-ID of %s", bMsgID, what)
		}
		if m.RawSHA256 != "" && !redacted && tx.Bucket(bRawHash).Get([]byte(m.RawSHA256)) == nil {
			r.problem("index %s lacks the hash of %s", bRawHash, what)
		}
		if m.Source.Mailbox != "" && tx.Bucket(bSource).Get(sourceKey(m.Source)) == nil {
			r.problem("index %s lacks the source of %s", bSource, what)
		}
		return nil
	})
	if indexes {
		ic.sizes(bCaseMsgs, bUnfiled, bFailed)
		if got := countKeys(raws); got != r.RawInline {
			r.problem("bucket %s holds %d raw messages, the records need %d", bRaw, got, r.RawInline)
		}
	}
	return files.refs()
}

func filesOf(m *Message) messageFiles {
	f := messageFiles{RawSHA256: m.RawSHA256, RawSize: m.RawSize, RawInFile: m.RawInFile}
	for _, a := range m.Attachments {
		f.Attachments = append(f.Attachments, recordedFile{SHA256: a.SHA256, Size: a.Size})
	}
	return f
}

func verifyOutbox(tx *bolt.Tx, r *Report) {
	ic := &indexCheck{tx: tx, r: r, want: map[string]int{}}
	tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
		r.OutboxItems++
		var it OutboxItem
		if err := json.Unmarshal(v, &it); err != nil {
			r.problem("outbox item %x does not decode: %v", k, err)
			return nil
		}
		what := fmt.Sprintf("outbox item %d", it.ID)
		if !bytes.Equal(k, u64(it.ID)) {
			r.problem("outbox item stored under %x has id %d", k, it.ID)
		}
		if it.Pending() {
			ic.need(bOutboxDue, dueKey(it.NextAttemptAt, it.ID), what)
		}
		if it.CaseID != "" {
			ic.need(bOutboxCase, join([]byte(it.CaseID), k), what)
		}
		if it.MessageID != "" && tx.Bucket(bOutboxMsgID).Get(keyPart(it.MessageID)) == nil {
			r.problem("index %s lacks the Message-ID of %s", bOutboxMsgID, what)
		}
		return nil
	})
	ic.sizes(bOutboxDue, bOutboxCase)
}

// checkFile compares the data dir's file f with its record; problem is
// "" when it matches.
func checkFile(dataDir string, f blobFile) (problem string, spoolName bool) {
	file, err := os.Open(filepath.Join(dataDir, filepath.FromSlash(f.name)))
	if errors.Is(err, fs.ErrNotExist) {
		return f.name + ": missing", false
	}
	if err != nil {
		return f.name + ": " + err.Error(), false
	}
	defer file.Close()
	h := newContentHash()
	n, err := io.Copy(h, file)
	if err != nil {
		return f.name + ": " + err.Error(), false
	}
	return h.judge(f, n)
}

// orphanRawFiles counts files under raw/ that no message refers to.
func orphanRawFiles(dataDir string, refs []blobFile) int {
	known := make(map[string]bool, len(refs))
	for _, f := range refs {
		known[f.name] = true
	}
	n := 0
	root := filepath.Join(dataDir, "raw")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dataDir, p)
		if !known[filepath.ToSlash(rel)] {
			n++
		}
		return nil
	})
	return n
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force replaces a data dir that is not empty; its contents are moved
	// aside (RestoreResult.MovedAside), not deleted.
	Force bool
	// IgnoreProblems restores a backup that does not verify (a store
	// whose raw files were lost is still worth having); the problems are
	// in RestoreResult.Report.
	IgnoreProblems bool
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Info   BackupInfo
	Report Report
	// MovedAside is where the replaced data dir went ("" if none).
	MovedAside string
}

// Restore replaces dataDir with the backup read from r. It refuses a data
// dir whose store is in use (ErrLocked) and, without opts.Force, one that
// is not empty. The backup is extracted into a new directory beside
// dataDir (so the final rename stays on one file system), synced, and
// verified; only then is it renamed into place.
func Restore(r io.Reader, dataDir string, opts RestoreOptions) (RestoreResult, error) {
	var res RestoreResult
	dataDir = filepath.Clean(dataDir)
	entries, err := os.ReadDir(dataDir)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("read the data dir: %w", err)
	}
	if exists {
		// Hold the old store's lock (shared, read-only) until it is moved
		// aside, so a daemon starting meanwhile cannot open it.
		if lock, err := lockExisting(dataDir); err != nil {
			return res, err
		} else if lock != nil {
			defer lock.Close()
		}
		if len(entries) > 0 && !opts.Force {
			return res, fmt.Errorf("data dir %s is not empty; restore --force moves its contents aside first", dataDir)
		}
	}
	parent := filepath.Dir(dataDir)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dataDir)+".restore-")
	if err != nil {
		return res, fmt.Errorf("create a directory beside the data dir: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o750); err != nil {
		return res, err
	}
	if res.Info, err = Extract(r, tmp); err != nil {
		return res, err
	}
	if res.Report, err = Verify(tmp); err != nil {
		return res, fmt.Errorf("verify the backup: %w", err)
	}
	if !res.Report.OK() && !opts.IgnoreProblems {
		return res, fmt.Errorf("the backup does not verify (%d problems: %s); nothing was changed", len(res.Report.Problems)+res.Report.Omitted, listed(res.Report.Problems))
	}
	if exists {
		if len(entries) == 0 {
			if err := os.Remove(dataDir); err != nil {
				return res, fmt.Errorf("remove the empty data dir: %w", err)
			}
		} else {
			res.MovedAside = fmt.Sprintf("%s.replaced-%s", dataDir, time.Now().Format("20060102T150405"))
			if err := os.Rename(dataDir, res.MovedAside); err != nil {
				return res, fmt.Errorf("move the old data dir aside: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		if res.MovedAside != "" {
			os.Rename(res.MovedAside, dataDir)
		}
		return res, fmt.Errorf("move the restored store into place: %w", err)
	}
	done = true
	if err := SyncDir(parent); err != nil {
		return res, err
	}
	return res, nil
}

// lockExisting takes a shared lock on dataDir's store, failing with
// ErrLocked while a daemon holds it. A file bbolt cannot open (the
// damaged store one restores over) is no obstacle: it returns nil.
func lockExisting(dataDir string) (*bolt.DB, error) {
	bdb, err := openReadOnly(dataDir)
	switch {
	case errors.Is(err, ErrLocked):
		return nil, fmt.Errorf("data dir %s: %w: stop the daemon first", dataDir, ErrLocked)
	case err != nil:
		return nil, nil // no store, or a damaged one: nothing to protect
	}
	return bdb, nil
}

// Extract unpacks a backup into dir, which must exist and be empty, and
// syncs every file and directory. It accepts only the entries a backup
// holds, in their order, and fails on an archive cut short (no manifest
// at its end) or of another format; it does not judge the contents
// (Verify does).
func Extract(r io.Reader, dir string) (BackupInfo, error) {
	var info BackupInfo
	tr := tar.NewReader(r)
	dirs := map[string]bool{dir: true}
	first, sawManifest := true, false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, fmt.Errorf("read backup: %w", err)
		}
		switch {
		case first && hdr.Name != dbFileName:
			return info, fmt.Errorf("not a claimsd backup: it starts with %q, not %s", hdr.Name, dbFileName)
		case sawManifest:
			return info, fmt.Errorf("backup: entry %q after the manifest", hdr.Name)
		case hdr.Typeflag != tar.TypeReg:
			return info, fmt.Errorf("backup: %q is not a regular file", hdr.Name)
		case hdr.Name == manifestName:
			if err := json.NewDecoder(io.LimitReader(tr, maxManifestBytes)).Decode(&info); err != nil {
				return info, fmt.Errorf("backup: read %s: %w", manifestName, err)
			}
			sawManifest = true
			continue
		case hdr.Name != dbFileName && !validBlobName(hdr.Name):
			return info, fmt.Errorf("backup: unexpected entry %q", hdr.Name)
		}
		first = false
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if d := filepath.Dir(p); !dirs[d] {
			if err := os.MkdirAll(d, 0o750); err != nil {
				return info, err
			}
			dirs[d], dirs[filepath.Dir(d)] = true, true
		}
		if err := writeSynced(p, tr); err != nil {
			return info, fmt.Errorf("unpack %s: %w", hdr.Name, err)
		}
	}
	if first {
		return info, errors.New("backup is empty")
	}
	if !sawManifest {
		return info, fmt.Errorf("backup is cut short: %s missing at its end", manifestName)
	}
	if info.Format != BackupFormat {
		return info, fmt.Errorf("backup format %q, this claimsd reads %q", info.Format, BackupFormat)
	}
	// Open() creates these; a read-only open (CLI, verify) does not.
	for _, d := range []string{"raw", "attachments", "tmp"} {
		p := filepath.Join(dir, d)
		if err := os.MkdirAll(p, 0o750); err != nil {
			return info, err
		}
		dirs[p] = true
	}
	for d := range dirs {
		if err := SyncDir(d); err != nil {
			return info, err
		}
	}
	return info, nil
}

// validBlobName accepts raw/ab/<sha256>.eml and attachments/ab/<sha256>:
// nothing in a backup can name a path outside the data dir.
func validBlobName(name string) bool {
	dir, file := path.Split(name)
	var top, ext string
	switch {
	case strings.HasPrefix(dir, "raw/"):
		top, ext = "raw/", ".eml"
	case strings.HasPrefix(dir, "attachments/"):
		top = "attachments/"
	default:
		return false
	}
	sha, ok := strings.CutSuffix(file, ext)
	if !ok || len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
		return false
	}
	return dir == top+sha[:2]+"/"
}

func writeSynced(p string, r io.Reader) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
