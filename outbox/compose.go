package outbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wneessen/go-mail"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/store"
)

// Limits on what goes into a header. RFC 5322 §2.1.1: a line MUST NOT
// exceed 998 characters and SHOULD NOT exceed 78.
const (
	headerLineMax   = 998
	headerFoldWidth = 78
	// composeSubjectMax bounds Subject and Thread-Topic as a last safety
	// net. Callers bound the customer's part (SafeHeaderText with about
	// 250) before adding "Re: " and the case tag, which must survive, so
	// this is larger.
	composeSubjectMax = 400
	// composeNameMax bounds display names.
	composeNameMax = 200
	// messageIDMax bounds one message id. RFC 5322 sets no limit; this one
	// keeps "In-Reply-To: <id>" far inside the 998-character line.
	messageIDMax = 500
	// referencesMax is how many ids References keeps: the first (the
	// thread's root) and the latest ones, as common clients trim it.
	referencesMax = 20
)

// Headers go-mail has no constant for.
const (
	headerAutoSubmitted = mail.Header("Auto-Submitted")
	headerThreadIndex   = mail.Header("Thread-Index")
	headerThreadTopic   = mail.Header("Thread-Topic")
)

// errBadRecipient marks an item whose To address cannot be written: the
// recipient's problem, unlike a bad From, Message-ID or Date, which are
// ours.
var errBadRecipient = errors.New("invalid recipient address")

// Compose builds the go-mail message for it. Same item -> same bytes
// (deterministic): the MIME boundary is derived from the Message-ID
// (go-mail WithBoundary), the Date is it.Date, and no header carries the
// time of composing or a random value.
func Compose(it *store.OutboxItem) (*mail.Msg, error) {
	if it == nil {
		return nil, errors.New("compose: no outbox item")
	}
	if err := checkComposable(it); err != nil {
		return nil, fmt.Errorf("compose outbox item %d: %w", it.ID, err)
	}
	m := mail.NewMsg(
		mail.WithCharset(mail.CharsetUTF8),
		mail.WithEncoding(mail.EncodingQP),
		mail.WithBoundary(boundaryFor(it.MessageID)),
		// The default User-Agent names the go-mail version: an upgrade
		// would change the bytes of mail queued before it.
		mail.WithNoDefaultUserAgent(),
	)
	setAddresses(m, it)
	setIdentity(m, it)
	setThreading(m, it)
	setAutomation(m, it)
	if it.Purpose == PurposeReport {
		// HTML with an inline chart and an attached workbook: nested
		// multiparts that go-mail cannot write with a fixed boundary
		// (report.go).
		if err := setReportBody(m, it); err != nil {
			return nil, fmt.Errorf("compose outbox item %d: %w", it.ID, err)
		}
		return m, nil
	}
	setBody(m, it)
	return m, nil
}

// Render writes the whole message (what the SMTP DATA carries) — used by
// tests/golden files and by `outbox show`.
func Render(it *store.OutboxItem) ([]byte, error) {
	m, err := Compose(it)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render outbox item %d: %w", it.ID, err)
	}
	return buf.Bytes(), nil
}

// checkComposable refuses an item whose fixed fields cannot make a valid
// message. Customer text is never refused: it is made safe instead.
func checkComposable(it *store.OutboxItem) error {
	if err := checkAddress(it.To.Addr); err != nil {
		return fmt.Errorf("%w %q: %v", errBadRecipient, it.To.Addr, err)
	}
	if err := checkAddress(it.From.Addr); err != nil {
		return fmt.Errorf("invalid From address %q: %v", it.From.Addr, err)
	}
	if err := checkAddress(envelopeSender(it)); err != nil {
		return fmt.Errorf("invalid envelope sender %q: %v", envelopeSender(it), err)
	}
	if !ValidMessageID(it.MessageID) {
		return fmt.Errorf("invalid Message-ID %q", it.MessageID)
	}
	if it.Date.IsZero() {
		// go-mail would stamp the time of writing, and every attempt
		// would then carry a different message.
		return errors.New("no Date")
	}
	if it.AutoSubmitted != "" && !isToken(it.AutoSubmitted) {
		return fmt.Errorf("invalid Auto-Submitted value %q", it.AutoSubmitted)
	}
	return nil
}

// checkAddress accepts a bare addr-spec (RFC 5322 §3.4.1) and nothing
// around it: an address is written as it is, so it must not carry a name,
// a comment or a line break.
func checkAddress(addr string) error {
	a, err := netmail.ParseAddress(addr)
	if err != nil {
		return err
	}
	if a.Address != addr || a.Name != "" {
		return errors.New("not a bare address")
	}
	return nil
}

// envelopeSender is the SMTP MAIL FROM (RFC 5321 §4.1.1.2): the VERP
// address when there is one, so bounces find the item (DOMAIN §6).
func envelopeSender(it *store.OutboxItem) string {
	if it.EnvelopeFrom != "" {
		return it.EnvelopeFrom
	}
	return it.From.Addr
}

func setAddresses(m *mail.Msg, it *store.OutboxItem) {
	// net/mail's Address.String quotes or RFC 2047-encodes the name;
	// SafeHeaderText has already taken out anything that could end the
	// line.
	m.FromMailAddress(&netmail.Address{Name: SafeHeaderText(it.From.Name, composeNameMax), Address: it.From.Addr})
	m.ToMailAddress(&netmail.Address{Name: SafeHeaderText(it.To.Name, composeNameMax), Address: it.To.Addr})
	m.EnvelopeFromMailAddress(&netmail.Address{Address: envelopeSender(it)})
	if it.ReplyTo.Addr != "" && checkAddress(it.ReplyTo.Addr) == nil {
		m.ReplyToMailAddress(&netmail.Address{Name: SafeHeaderText(it.ReplyTo.Name, composeNameMax), Address: it.ReplyTo.Addr})
	}
}

// setIdentity writes Subject, Date, Message-ID and Content-Language.
// SetGenHeader RFC 2047-encodes a value only when it holds a byte outside
// printable ASCII (mime.WordEncoder), so the Polish subject is encoded and
// the Message-ID, checked to be printable ASCII, is not.
func setIdentity(m *mail.Msg, it *store.OutboxItem) {
	m.Subject(SafeHeaderText(it.Subject, composeSubjectMax))
	m.SetDateWithValue(it.Date)
	m.SetMessageIDWithValue(it.MessageID)
	if isLanguageTag(it.Language) {
		m.SetGenHeader(mail.HeaderContentLang, it.Language)
	}
}

// setThreading writes In-Reply-To and References (RFC 5322 §3.6.4) and
// Outlook's Thread-Index and Thread-Topic (DOMAIN §5).
//
// Message ids must never be RFC 2047-encoded: Exchange drops encoded ids.
// Only ids that ValidMessageID accepts (printable ASCII) are written, which
// go-mail's encoder leaves alone. References is also written preformatted,
// folded here, so no encoder ever touches it. It is the only preformatted
// header: go-mail keeps those in a map and writes them in map order, so two
// of them would come out in random order and break determinism.
func setThreading(m *mail.Msg, it *store.OutboxItem) {
	if ValidMessageID(it.InReplyTo) {
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+it.InReplyTo+">")
	}
	if refs := trimReferences(it.References); len(refs) > 0 {
		m.SetGenHeaderPreformatted(mail.HeaderReferences, foldMessageIDs(string(mail.HeaderReferences), refs))
	}
	if validThreadIndex(it.ThreadIndex) {
		m.SetGenHeader(headerThreadIndex, it.ThreadIndex)
	}
	if topic := SafeHeaderText(it.ThreadTopic, composeSubjectMax); topic != "" {
		m.SetGenHeader(headerThreadTopic, topic)
	}
}

// setAutomation marks automatic mail (DOMAIN §4): Auto-Submitted (RFC 3834
// §5) so that well-behaved responders stay silent, X-Auto-Response-Suppress
// for Exchange, which ignores Auto-Submitted, and our loop header so that
// our own mail coming back is recognised. "no" is RFC 3834's value for mail
// a person wrote: nothing is added then.
func setAutomation(m *mail.Msg, it *store.OutboxItem) {
	if it.AutoSubmitted == "" || strings.EqualFold(it.AutoSubmitted, "no") {
		return
	}
	m.SetGenHeader(headerAutoSubmitted, it.AutoSubmitted)
	m.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	m.SetGenHeader(mail.Header(classifier.LoopHeader), it.From.Addr)
}

// setBody writes text/plain, and with HTML a multipart/alternative whose
// last part is the preferred one (RFC 2046 §5.1.4). go-mail writes UTF-8
// and quoted-printable, which keeps lines short and 7-bit whatever the
// text is.
func setBody(m *mail.Msg, it *store.OutboxItem) {
	m.SetBodyString(mail.TypeTextPlain, strings.ToValidUTF8(it.Text, "\uFFFD"))
	// go-mail's WithBoundary gives nested multiparts the same boundary,
	// which breaks multipart/alternative inside multipart/mixed: a mail
	// with attachments goes as text only (every template's text part is
	// complete), in one multipart/mixed.
	if it.HTML != "" && len(it.Attachments) == 0 {
		m.AddAlternativeString(mail.TypeTextHTML, strings.ToValidUTF8(it.HTML, "\uFFFD"))
	}
	for _, a := range it.Attachments {
		ct := mail.ContentType(a.ContentType)
		if a.ContentType == "" || strings.ContainsAny(a.ContentType, "\r\n") {
			ct = mail.TypeAppOctetStream
		}
		m.AttachFile(a.Path, mail.WithFileName(SafeHeaderText(a.Name, 200)), mail.WithFileContentType(ct))
	}
}

// boundaryFor derives the MIME boundary from the Message-ID, so the same
// item renders to the same bytes. A hash of the id cannot occur in the
// quoted-printable parts by accident (RFC 2046 §5.1.1); hex digits and "-"
// need no quoting in the Content-Type parameter, which go-mail writes
// unquoted.
func boundaryFor(messageID string) string {
	sum := sha256.Sum256([]byte("claimsd boundary\x00" + messageID))
	return "claimsd-" + hex.EncodeToString(sum[:20])
}

// SafeHeaderText makes s, which may come from a customer, safe to put in
// a header field body: it cannot end the line and so cannot add a header
// (header injection). Invalid UTF-8 becomes U+FFFD; every run of control
// characters (CR, LF, TAB, other C0 and C1 controls, DEL, U+2028, U+2029),
// with the blanks around it, becomes one space, as unfolding a folded
// header would (RFC 5322 §2.2.3); the result is trimmed and cut to at most
// max characters (runes; at most 998, the line limit of RFC 5322 §2.1.1,
// which also applies when max <= 0).
//
// The cut is at the end: callers that append something that must survive,
// like a case tag, make the customer's part safe before appending it.
func SafeHeaderText(s string, max int) string {
	if max <= 0 || max > headerLineMax {
		max = headerLineMax
	}
	out := make([]byte, 0, len(s))
	gap := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case breaksHeader(r):
			gap = true
		case gap && r == ' ':
			// absorbed into the gap
		default:
			if gap {
				out = append(bytes.TrimRight(out, " "), ' ')
				gap = false
			}
			out = utf8.AppendRune(out, r)
		}
	}
	return strings.TrimSpace(truncateRunes(strings.TrimSpace(string(out)), max))
}

// breaksHeader reports whether r must not appear in a header line:
// control characters end or corrupt it; U+2028 and U+2029 are line breaks
// to some clients.
func breaksHeader(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// ValidMessageID reports whether id (without angle brackets) may be
// written in Message-ID, In-Reply-To or References: it looks like
// local@domain (RFC 5322 §3.6.4 msg-id) and is made of printable ASCII
// other than "<" and ">", so it can neither end the header nor the msg-id,
// and needs no encoding. Ids from other people's mail that fail this are
// dropped, not repaired.
func ValidMessageID(id string) bool {
	if len(id) < 3 || len(id) > messageIDMax {
		return false
	}
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// trimReferences keeps the valid ids of refs, each once, and at most
// referencesMax of them: the first, which names the thread's root, and the
// latest (RFC 5322 §3.6.4 lets a reply's References grow without bound;
// clients trim the middle).
func trimReferences(refs []string) []string {
	seen := make(map[string]bool, len(refs))
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if ValidMessageID(r) && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if len(out) <= referencesMax {
		return out
	}
	return append(out[:1:1], out[len(out)-(referencesMax-1):]...)
}

// foldMessageIDs writes ids as the body of header name, "<a> <b> ...",
// folded (RFC 5322 §2.2.3) before an id that would take the line past 78
// characters. An id is never split.
func foldMessageIDs(name string, ids []string) string {
	var b strings.Builder
	line := len(name) + len(": ")
	for i, id := range ids {
		tok := "<" + id + ">"
		switch {
		case i == 0:
		case line+1+len(tok) > headerFoldWidth:
			b.WriteString("\r\n ")
			line = 1
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(tok)
		line += len(tok)
	}
	return b.String()
}

// validThreadIndex reports whether s is a conversation index we may pass
// on; anything else is dropped rather than sent to Outlook.
func validThreadIndex(s string) bool {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return false
	}
	_, err := decodeThreadIndex(s)
	return err == nil
}

// isToken accepts an RFC 3834 §5 auto-submitted value: a keyword made of
// letters, digits and "-" (parameters are not used by claimsd).
func isToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '-' {
			return false
		}
	}
	return true
}

// isLanguageTag accepts the shape of an RFC 5646 language tag ("pl",
// "en-GB"): subtags of 1 to 8 letters or digits joined by "-", the first
// made of letters (RFC 3282 Content-Language).
func isLanguageTag(s string) bool {
	if s == "" || len(s) > 35 {
		return false
	}
	for i, sub := range strings.Split(s, "-") {
		if sub == "" || len(sub) > 8 {
			return false
		}
		for _, r := range sub {
			if !isAlnum(r) || (i == 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
