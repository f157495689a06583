package outbox

import (
	"bytes"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/store"
)

// TestRenderWithAttachmentAndReplyTo: a relayed answer keeps its
// attachment, and rendering stays deterministic with one.
func TestRenderWithAttachmentAndReplyTo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, []byte("%PDF-1.4 korekta"), 0o600); err != nil {
		t.Fatal(err)
	}
	it := ackItem()
	it.ReplyTo = message.Address{Name: "Reklamacje", Addr: "reklamacje@sklep.example"}
	it.Attachments = []store.OutboxAttachment{{Name: "korekta faktury.pdf", ContentType: "application/pdf", Path: path}}
	a, err := Render(it)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Render(it)
	if !bytes.Equal(a, b) {
		t.Error("rendering with an attachment is not deterministic")
	}
	m, err := mail.ReadMessage(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Reply-To"); !strings.Contains(got, "reklamacje@sklep.example") {
		t.Errorf("Reply-To %q", got)
	}
	p, err := message.Parse(bytes.NewReader(a), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attachments) != 1 || p.Attachments[0].Name != "korekta faktury.pdf" || p.Attachments[0].ContentType != "application/pdf" {
		t.Errorf("attachments %+v", p.Attachments)
	}
}
