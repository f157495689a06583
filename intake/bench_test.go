package intake

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/mailbox"
)

// BenchmarkIntake measures intake alone (spool, parse, kind, thread,
// commit to a real bbolt file, flushing once per default FETCH window)
// on realistic ~5 KB complaints, without IMAP.
func BenchmarkIntake(b *testing.B) {
	in, _ := newIntake(b)
	r := rand.New(rand.NewPCG(1, 2))
	raws := make([][]byte, 4096)
	for i := range raws {
		raws[i] = mailtest.Complaint(i, r)
	}
	ctx := context.Background()
	uid := uint32(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		uid++
		raw := raws[int(uid)%len(raws)]
		// Distinct Message-IDs would need distinct bytes; reuse the
		// corpus but make each message new so nothing is a duplicate.
		msg := append([]byte("X-Bench-Seq: "+string(rune('a'+uid%26))+itoa(uid)+"\r\nMessage-ID: <b"+itoa(uid)+"@bench>\r\n"), raw...)
		if err := in.Deliver(ctx, mailbox.Fetched{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Body: bytes.NewReader(msg)}); err != nil {
			b.Fatal(err)
		}
		if uid%mailbox.DefaultBatchSize == 0 {
			if _, err := in.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := in.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

func itoa(n uint32) string {
	var buf [10]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}
