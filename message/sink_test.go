package message

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sync"
)

// memSink is an AttachmentSink for tests: it hashes with crypto/sha256 and
// keeps the bytes in memory, keyed by hash.
type memSink struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

func newMemSink() *memSink { return &memSink{blobs: map[string][]byte{}} }

// Put implements AttachmentSink.
func (s *memSink) Put(r io.Reader) (int64, string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return 0, "", err
	}
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	s.mu.Lock()
	s.blobs[key] = b
	s.mu.Unlock()
	return int64(len(b)), key, nil
}

// get returns the stored bytes for a hash.
func (s *memSink) get(sum string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blobs[sum]
}

// hashSink streams: it hashes and counts without keeping the bytes, like a
// real store writing to disk.
type hashSink struct{}

// Put implements AttachmentSink.
func (hashSink) Put(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// panicSink panics, standing in for a bug anywhere under Parse.
type panicSink struct{}

// Put implements AttachmentSink.
func (panicSink) Put(r io.Reader) (int64, string, error) {
	panic("sink bug")
}

// failSink fails every Put, as a full disk would.
type failSink struct{}

var errSinkFull = errors.New("disk full")

// Put implements AttachmentSink.
func (failSink) Put(r io.Reader) (int64, string, error) {
	return 0, "", errSinkFull
}
