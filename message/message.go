// Package message owns the reading of one RFC 5322 message: MIME structure,
// charsets, encoded words, the text a person would read (plain text preferred,
// HTML converted when there is no plain part), attachments streamed out to a
// sink, the new text of a reply separated from quoted history, and subject
// normalisation. It is pure: no network, no store, no clock.
package message

import (
	"io"
	"net/textproto"
	"time"
)

// Address is a mailbox with its display name decoded. Addr is lower-cased;
// it is empty for a name-only entry ("From: Whomever").
type Address struct {
	Name string `json:"name,omitempty"`
	Addr string `json:"addr"`
}

// Attachment describes one stored attachment; its bytes live in the sink
// under SHA256.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Inline      bool   `json:"inline,omitempty"`
}

// Parsed is what intake keeps of one message. Fields that could not be read
// are left zero and the reason is added to Problems.
type Parsed struct {
	MessageID  string   // without angle brackets; "" when missing
	InReplyTo  []string // ids without angle brackets
	References []string // ids without angle brackets, oldest first
	From       Address
	Sender     Address // Sender: header, if any
	ReplyTo    []Address
	To         []Address
	Cc         []Address
	ReturnPath string // envelope sender from Return-Path, "" for <> or missing; see NullSender
	NullSender bool   // Return-Path: <>
	Subject    string // decoded
	Date       time.Time
	// Header holds the top-level header fields (decoded where they carry
	// text), for classification. It is not stored.
	Header textproto.MIMEHeader
	// MediaType of the top-level body, e.g. "multipart/report"; ReportType
	// its report-type parameter, lower-cased.
	MediaType  string
	ReportType string
	// EnclosedMessageID is the Message-ID of the original message enclosed
	// in a delivery status report (message/rfc822 or text/rfc822-headers
	// part), "" when none.
	EnclosedMessageID string
	// DeliveryStatus holds the per-recipient fields of a delivery status
	// report (RFC 3464), nil when the message is none.
	DeliveryStatus []RecipientStatus
	// Text is the whole readable body; NewText the part the author wrote
	// in this message (quoted history removed); Quoted the rest.
	Text     string
	NewText  string
	Quoted   string
	FromHTML bool // Text was converted from an HTML part
	// Attachments in the order they appear.
	Attachments []Attachment
	// Problems lists what was wrong but survivable (unknown charset, bad
	// base64, too many parts). Parse still returns a usable Parsed.
	Problems []string
}

// RecipientStatus is one per-recipient block of a delivery status report
// (RFC 3464 §2.3).
type RecipientStatus struct {
	// Recipient is the address from Final-Recipient (or
	// Original-Recipient), without its "rfc822;" type, lower-cased.
	Recipient string `json:"recipient"`
	// Action is failed, delayed, delivered, relayed or expanded.
	Action string `json:"action"`
	// Status is the enhanced status code, e.g. 5.1.1.
	Status string `json:"status"`
	// Diagnostic is the Diagnostic-Code text, e.g. "smtp; 550 5.1.1 User unknown".
	Diagnostic string `json:"diagnostic,omitempty"`
}

// AttachmentSink stores the decoded bytes of one attachment and returns
// their size and lower-case hex SHA-256. It must stream: attachments can be
// tens of megabytes. Put should read r to io.EOF; r ends early (with
// io.EOF, not an error) when the attachment's transfer encoding is broken,
// and Parse then records a Problem. An error from Put aborts Parse.
type AttachmentSink interface {
	Put(r io.Reader) (size int64, sha256hex string, err error)
}
