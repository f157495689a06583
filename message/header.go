package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"
)

// Header limits. RFC 5322 section 2.1.1 caps lines at 998 characters but
// says nothing of the whole header; 1 MiB is what go-message uses too.
const (
	maxHeaderBytes  = 1 << 20
	maxHeaderFields = 10000
)

var errHeaderTooBig = errors.New("header exceeds 1 MiB")

// headerField is one unfolded header field.
type headerField struct {
	key   string // canonical, e.g. "Message-Id"
	value string // unfolded, trimmed, not decoded
}

// header is a message or part header in field order. Unlike go-message's
// textproto.ReadHeader, readHeader below is lenient about broken folding
// and a missing blank line, which real mailers produce.
type header []headerField

// Get returns the first value of key, "" when absent.
func (h header) Get(key string) string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	for _, f := range h {
		if f.key == key {
			return f.value
		}
	}
	return ""
}

// Values returns all values of key in order.
func (h header) Values(key string) []string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	var out []string
	for _, f := range h {
		if f.key == key {
			out = append(out, f.value)
		}
	}
	return out
}

// joined is strings.Join(h.Values(key), sep) without allocating for the
// usual single value.
func (h header) joined(key, sep string) string {
	key = textproto.CanonicalMIMEHeaderKey(key)
	var first string
	n := 0
	for _, f := range h {
		if f.key == key {
			if n == 0 {
				first = f.value
			}
			n++
		}
	}
	if n < 2 {
		return first
	}
	return strings.Join(h.Values(key), sep)
}

// fieldGetter is what part processing needs from a header; both header and
// go-message's *textproto.Header (multipart part headers) provide it.
type fieldGetter interface {
	Get(key string) string
}

// headerReader reads one header block from br.
type headerReader struct {
	br        *bufio.Reader
	remaining int
	fields    header
	key       string
	value     []byte
	problems  []string
	overflow  bool
	long      []byte // a line longer than br's buffer
}

// readHeader reads a header block (RFC 5322 section 2.2) and returns it
// with the reader positioned at the body. It is lenient where mailers are
// sloppy: an mbox "From " line first is skipped, a first line indented is
// accepted, and a line that is not a field ends the header as if a blank
// line preceded it (that line then starts the body). It fails only when the
// first line is not a header field at all, on an over-long header, or on a
// read error; the fields read so far are returned even then.
func readHeader(br *bufio.Reader) (header, io.Reader, []string, error) {
	hr := &headerReader{br: br, remaining: maxHeaderBytes}
	body, err := hr.read()
	return hr.fields, body, hr.problems, err
}

func (hr *headerReader) read() (io.Reader, error) {
	if err := hr.skipMboxFrom(); err != nil {
		return nil, err
	}
	for {
		line, err := hr.line()
		if err != nil && !errors.Is(err, io.EOF) {
			hr.flush()
			return nil, err
		}
		content := bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0 || len(content) == 0:
			// EOF or the blank line ending the header.
			hr.flush()
			return hr.br, nil
		case isWSP(content[0]) && hr.key != "":
			// Continuation line (RFC 5322 section 2.2.3 unfolding).
			if t := bytes.TrimSpace(content); len(t) > 0 {
				hr.value = append(append(hr.value, ' '), t...)
			}
		default:
			if isWSP(content[0]) {
				hr.problems = append(hr.problems, "header starts with an indented line")
				content = bytes.TrimLeft(content, " \t")
			}
			key, value, ok := splitField(content)
			if !ok {
				hr.flush()
				if len(hr.fields) == 0 {
					return nil, fmt.Errorf("first line is not a header field: %.60q", content)
				}
				hr.problems = append(hr.problems, "header ended without a blank line")
				rest := append([]byte(nil), line...)
				return io.MultiReader(bytes.NewReader(rest), hr.br), nil
			}
			hr.flush()
			hr.key, hr.value = key, append(hr.value[:0], value...)
		}
		if err != nil {
			hr.flush()
			return hr.br, nil
		}
	}
}

// skipMboxFrom drops a leading mbox "From sender date" line, which is not
// part of the message (RFC 4155); a sloppy "From : name" field is kept.
func (hr *headerReader) skipMboxFrom() error {
	b, _ := hr.br.Peek(64)
	if !bytes.HasPrefix(b, []byte("From ")) || bytes.HasPrefix(bytes.TrimLeft(b[4:], " \t"), []byte(":")) {
		return nil
	}
	_, err := hr.line()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// line reads one line including its terminator, charging it to the header
// budget. The line is only valid until the next call: it usually is in the
// bufio.Reader's buffer, and otherwise in hr.long, which is reused.
func (hr *headerReader) line() ([]byte, error) {
	line := hr.long[:0]
	for {
		frag, err := hr.br.ReadSlice('\n')
		if len(line)+len(frag) > hr.remaining {
			return nil, errHeaderTooBig
		}
		if len(line) == 0 && !errors.Is(err, bufio.ErrBufferFull) {
			line = frag // the whole line fitted in the buffer
		} else {
			line = append(line, frag...)
			hr.long = line
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		hr.remaining -= len(line)
		return line, err
	}
}

// flush appends the field being assembled.
func (hr *headerReader) flush() {
	if hr.key == "" {
		return
	}
	switch {
	case len(hr.fields) < maxHeaderFields:
		hr.fields = append(hr.fields, headerField{key: hr.key, value: string(hr.value)})
	case !hr.overflow:
		hr.overflow = true
		hr.problems = append(hr.problems, fmt.Sprintf("more than %d header fields, rest ignored", maxHeaderFields))
	}
	hr.key = ""
	hr.value = hr.value[:0]
}

// splitField splits "Key: value". The key must be printable ASCII without
// colon (RFC 5322 section 2.2); spaces before the colon are tolerated.
func splitField(line []byte) (string, []byte, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", nil, false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return "", nil, false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return "", nil, false
		}
	}
	if k, ok := commonKeys[string(key)]; ok {
		return k, bytes.TrimSpace(line[i+1:]), true
	}
	return textproto.CanonicalMIMEHeaderKey(string(key)), bytes.TrimSpace(line[i+1:]), true
}

// commonKeys maps field names as mailers usually spell them to their
// canonical form, so that splitField need not allocate a string for them.
// It is filled once and only read.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Authentication-Results", "Auto-Submitted", "Cc", "Content-Description",
		"Content-Disposition", "Content-ID", "Content-Id", "Content-Language",
		"Content-Transfer-Encoding", "Content-Type", "Date", "Delivered-To",
		"DKIM-Signature", "Dkim-Signature", "From", "Importance", "In-Reply-To",
		"List-Id", "List-Unsubscribe", "Message-ID", "Message-Id", "MIME-Version",
		"Mime-Version", "Precedence", "Received", "Received-SPF", "References",
		"Reply-To", "Return-Path", "Sender", "Subject", "Thread-Index", "Thread-Topic",
		"To", "User-Agent", "X-Mailer", "X-Originating-IP", "X-Priority",
	} {
		m[k] = textproto.CanonicalMIMEHeaderKey(k)
	}
	return m
}()

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// parseHeaderBytes reads the header at the start of b (an enclosed message
// or text/rfc822-headers part); a truncated header yields what was read.
func parseHeaderBytes(b []byte) header {
	h, _, _, _ := readHeader(bufio.NewReader(bytes.NewReader(b)))
	return h
}

// mimeHeader converts h to the Parsed.Header form.
func mimeHeader(h header) textproto.MIMEHeader {
	m := make(textproto.MIMEHeader, len(h))
	// Most keys have one value: give each its own one-element slice of a
	// shared array (capacity one, so that a second value reallocates)
	// instead of allocating a slice per key.
	values := make([]string, len(h))
	for i, f := range h {
		v := displayValue(f.key, f.value)
		if prev, ok := m[f.key]; ok {
			m[f.key] = append(prev, v)
			continue
		}
		values[i] = v
		m[f.key] = values[i : i+1 : i+1]
	}
	return m
}

// textFields are header fields whose values are text meant for people, so
// RFC 2047 encoded-words in them are decoded for Parsed.Header. Others
// (ids, Received, DKIM, Content-*) are kept raw, only made valid UTF-8.
var textFields = map[string]bool{
	"Subject": true, "Comments": true, "Keywords": true, "Thread-Topic": true,
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true,
	"Sender": true, "Organization": true, "X-Mailer": true, "User-Agent": true,
}

// displayValue is the Parsed.Header form of a field value.
func displayValue(key, value string) string {
	if textFields[key] {
		s, _ := decodeWords(value)
		return s
	}
	return validText(value)
}
