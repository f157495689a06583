package intake

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
)

// TestAttachmentStoreFailureIsRetried: when an attachment cannot be
// written (disk full, a broken data directory) the message is not
// committed as unparsable and passed over, but its group fails, so the
// watcher delivers it again later; once the disk is usable it is stored
// whole, attachment file included.
func TestAttachmentStoreFailureIsRetried(t *testing.T) {
	in, db := newIntake(t)
	raw := "From: Jan <jan@example.net>\r\nTo: reklamacje@sklep.example\r\nSubject: Zdjęcie\r\nMessage-ID: <att-1@example.net>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nW załączniku zdjęcie.\r\n" +
		"--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=ekran.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n--b--\r\n"
	ctx := context.Background()
	fetched := func() mailbox.Fetched {
		return mailbox.Fetched{Mailbox: "INBOX", UIDValidity: 7, UID: 1, InternalDate: t0, Size: int64(len(raw)), Body: strings.NewReader(raw)}
	}
	// A file where the temp directory should be: every attachment write
	// fails, while the database itself is fine.
	tmp := db.TempDir()
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := in.Deliver(ctx, fetched())
	var uids []uint32
	if err == nil {
		uids, err = in.Flush(ctx)
	}
	if err == nil || len(uids) != 0 {
		t.Fatalf("flush with the attachment unwritable: uids %v, err %v; want an error and nothing committed", uids, err)
	}
	var cur store.Cursor
	db.View(func(tx *store.Tx) error { cur, _ = tx.Cursor("INBOX"); return nil })
	if cur.LastUID != 0 {
		t.Fatalf("cursor moved to %d past a message not stored whole", cur.LastUID)
	}

	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(tmp, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := in.Deliver(ctx, fetched()); err != nil {
		t.Fatal(err)
	}
	if uids, err := in.Flush(ctx); err != nil || len(uids) != 1 {
		t.Fatalf("flush once writable: %v, %v", uids, err)
	}
	m := messagesByUID(t, db)[1]
	if m.ParseError != "" || len(m.Attachments) != 1 {
		t.Fatalf("stored message: parse error %q, %d attachments", m.ParseError, len(m.Attachments))
	}
	if _, err := os.Stat(db.Attachments().Path(m.Attachments[0].SHA256)); err != nil {
		t.Errorf("attachment file: %v", err)
	}
	if n := in.Stats().ParseFailed; n != 0 {
		t.Errorf("%d messages counted unparsable", n)
	}
}
