package message

import (
	"bufio"
	"sync"
)

// Sizes of the recycled buffers.
const (
	// copyBufferSize is what io.Copy would allocate. The base64 decoder's
	// output on corrupt input depends on the read sizes, so attachments
	// must be read in chunks of the same size as before.
	copyBufferSize = 32 << 10
	// initialScratch is the first capacity of the text and preamble
	// buffers: a typical text part or the start of a multipart fits.
	initialScratch = 8 << 10
	// maxPooledScratch bounds the scratch buffers kept for reuse, so that
	// one huge message does not pin megabytes in the pool.
	maxPooledScratch = 256 << 10
)

// parseBuffers are the buffers one Parse call works in. Allocating them
// afresh was most of what Parse allocated (a 32 KiB read buffer, a 32 KiB
// io.Copy buffer per attachment, a 4 KiB bufio.Reader per
// quoted-printable part, a 2 KiB base64 decoder per base64 part, growing
// bytes.Buffers per text part), so they are recycled through bufferPool.
//
// Nothing in them outlives the call: every string put into Parsed is
// copied out of them, and a sink must have finished with its reader when
// Put returns. Parse only returns buffers to the pool when it ended
// normally (not after a panic or a failed Put, when a reader might still
// be in use somewhere).
type parseBuffers struct {
	src  *bufio.Reader // between the caller's reader and the parser
	copy []byte        // streams an attachment to the sink; made when needed
	text []byte        // decoded text of the part being read
	raw  []byte        // still-encoded base64 text of the part being read
	pre  []byte        // preamble of the multipart being opened
}

// bufferPool holds parseBuffers between Parse calls. It is the package's
// only mutable package-level state (its lookup tables are filled once and
// then only read): sync.Pool is safe for concurrent Parse calls and lets
// the runtime drop the buffers under memory pressure.
var bufferPool = sync.Pool{
	New: func() any {
		return &parseBuffers{
			src: bufio.NewReaderSize(nil, readBufferSize),
		}
	},
}

func getBuffers() *parseBuffers {
	return bufferPool.Get().(*parseBuffers)
}

// putBuffers drops the references into the caller's data and recycles b.
func putBuffers(b *parseBuffers) {
	b.src.Reset(nil)
	b.text = trimScratch(b.text)
	b.raw = trimScratch(b.raw)
	b.pre = trimScratch(b.pre)
	bufferPool.Put(b)
}

// trimScratch empties a scratch buffer, or drops it when it grew large.
func trimScratch(b []byte) []byte {
	if cap(b) > maxPooledScratch {
		return nil
	}
	return b[:0]
}

// scratch returns b emptied, with at least initialScratch capacity.
func scratch(b []byte) []byte {
	if cap(b) < initialScratch {
		return make([]byte, 0, initialScratch)
	}
	return b[:0]
}
