package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// InlineRawLimit is the largest raw message kept inside the database. Small
// messages inline commit with their case in one fsync; larger ones are
// files, so the database stays compact and a 50 MB message is never held
// in memory.
const InlineRawLimit = 256 << 10

// Blobs stores content-addressed files (attachments, large raw messages)
// under a directory of the data dir: DIR/ab/abcdef....
type Blobs struct {
	dir, tmp string
	ext      string
	// durable blobs are synced (file and directory) before Put returns.
	durable bool
}

// Attachments is the blob store for attachment bodies. They are not
// synced: every attachment can be extracted again from its raw message,
// which is durable (inline in the database or a synced raw file), so an
// attachment file lost in a crash is a cache miss, not lost data. This
// saves two fsyncs per attachment on the intake path; readers check the
// SHA-256 they hold.
func (db *DB) Attachments() *Blobs {
	return &Blobs{dir: filepath.Join(db.dataDir, "attachments"), tmp: db.TempDir()}
}

// RawFiles is the blob store for raw messages over InlineRawLimit. They
// are the only copy claimsd keeps, so they are synced before the commit
// that refers to them.
func (db *DB) RawFiles() *Blobs {
	return &Blobs{dir: filepath.Join(db.dataDir, "raw"), tmp: db.TempDir(), ext: ".eml", durable: true}
}

// TempDir is where partial files are written before they are renamed into
// place; it is on the same file system as the blobs.
func (db *DB) TempDir() string { return filepath.Join(db.dataDir, "tmp") }

// Path returns where the blob with hash sha256hex lives.
func (b *Blobs) Path(sha256hex string) string {
	if len(sha256hex) < 2 {
		return filepath.Join(b.dir, sha256hex+b.ext)
	}
	return filepath.Join(b.dir, sha256hex[:2], sha256hex+b.ext)
}

// Put streams r into the store and returns its size and SHA-256. The file
// is written under a temporary name and renamed into place, so a reader
// never sees a partial file; durable stores also sync it first.
func (b *Blobs) Put(r io.Reader) (int64, string, error) {
	f, err := os.CreateTemp(b.tmp, "blob-*")
	if err != nil {
		return 0, "", fmt.Errorf("create temp blob: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		f.Close()
		return 0, "", fmt.Errorf("write blob: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := b.commit(f, sum); err != nil {
		return 0, "", err
	}
	return n, sum, nil
}

// Adopt moves a temp file already written (and hashed) by the caller
// into the store under sha256hex.
func (b *Blobs) Adopt(f *os.File, sha256hex string) error {
	defer os.Remove(f.Name())
	return b.commit(f, sha256hex)
}

func (b *Blobs) commit(f *os.File, sum string) error {
	if b.durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync blob: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close blob: %w", err)
	}
	dst := b.Path(sum)
	if _, err := os.Stat(dst); err == nil {
		return nil // same content already stored
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("create blob dir: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("store blob %s: %w", sum, err)
	}
	if !b.durable {
		return nil
	}
	// The rename itself must survive a crash before the database commit
	// that refers to it.
	return SyncDir(filepath.Dir(dst))
}

// SyncDir makes the names in dir (a file created or renamed there)
// survive a crash: syncing a file does not sync the directory entry that
// names it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
