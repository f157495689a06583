package message

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
)

// deliveryStatusBytes bounds how much of a message/delivery-status part is
// read: real reports are a few hundred bytes per recipient.
const deliveryStatusBytes = 64 << 10

// isDeliveryStatus reports whether a part is the machine-readable part of a
// delivery status report (RFC 3464 §2; RFC 6533 for the global form).
func isDeliveryStatus(parent, mediaType string) bool {
	return parent == "multipart/report" &&
		(mediaType == "message/delivery-status" || mediaType == "message/global-delivery-status")
}

// parseDeliveryStatus reads the per-recipient blocks of a
// message/delivery-status body: header-like groups separated by blank
// lines, the first being the per-message fields (RFC 3464 §2.1). Blocks
// without a recipient are skipped; it never fails.
func parseDeliveryStatus(b []byte) []RecipientStatus {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	out := []RecipientStatus{}
	for range 1000 {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 {
			if rs, ok := recipientStatus(h); ok {
				out = append(out, rs)
			}
		}
		if err != nil {
			break
		}
	}
	return out
}

func recipientStatus(h textproto.MIMEHeader) (RecipientStatus, bool) {
	rcpt := typedAddress(h.Get("Final-Recipient"))
	if rcpt == "" {
		rcpt = typedAddress(h.Get("Original-Recipient"))
	}
	if rcpt == "" {
		return RecipientStatus{}, false
	}
	return RecipientStatus{
		Recipient:  rcpt,
		Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
		Status:     firstWord(h.Get("Status")),
		Diagnostic: truncateString(strings.Join(strings.Fields(h.Get("Diagnostic-Code")), " "), 500),
	}, true
}

// typedAddress strips the address type of an RFC 3464 address field
// ("rfc822; user@example.com").
func typedAddress(v string) string {
	if _, after, ok := strings.Cut(v, ";"); ok {
		v = after
	}
	v = strings.Trim(strings.TrimSpace(v), "<>")
	return strings.ToLower(v)
}

func firstWord(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
