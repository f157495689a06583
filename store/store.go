// Package store owns claimsd's durable state in one bbolt file: cases,
// messages, raw messages (small ones inline, large ones as files beside the
// database), the indexes that threading and the CLI read (Message-ID, raw
// hash, customer, status, case messages), per-mailbox IMAP cursors, marks
// still to be set on the server, counters, and the schema version with its
// migrations. Writes happen in one transaction per group of messages, so a
// message, its case change and its cursor move commit together or not at
// all.
package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this code reads and writes. Open migrates
// older files forward and refuses newer ones.
const SchemaVersion = 3

// ErrLocked is returned when another process (usually the running daemon)
// holds the database file.
var ErrLocked = errors.New("database is in use by another process")

// ErrNotFound is returned for an unknown case or message.
var ErrNotFound = errors.New("not found")

var (
	bMeta         = []byte("meta")
	bCases        = []byte("cases")
	bMessages     = []byte("messages")
	bRaw          = []byte("raw")                   // message seq -> raw bytes, for messages up to InlineRawLimit
	bMsgID        = []byte("idx_message_id")        // Message-ID -> message seq
	bRawHash      = []byte("idx_raw_sha256")        // raw sha256 -> message seq
	bSource       = []byte("idx_source")            // mailbox 0 uidvalidity uid -> message seq
	bCaseMsgs     = []byte("idx_case_msgs")         // case id 0 seq -> nil
	bCustomer     = []byte("idx_customer")          // address 0 case id -> nil
	bCustSubject  = []byte("idx_customer_subject")  // address 0 normalised subject 0 case id -> nil
	bStatus       = []byte("idx_status")            // status 0 created(8) case id -> nil
	bUnfiled      = []byte("idx_unfiled")           // seq -> nil: messages kept without a case
	bFailed       = []byte("idx_parse_failed")      // seq -> nil: messages that did not parse
	bCursors      = []byte("mailbox_cursors")       // mailbox -> JSON Cursor
	bPendingMarks = []byte("pending_marks")         // mailbox 0 uidvalidity(4) uid(4) -> nil
	bCounters     = []byte("counters")              // name -> uint64
	bOutbox       = []byte("outbox")                // item id -> JSON OutboxItem
	bOutboxDue    = []byte("idx_outbox_due")        // next attempt(8) id(8) -> nil, pending items only
	bOutboxMsgID  = []byte("idx_outbox_message_id") // Message-ID -> item id
	bOutboxCase   = []byte("idx_outbox_case")       // case id 0 item id(8) -> nil
	bAutoMail     = []byte("idx_auto_mail")         // recipient 0 queued(8) item id(8) -> nil: automatic mail only
	bDue          = []byte("idx_case_next_due")     // next due(8) case id -> nil: when the scheduler looks at a case
	bLegalDue     = []byte("idx_case_legal_due")    // YYYY-MM-DD 0 case id -> nil: open cases only
	bFirstDue     = []byte("idx_case_first_due")    // first-answer due(8) case id -> nil: open, unanswered cases
	bMetaKV       = []byte("meta_kv")               // small named values of the daemon (e.g. the last digest time)

	allBuckets = [][]byte{bMeta, bCases, bMessages, bRaw, bMsgID, bRawHash, bSource, bCaseMsgs,
		bCustomer, bCustSubject, bStatus, bUnfiled, bFailed, bCursors, bPendingMarks, bCounters,
		bOutbox, bOutboxDue, bOutboxMsgID, bOutboxCase, bAutoMail, bDue, bLegalDue, bFirstDue, bMetaKV}

	keySchema = []byte("schema_version")
	keySecret = []byte("message_id_key")
)

// DB is an open store.
type DB struct {
	bolt    *bolt.DB
	dataDir string
	secret  []byte
}

// Options tune Open.
type Options struct {
	ReadOnly bool
	// Timeout bounds the wait for the file lock; 0 means one second.
	Timeout time.Duration
}

// Open opens (creating if needed) the store in dataDir. Read-only opens
// fail with ErrLocked while the daemon runs; the CLI then asks the daemon.
func Open(dataDir string, opts Options) (*DB, error) {
	if !opts.ReadOnly {
		for _, d := range []string{dataDir, filepath.Join(dataDir, "raw"), filepath.Join(dataDir, "attachments"), filepath.Join(dataDir, "tmp")} {
			if err := os.MkdirAll(d, 0o750); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
		}
	}
	path := filepath.Join(dataDir, "claimsd.db")
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	// The freelist is written at every commit. Rebuilding it at open
	// instead (NoFreelistSync, as etcd does) made intake commits about a
	// fifth cheaper, but an open then reads every page: with a million
	// cases the daemon started in 1 s with 1.9 GB resident instead of
	// 0.3 s and 67 MB (BenchmarkDaemonRSS1M).
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly,
		FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{bolt: bdb, dataDir: dataDir}
	if !opts.ReadOnly {
		// Holding the lock, we are the only writer: anything in tmp/ is
		// left from a crash mid-spool and is referred to by nothing.
		if err := clearDir(db.TempDir()); err != nil {
			bdb.Close()
			return nil, err
		}
	}
	if opts.ReadOnly {
		err = bdb.View(func(tx *bolt.Tx) error { return db.checkSchema(tx, false) })
	} else {
		err = bdb.Update(func(tx *bolt.Tx) error { return db.checkSchema(tx, true) })
	}
	if err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

// checkSchema creates buckets, runs migrations and loads the Message-ID key.
func (db *DB) checkSchema(tx *bolt.Tx, write bool) error {
	meta := tx.Bucket(bMeta)
	var version uint64
	if meta != nil {
		if v := meta.Get(keySchema); v != nil {
			version = binary.BigEndian.Uint64(v)
		}
	}
	if version > SchemaVersion {
		return fmt.Errorf("store schema version %d is newer than this claimsd understands (%d): upgrade claimsd or restore a backup", version, SchemaVersion)
	}
	if !write {
		if version != SchemaVersion {
			return fmt.Errorf("store schema version %d needs migration: run the daemon once to upgrade", version)
		}
		db.secret = append([]byte(nil), meta.Get(keySecret)...)
		return nil
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta = tx.Bucket(bMeta)
	// Migrations run in order from the stored version; version 0 is a new
	// file and needs only the buckets above (running the migrations on it
	// would, for one, mark a fresh store as needing the deadline fill).
	for v := max(version, 1); version > 0 && v < SchemaVersion; v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("migrate store from schema %d: %w", v, err)
		}
	}
	if err := meta.Put(keySchema, u64(SchemaVersion)); err != nil {
		return err
	}
	secret := meta.Get(keySecret)
	if secret == nil {
		// The key that signs our Message-IDs lives with the data it
		// protects, so backups restore it and no operator has to manage it.
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("generate message id key: %w", err)
		}
		if err := meta.Put(keySecret, secret); err != nil {
			return err
		}
	}
	db.secret = append([]byte(nil), secret...)
	return nil
}

func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read temp dir: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clear temp dir: %w", err)
		}
	}
	return nil
}

// DeadlinesFillPending is set by the migration to schema 3: cases from
// older releases still need their deadlines computed by the daemon (which
// knows the configuration), after which it deletes the value.
const DeadlinesFillPending = "deadlines_fill_pending"

// migrations[v] moves a store from schema v to v+1.
var migrations = []func(*bolt.Tx) error{
	0: func(*bolt.Tx) error { return nil },
	// 2: the outbox buckets, created above like every bucket; cases
	// from schema 1 have no legal_due until the daemon fills it in.
	1: func(*bolt.Tx) error { return nil },
	// 3: the deadline indexes, filled from every case; the daemon gives
	// the open cases their schedule once (DeadlinesFillPending).
	2: func(tx *bolt.Tx) error {
		t := &Tx{tx}
		if err := t.PutValue(DeadlinesFillPending, []byte("1")); err != nil {
			return err
		}
		return tx.Bucket(bCases).ForEach(func(_, v []byte) error {
			var c Case
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			return t.moveDueKeys(nil, &c, false)
		})
	},
}

// Close closes the database.
func (db *DB) Close() error { return db.bolt.Close() }

// DataDir is the directory holding the database, raw messages and attachments.
func (db *DB) DataDir() string { return db.dataDir }

// MessageIDKey is the secret that signs the Message-IDs claimsd mints.
func (db *DB) MessageIDKey() []byte { return append([]byte(nil), db.secret...) }

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

func join(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	k := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}
