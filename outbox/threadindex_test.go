package outbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

func decodeIndex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not base64: %v", s, err)
	}
	return b
}

func TestFiletime(t *testing.T) {
	tests := []struct {
		at   time.Time
		want uint64
	}{
		// [MS-DTYP] 2.3.3: 1970-01-01 is 116444736000000000.
		{time.Unix(0, 0), 0x019DB1DED53E8000},
		{time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(1601, 1, 1, 0, 0, 1, 250, time.UTC), 10_000_002},
		{time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CET", 3600)), 116444736000000000 + 1772440200*10_000_000},
	}
	for _, tt := range tests {
		if got := filetime(tt.at); got != tt.want {
			t.Errorf("filetime(%v) = %#x, want %#x", tt.at, got, tt.want)
		}
	}
}

func TestNewThreadIndex(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 30, 0, 123456700, time.UTC)
	b := decodeIndex(t, NewThreadIndex("CLM-2026-000123", start))
	if len(b) != threadIndexHeaderLen {
		t.Fatalf("%d bytes, want 22", len(b))
	}
	var ft [8]byte
	binary.BigEndian.PutUint64(ft[:], filetime(start))
	if !bytes.Equal(b[:6], ft[:6]) || b[0] != 0x01 {
		t.Errorf("time bytes %x, want the FILETIME's first six %x", b[:6], ft[:6])
	}
	guid := sha256.Sum256([]byte("CLM-2026-000123"))
	if !bytes.Equal(b[6:], guid[:16]) {
		t.Errorf("GUID %x, want %x", b[6:], guid[:16])
	}
	if got := lastBlockTime(b); got != filetime(start)&filetimeKept {
		t.Errorf("header time reads back as %#x, want %#x", got, filetime(start)&filetimeKept)
	}
}

func TestThreadIndexDeterministic(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	at := start.Add(90 * time.Minute)
	a, b := NewThreadIndex("CLM-2026-000123", start), NewThreadIndex("CLM-2026-000123", start)
	if a != b || a == NewThreadIndex("CLM-2026-000124", start) {
		t.Errorf("NewThreadIndex: %s %s", a, b)
	}
	r1, err1 := ReplyThreadIndex(a, at)
	r2, err2 := ReplyThreadIndex(a, at)
	if err1 != nil || err2 != nil || r1 != r2 {
		t.Errorf("ReplyThreadIndex: %s %v, %s %v", r1, err1, r2, err2)
	}
}

// TestReplyThreadIndexOutlook appends to conversation indexes written by
// Outlook and by Exchange Online. The expected delta bytes are those the
// real replies carried (the fifth, random byte is ours); their times are
// the ones public decoders give for those replies.
func TestReplyThreadIndexOutlook(t *testing.T) {
	tests := []struct {
		name      string
		parent    string // 22-byte header of a real index
		at        time.Time
		wantDelta []byte
	}{
		{
			// Outlook (classic layout): header 2018-07-16 07:40:00.28 UTC,
			// reply 14:03:22.55 later, delta code 0.
			name:      "outlook",
			parent:    "AdQc2DN7rLoS3hgnE/O76rpFzxN/Ew==",
			at:        time.Date(2018, 7, 16, 21, 43, 22, 827571200, time.UTC),
			wantDelta: []byte{0x00, 0x1d, 0x74, 0x5e},
		},
		{
			// Exchange Online (bytes 1-5 hold the time): Exchange reads
			// the header the classic way too, so the delta overflows into
			// code 1 and wraps.
			name:      "exchange online",
			parent:    "AQHWLRNo4NaOjvXU8EODe0ZotrA8Bw==",
			at:        time.Date(2020, 5, 18, 12, 57, 39, 754400000, time.UTC),
			wantDelta: []byte{0xa8, 0xad, 0xcd, 0xac},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplyThreadIndex(tt.parent, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			b, parent := decodeIndex(t, got), decodeIndex(t, tt.parent)
			if len(b) != 27 || !bytes.Equal(b[:22], parent) {
				t.Fatalf("%x does not extend %x by one block", b, parent)
			}
			if !bytes.Equal(b[22:26], tt.wantDelta) {
				t.Errorf("delta %x, want %x", b[22:26], tt.wantDelta)
			}
			if b[26]&0x0f != 0 {
				t.Errorf("sequence count %d, want 0", b[26]&0x0f)
			}
		})
	}
}

func TestReplyThreadIndexChain(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	idx := NewThreadIndex("CLM-2026-000123", start)
	replies := []time.Time{
		start.Add(2 * time.Hour),
		start.Add(50 * time.Hour),
		start.Add(3 * 365 * 24 * time.Hour), // beyond 1.7 years: delta code 1
	}
	for n, at := range replies {
		prev := decodeIndex(t, idx)
		next, err := ReplyThreadIndex(idx, at)
		if err != nil {
			t.Fatal(err)
		}
		b := decodeIndex(t, next)
		if len(b) != 22+5*(n+1) || !bytes.HasPrefix(b, prev) {
			t.Fatalf("reply %d: %x does not extend %x", n, b, prev)
		}
		long := n == 2
		if got := b[len(b)-5]&deltaCodeBit != 0; got != long {
			t.Errorf("reply %d: delta code %v, want %v", n, got, long)
		}
		// The blocks add up to the reply's time, to the unit of the
		// delta.
		unit := uint64(1) << deltaShiftShort
		if long {
			unit = 1 << deltaShiftLong
		}
		want := filetime(at) & filetimeKept
		if got := lastBlockTime(b); got > want || want-got >= unit {
			t.Errorf("reply %d: blocks add up to %#x, want %#x", n, got, want)
		}
		idx = next
	}
}

func TestReplyThreadIndexRejects(t *testing.T) {
	valid := decodeIndex(t, "AdQc2DN7rLoS3hgnE/O76rpFzxN/EwAddF4A")
	enc := base64.StdEncoding.EncodeToString
	tests := []struct {
		name, parent string
	}{
		{"empty", ""},
		{"not base64", "not*base64!"},
		{"short", enc(valid[:21])},
		{"partial child block", enc(valid[:25])},
		{"reserved byte", enc(append([]byte{0x02}, valid[1:]...))},
		{"full", enc(append(valid[:22:22], make([]byte, 5*142)...))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ReplyThreadIndex(tt.parent, time.Now()); err == nil {
				t.Errorf("accepted, gave %s", got)
			}
		})
	}
}

func TestReplyThreadIndexFolded(t *testing.T) {
	at := time.Date(2018, 7, 17, 8, 0, 0, 0, time.UTC)
	plain, err := ReplyThreadIndex("AdQc2DN7rLoS3hgnE/O76rpFzxN/EwAddF4A", at)
	if err != nil {
		t.Fatal(err)
	}
	folded, err := ReplyThreadIndex(" AdQc2DN7rLoS3hgnE/O7\r\n 6rpFzxN/EwAddF4A ", at)
	if err != nil || folded != plain {
		t.Errorf("folded: %s %v, want %s", folded, err, plain)
	}
	if strings.ContainsAny(plain, " \r\n") {
		t.Errorf("result %q carries white space", plain)
	}
}
