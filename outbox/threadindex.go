package outbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Outlook groups a conversation by its Thread-Index header, the base64 of
// the conversation index (PidTagConversationIndex, [MS-OXOMSG] 2.2.1.3):
// a 22-byte header block (a reserved byte 0x01, five bytes of the thread's
// start time, a 16-byte GUID) and one 5-byte child block per reply. Replies
// without it are not grouped (DOMAIN §5).
//
// The arithmetic follows Microsoft's own appender (MAPI's
// ScCreateConversationIndex, cindex.c), not the prose of the
// specification, where the two differ: deltas are cumulative, each child
// relative to the time the previous blocks add up to; the header time is
// read from bytes 1-5 also for the Exchange 2013+ layout, whose bytes 1-5
// hold the time shifted by one more byte (the delta then overflows and
// wraps, as it does in Exchange); and the delta is an absolute difference.
// Appending the way Outlook and Exchange do is what keeps their ordering.
const (
	threadIndexHeaderLen = 22
	threadIndexChildLen  = 5
	threadIndexReserved  = 0x01
	// threadIndexMax bounds a decoded index: the header
	// "Thread-Index: <base64>" must stay within 998 characters (RFC 5322
	// §2.1.1), so 732 bytes (976 base64 characters, 142 replies).
	threadIndexMax = threadIndexHeaderLen + 142*threadIndexChildLen

	// filetimeUnixSeconds is 1970-01-01 in seconds since 1601-01-01, the
	// epoch of a FILETIME ([MS-DTYP] 2.3.3: 100 ns units since
	// 1601-01-01 UTC).
	filetimeUnixSeconds = 11644473600
	filetimePerSecond   = 10_000_000

	// filetimeKept selects the FILETIME bits a header block keeps and a
	// child delta is measured in: bits 16-55 (cindex.c masks the high
	// DWORD with 0x00FFFFFF and the low one with 0xFFFF0000).
	filetimeKept = 0x00FFFFFFFFFF0000
	// deltaLong marks a delta of 1.7 years or more (bits 49-55 set, the
	// high DWORD ANDed with 0x00FE0000): it is stored in coarser units.
	deltaLong = 0x00FE000000000000
	// Shifts of a delta in the short (code 0, 2^18 × 100 ns ≈ 26 ms
	// units) and long (code 1, 2^23 × 100 ns ≈ 0.84 s units) forms.
	deltaShiftShort = 18
	deltaShiftLong  = 23
	deltaCodeBit    = 0x80
	deltaMask       = 0x7FFFFFFF
)

// NewThreadIndex starts a conversation index for a case: the GUID is
// derived from caseID (first 16 bytes of SHA-256), the time is start.
// Deterministic.
//
// The GUID names the conversation for Outlook, so equal case ids give one
// conversation: a caseID that can repeat across installations (two shops
// both at CLM-2026-000001, mailing the same customer) should be qualified
// by the caller, e.g. with the mailbox's domain.
func NewThreadIndex(caseID string, start time.Time) string {
	b := make([]byte, 0, threadIndexHeaderLen)
	b = appendHeaderTime(b, filetime(start))
	guid := sha256.Sum256([]byte(caseID))
	b = append(b, guid[:16]...)
	return base64.StdEncoding.EncodeToString(b)
}

// ReplyThreadIndex appends one child block to parent (a Thread-Index from
// the customer's Outlook, or our own) for a reply at time at. It returns
// an error for a parent that is not valid base64 of at least 22 bytes with
// (len-22)%5==0, whose reserved first byte is not 0x01 (Microsoft's
// appender refuses those too), or that has no room for another block.
func ReplyThreadIndex(parent string, at time.Time) (string, error) {
	b, err := decodeThreadIndex(parent)
	if err != nil {
		return "", fmt.Errorf("extend thread index: %w", err)
	}
	if len(b)+threadIndexChildLen > threadIndexMax {
		return "", errors.New("extend thread index: no room for another reply")
	}
	child := childBlock(b, filetime(at))
	return base64.StdEncoding.EncodeToString(append(b, child[:]...)), nil
}

// decodeThreadIndex decodes and checks a Thread-Index value; white space
// left by unfolding the header is ignored.
func decodeThreadIndex(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("thread index is not base64: %w", err)
	}
	switch {
	case len(b) < threadIndexHeaderLen:
		return nil, fmt.Errorf("thread index of %d bytes is shorter than its %d-byte header", len(b), threadIndexHeaderLen)
	case (len(b)-threadIndexHeaderLen)%threadIndexChildLen != 0:
		return nil, fmt.Errorf("thread index of %d bytes is not a header and whole child blocks", len(b))
	case b[0] != threadIndexReserved:
		return nil, fmt.Errorf("thread index starts with 0x%02x, not the reserved 0x01", b[0])
	case len(b) > threadIndexMax:
		return nil, fmt.Errorf("thread index of %d bytes is longer than %d", len(b), threadIndexMax)
	}
	return b, nil
}

// appendHeaderTime appends the six time bytes of a header block: the
// reserved 0x01, then bits 16-55 of the FILETIME, big-endian. Between 1829
// and 2057 the top byte of a FILETIME is 0x01 itself, so these are the
// first six bytes of the big-endian FILETIME, which is what Outlook
// writes.
func appendHeaderTime(b []byte, ft uint64) []byte {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], ft)
	return append(append(b, threadIndexReserved), be[1:6]...)
}

// childBlock is the 5-byte block of a reply at FILETIME ft to index b: the
// delta code bit and 31 bits of the time since the index's last block, a
// 4-bit random number and a 4-bit sequence count. The "random" nibble is
// derived from the parent and the time, so that composing is
// deterministic; the sequence count is 0.
func childBlock(b []byte, ft uint64) [threadIndexChildLen]byte {
	now, last := ft&filetimeKept, lastBlockTime(b)
	delta := now - last
	if last > now {
		delta = last - now
	}
	var c [threadIndexChildLen]byte
	if delta&deltaLong == 0 {
		binary.BigEndian.PutUint32(c[:4], uint32(delta>>deltaShiftShort)&deltaMask)
	} else {
		binary.BigEndian.PutUint32(c[:4], uint32(delta>>deltaShiftLong)&deltaMask)
		c[0] |= deltaCodeBit
	}
	c[4] = randomNibble(b, ft) << 4
	return c
}

// lastBlockTime is the FILETIME (bits 16-55) the index's last block stands
// for: the header time plus every child's delta.
func lastBlockTime(b []byte) uint64 {
	var be [8]byte
	copy(be[1:6], b[1:6])
	t := binary.BigEndian.Uint64(be[:])
	for c := b[threadIndexHeaderLen:]; len(c) >= threadIndexChildLen; c = c[threadIndexChildLen:] {
		d := uint64(binary.BigEndian.Uint32(c[:4]) & deltaMask)
		if c[0]&deltaCodeBit != 0 {
			t += d << deltaShiftLong
		} else {
			t += d << deltaShiftShort
		}
	}
	return t
}

// randomNibble stands in for the random number of a child block: it only
// has to tell apart replies made to one parent within the same 26 ms.
func randomNibble(parent []byte, ft uint64) byte {
	h := sha256.New()
	h.Write(parent)
	_ = binary.Write(h, binary.BigEndian, ft)
	return h.Sum(nil)[0] >> 4
}

// filetime converts t to a FILETIME, clamped to the range it can hold.
func filetime(t time.Time) uint64 {
	secs := t.Unix() + filetimeUnixSeconds
	switch {
	case secs < 0:
		return 0
	case uint64(secs) > math.MaxUint64/filetimePerSecond-1:
		return math.MaxUint64
	}
	return uint64(secs)*filetimePerSecond + uint64(t.Nanosecond()/100)
}
