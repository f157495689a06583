package reliability

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"mime"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/store"
)

// Complaint is one generated complaint: its bytes and what an audit
// expects of it.
type Complaint struct {
	MessageID string // without angle brackets
	From      string // the customer's address
	Subject   string
	Raw       []byte
}

// NewComplaint writes complaint i of a customer at user+i@domain (Postfix
// and Dovecot deliver every such address to user's INBOX, and each is its
// own customer for the rate caps): a mail as a client writes it, the
// subject RFC 2047-encoded, the text 8-bit UTF-8, every fifth with a photo
// attached. tag keeps the Message-IDs of separate batches apart.
func NewComplaint(i int, user, domain, tag string) Complaint {
	from := fmt.Sprintf("%s+%d@%s", user, i, domain)
	subject := fmt.Sprintf("Reklamacja nr %d: pęknięty ekran", i)
	id := fmt.Sprintf("complaint-%s%d@%s", tag, i, domain)
	text := fmt.Sprintf("Dzień dobry, ekran telefonu pękł po tygodniu używania. Proszę o naprawę w ramach rękojmi.\r\nZamówienie nr %d.\r\n", 100000+i)
	var b strings.Builder
	fmt.Fprintf(&b, "From: Klient %d <%s>\r\nTo: claims@%s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		i, from, domain, mime.QEncoding.Encode("utf-8", subject), id, time.Now().Format(time.RFC1123Z))
	if i%5 != 0 {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s", text)
		return Complaint{MessageID: id, From: from, Subject: subject, Raw: []byte(b.String())}
	}
	photo := make([]byte, 2048)
	rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16), 'p'}).Read(photo)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s", i, i, text)
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"ekran-%d.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b%d--\r\n",
		i, i, wrap76(base64.StdEncoding.EncodeToString(photo)), i)
	return Complaint{MessageID: id, From: from, Subject: subject, Raw: []byte(b.String())}
}

// wrap76 breaks base64 text into lines of 76 characters (RFC 2045).
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// Raws returns the complaints' bytes, for mailtest's DeliverMaildir.
func Raws(cs []Complaint) [][]byte {
	out := make([][]byte, len(cs))
	for i, c := range cs {
		out[i] = c.Raw
	}
	return out
}

// Audit is what a store holds about a set of complaints.
type Audit struct {
	Expected    int // complaints given
	Missing     int // not stored at all
	WithoutCase int // stored, but in no case
	// DuplicateCases counts the cases beyond one per complaint: each
	// complaint's customer writes once, so each should have one case.
	DuplicateCases int
	Cases          int // cases in the store, all of them
	// Unacknowledged counts complaints whose case has no acknowledgement
	// in the outbox (queued, or sent when the audit wants it sent).
	Unacknowledged int
	NotSent        int // acknowledgements queued but not (yet) sent
	Resends        int // sends repeated after a crash, same Message-ID
	Duplicates     uint64
	ParseFailed    uint64
	// MissingFiles counts attachment and raw files that messages refer to
	// and that are not in the data directory.
	MissingFiles int
	// Altered counts complaints stored with other bytes than were
	// delivered (a message cut short by a broken connection, say).
	Altered int
}

// AuditStore opens the store in dataDir read-only (the daemon must not be
// running) and checks every complaint: stored once, in a case of its own,
// acknowledged.
func AuditStore(t testing.TB, dataDir string, complaints []Complaint) Audit {
	t.Helper()
	db, err := store.Open(dataDir, store.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reliability: audit: %v", err)
	}
	defer db.Close()
	a := Audit{Expected: len(complaints)}
	attachments, raws := db.Attachments(), db.RawFiles()
	err = db.View(func(tx *store.Tx) error {
		cases, err := tx.ListCases(store.CaseFilter{})
		if err != nil {
			return err
		}
		a.Cases = len(cases)
		for _, c := range complaints {
			seq, ok := tx.MessageSeqByID(c.MessageID)
			if !ok {
				a.Missing++
				continue
			}
			m, ok, err := tx.Message(seq)
			if err != nil {
				return err
			}
			if !ok || m.CaseID == "" {
				a.WithoutCase++
				continue
			}
			if sum := sha256.Sum256(c.Raw); m.RawSHA256 != hex.EncodeToString(sum[:]) || m.RawSize != int64(len(c.Raw)) {
				a.Altered++
			}
			for _, att := range m.Attachments {
				if _, err := os.Stat(attachments.Path(att.SHA256)); err != nil {
					a.MissingFiles++
				}
			}
			if m.RawInFile {
				if _, err := os.Stat(raws.Path(m.RawSHA256)); err != nil {
					a.MissingFiles++
				}
			}
			of, err := tx.CasesOfCustomer(strings.ToLower(c.From))
			if err != nil {
				return err
			}
			a.DuplicateCases += max(len(of)-1, 0)
			cs, _, err := tx.Case(m.CaseID)
			if err != nil {
				return err
			}
			if cs.AckOutboxID == 0 {
				a.Unacknowledged++
				continue
			}
			it, ok, err := tx.Outbox(cs.AckOutboxID)
			if err != nil {
				return err
			}
			switch {
			case !ok:
				a.Unacknowledged++
			case it.Status != store.OutboxSent:
				a.NotSent++
			}
			a.Resends += it.Resends
		}
		counters := tx.Counters()
		a.Duplicates, a.ParseFailed = counters[store.CountDuplicates], counters[store.CountParseFailed]
		return nil
	})
	if err != nil {
		t.Fatalf("reliability: audit: %v", err)
	}
	return a
}

// Lost is the number of complaints the store does not hold, whole, in a
// case.
func (a Audit) Lost() int { return a.Missing + a.WithoutCase + a.Altered }
