package message

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// Limits that keep hostile input from costing unbounded memory or time.
const (
	// maxParts is the most MIME parts (containers included) Parse visits.
	maxParts = 1000
	// maxDepth is the deepest multipart nesting Parse descends into.
	maxDepth = 30
	// maxTextBytes caps the plain text, and separately the HTML, that
	// Parse keeps in memory; the rest is dropped with a Problem.
	maxTextBytes = 2 << 20
	// maxProblems caps Parsed.Problems; further ones are only counted.
	maxProblems = 50

	// enclosedHeaderBytes is how much of an enclosed message is kept to
	// read its header (for Parsed.EnclosedMessageID).
	enclosedHeaderBytes = 256 << 10
	// preambleBytes is how much of a multipart body is kept in case no
	// boundary is ever found, so the text is not lost.
	preambleBytes = 64 << 10
	// readBufferSize is the buffer between r and the parser.
	readBufferSize = 32 << 10
)

// ErrInternal marks an error caused by a bug in the parser rather than by
// the message or the reader.
var ErrInternal = errors.New("message: internal error")

// maxStackInError bounds the stack trace carried by an ErrInternal error.
const maxStackInError = 4 << 10

// Parse reads one RFC 5322 message from r. Attachments (and every non-text
// part) are streamed to sink, which must consume them without buffering
// them whole; with a nil sink they are hashed and discarded. Parse never
// panics and keeps memory bounded (see the max* constants) whatever the
// input.
//
// The returned *Parsed is never nil. The error is non-nil when the
// top-level header cannot be parsed (the Parsed then holds the fields read
// before the failure), when reading r fails, or when sink.Put fails; in
// every other case, however malformed the message, the error is nil and
// what was wrong is listed in Parsed.Problems.
//
// A panic inside Parse (a bug here or in a dependency) is recovered and
// returned as an error wrapping ErrInternal, so that one hostile message
// cannot crash the daemon again on every retry; the caller can quarantine
// the message instead.
func Parse(r io.Reader, sink AttachmentSink) (p *Parsed, err error) {
	p = &Parsed{}
	var w *walker
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrInternal, v, truncateString(string(debug.Stack()), maxStackInError))
			return // the buffers are not recycled: see parseBuffers
		}
		if w != nil && w.err == nil {
			putBuffers(w.bufs)
		}
	}()
	if r == nil {
		return p, errors.New("message: nil reader")
	}
	src := &sourceReader{r: r}
	w = &walker{p: p, sink: sink, plainLeft: maxTextBytes, htmlLeft: maxTextBytes, bufs: getBuffers()}
	w.bufs.src.Reset(src)
	h, body, headerProblems, err := readHeader(w.bufs.src)
	for _, hp := range headerProblems {
		w.problem("header: %s", hp)
	}
	w.envelope(h)
	if err != nil {
		w.finishProblems()
		if src.err != nil {
			return p, fmt.Errorf("message: reading header: %w", src.err)
		}
		return p, fmt.Errorf("message: parsing header: %w", err)
	}
	c := w.entity(h, body, partCtx{})
	w.finishText(c)
	w.finishProblems()
	switch {
	case w.err != nil:
		return p, w.err
	case src.err != nil:
		return p, fmt.Errorf("message: reading body: %w", src.err)
	}
	return p, nil
}

// sourceReader remembers the first real read error of the caller's reader,
// so it can be told apart from decoding errors inside the message (which
// are only Problems).
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// walker carries the state of one Parse through the MIME tree.
type walker struct {
	p                   *Parsed
	sink                AttachmentSink
	parts               int
	plainLeft, htmlLeft int64
	partLimitHit        bool
	depthLimitHit       bool
	droppedProblems     int
	err                 error // fatal: sink failure
	bufs                *parseBuffers
	// sawPlainText is set once a part yielded non-blank plain text; the
	// body will then not come from HTML (see text).
	sawPlainText bool
}

// partCtx locates a part in the tree.
type partCtx struct {
	path   string // IMAP-style part number ("2.1"); "" for the top level
	depth  int
	parent string // media type of the enclosing multipart, "" at the top
}

// label names the part in Problems.
func (pc partCtx) label() string {
	if pc.path == "" {
		return "message"
	}
	return "part " + pc.path
}

// child returns the context of the i-th (1-based) child of a multipart.
func (pc partCtx) child(i int, mediaType string) partCtx {
	path := strconv.Itoa(i)
	if pc.path != "" {
		path = pc.path + "." + path
	}
	return partCtx{path: path, depth: pc.depth + 1, parent: mediaType}
}

// content is the readable text found in a subtree, not yet chosen between.
type content struct {
	plain []string
	html  []string
}

// problem records a survivable defect.
func (w *walker) problem(format string, args ...any) {
	if len(w.p.Problems) < maxProblems {
		w.p.Problems = append(w.p.Problems, fmt.Sprintf(format, args...))
		return
	}
	w.droppedProblems++
}

func (w *walker) finishProblems() {
	if w.droppedProblems > 0 {
		w.p.Problems = append(w.p.Problems, fmt.Sprintf("%d more problems not listed", w.droppedProblems))
		w.droppedProblems = 0
	}
}

// stopped reports whether the walk must not visit more parts.
func (w *walker) stopped() bool {
	return w.err != nil || w.partLimitHit
}

// entity processes one part (or the whole message) and returns its text.
func (w *walker) entity(h fieldGetter, body io.Reader, pc partCtx) content {
	w.parts++
	if w.parts > maxParts {
		w.partLimitHit = true
		w.problem("more than %d MIME parts, the rest was skipped", maxParts)
		return content{}
	}
	ct := w.contentType(h, pc)
	if pc.depth == 0 {
		w.p.MediaType = ct.value
		w.p.ReportType = strings.ToLower(strings.TrimSpace(ct.param("report-type")))
	}
	if strings.HasPrefix(ct.value, "multipart/") {
		if ct.param("boundary") != "" {
			return w.multipart(ct, body, pc)
		}
		// RFC 2046 section 5.1.1 requires a boundary; without one the
		// body cannot be split, so read it as text rather than lose it.
		w.problem("%s: %s without boundary, read as text", pc.label(), ct.value)
		ct = headerValue{value: "text/plain", params: ct.params}
	}
	return w.leaf(h, ct, body, pc)
}

// contentType parses Content-Type, applying the defaults of RFC 2045
// section 5.2 (text/plain) and RFC 2046 section 5.1.5 (message/rfc822
// inside multipart/digest).
func (w *walker) contentType(h fieldGetter, pc partCtx) headerValue {
	raw := h.Get("Content-Type")
	def := "text/plain"
	if pc.parent == "multipart/digest" {
		def = "message/rfc822"
	}
	if strings.TrimSpace(raw) == "" {
		return headerValue{value: def}
	}
	ct := parseHeaderValue(raw)
	if !validMediaType(ct.value) {
		w.problem("%s: invalid Content-Type %.80q, read as %s", pc.label(), raw, def)
		ct.value = def
	}
	return ct
}

// validMediaType reports whether v is "type/subtype" made of RFC 2045
// token characters.
func validMediaType(v string) bool {
	typ, sub, ok := strings.Cut(v, "/")
	return ok && isToken(typ) && isToken(sub)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// multipart walks the children of a multipart entity (RFC 2046 section
// 5.1) using go-message's boundary scanner.
func (w *walker) multipart(ct headerValue, body io.Reader, pc partCtx) content {
	if pc.depth >= maxDepth {
		if !w.depthLimitHit {
			w.depthLimitHit = true
			w.problem("%s: multipart nesting deeper than %d, not descended", pc.label(), maxDepth)
		}
		return content{}
	}
	// The preamble buffer is lent by w.bufs and given back as soon as
	// the preamble is no longer needed; a nested multipart only starts
	// after that, so one buffer serves them all.
	pre := &prefixBuffer{limit: preambleBytes, buf: scratch(w.bufs.pre)}
	w.bufs.pre = nil
	mr := textproto.NewMultipartReader(io.TeeReader(body, pre), ct.param("boundary"))
	var kids []content
	var stopErr error
	for i := 1; !w.stopped(); i++ {
		part, err := mr.NextPart()
		if err != nil {
			stopErr = err
			break
		}
		if !pre.stopped {
			w.bufs.pre = pre.buf[:0]
			pre.stop()
		}
		kids = append(kids, w.entity(&part.Header, part, pc.child(i, ct.value)))
	}
	switch {
	case len(kids) == 0 && !w.stopped():
		c := w.orphanPreamble(pre, ct, pc, stopErr)
		w.bufs.pre = pre.buf[:0]
		return c
	case stopErr != nil && stopErr != io.EOF:
		w.multipartProblem(pc, ct, stopErr)
	}
	if ct.value == "multipart/alternative" {
		return chooseAlternative(kids)
	}
	return concatContent(kids)
}

// multipartProblem reports why a multipart stopped early. A missing
// closing delimiter (RFC 2046 section 5.1.1) is the common case: truncated
// or carelessly generated messages.
func (w *walker) multipartProblem(pc partCtx, ct headerValue, err error) {
	if strings.HasSuffix(err.Error(), "EOF") {
		w.problem("%s: %s ends without its closing boundary", pc.label(), ct.value)
		return
	}
	w.problem("%s: %s: %v", pc.label(), ct.value, err)
}

// orphanPreamble keeps the start of a multipart body that yielded no part
// (wrong boundary parameter, broken first part header) as plain text.
func (w *walker) orphanPreamble(pre *prefixBuffer, ct headerValue, pc partCtx, err error) content {
	data := pre.buf
	if len(strings.TrimSpace(string(data))) == 0 || w.plainLeft <= 0 {
		if err != nil && err != io.EOF {
			w.multipartProblem(pc, ct, err)
		}
		return content{}
	}
	if int64(len(data)) > w.plainLeft {
		data = data[:w.plainLeft]
	}
	w.plainLeft -= int64(len(data))
	w.problem("%s: %s yielded no part (boundary %.80q), body kept as text", pc.label(), ct.value, ct.param("boundary"))
	s, _ := guessDecode(data)
	return content{plain: []string{s}}
}

// chooseAlternative picks from multipart/alternative children (RFC 2046
// section 5.1.4): the first with plain text, and the last (most faithful)
// with HTML, for when there is no plain text.
func chooseAlternative(kids []content) content {
	var out content
	for _, k := range kids {
		if out.plain == nil && hasText(k.plain) {
			out.plain = k.plain
		}
		if len(k.html) > 0 {
			out.html = k.html
		}
	}
	return out
}

func concatContent(kids []content) content {
	var out content
	for _, k := range kids {
		out.plain = append(out.plain, k.plain...)
		out.html = append(out.html, k.html...)
	}
	return out
}

func hasText(texts []string) bool {
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			return true
		}
	}
	return false
}

// leaf handles a non-multipart part: readable text goes to the body,
// everything else to the sink.
func (w *walker) leaf(h fieldGetter, ct headerValue, body io.Reader, pc partCtx) content {
	disp := parseHeaderValue(h.Get("Content-Disposition"))
	name := disp.param("filename")
	if name == "" {
		name = ct.param("name")
	}
	name = sanitizeFilename(name)
	if isBodyText(ct.value, disp.value, name, pc.depth) {
		return w.text(h, ct, body, pc)
	}
	w.attachment(h, ct, disp.value, name, body, pc)
	return content{}
}

// isBodyText decides whether a part is message text. Plain and HTML parts
// are, unless marked as attachment (RFC 2183 section 2.2; unknown
// dispositions count as attachment, section 2.8) or carrying a file name
// (an attached .txt or .html file). A single-part message is its own body
// unless explicitly an attachment.
func isBodyText(mediaType, disposition, name string, depth int) bool {
	if mediaType != "text/plain" && mediaType != "text/html" {
		return false
	}
	if depth == 0 {
		return disposition != "attachment"
	}
	if disposition != "" && disposition != "inline" {
		return false
	}
	return name == ""
}

// text reads a text/plain or text/html part into memory, within budget.
func (w *walker) text(h fieldGetter, ct headerValue, body io.Reader, pc partCtx) content {
	isHTML := ct.value == "text/html"
	left := &w.plainLeft
	if isHTML {
		left = &w.htmlLeft
	}
	cte := w.transferEncoding(h, pc)
	if cte == "base64" {
		var raw []byte
		raw, body = w.bufferEncoded(body, *left, pc)
		defer func() { w.bufs.raw = raw[:0] }()
		if !looksLikeBase64(raw) {
			// Seen from broken gateways: plain text labelled base64.
			w.problem("%s: text declared base64 is not, read as is", pc.label())
			cte = ""
		}
	}
	r, filter, unknownCharset := w.decoded(ct, cte, body, pc, true)
	var data []byte
	var dropped int64
	var err error
	if cte == "base64" {
		data, dropped, err = readCappedBuffer(r, *left)
	} else {
		data, dropped, err = readCapped(scratch(w.bufs.text), r, *left)
		defer func() { w.bufs.text = data[:0] }()
	}
	*left -= int64(len(data))
	w.noteDecoding(pc, filter, err)
	if dropped > 0 {
		w.problem("%s: text over %d bytes, %d bytes dropped", pc.label(), maxTextBytes, dropped)
	}
	if isHTML {
		if w.sawPlainText && !unknownCharset && utf8.Valid(data) {
			// Plain text was found earlier, so the body will not come
			// from HTML (finishText converts HTML only when there is no
			// plain text) and this string would never be read. All
			// that could add a Problem has run; the rest of
			// textToUTF8 could not add one for valid UTF-8.
			return content{html: []string{""}}
		}
		return content{html: []string{w.textToUTF8(data, ct, unknownCharset, pc)}}
	}
	var s string
	flowed := strings.EqualFold(ct.param("format"), "flowed")
	if !flowed && !unknownCharset && utf8.Valid(data) {
		// The usual case, where textToUTF8 would return the bytes as
		// they are. cleanText turns CRLF and CR into LF in the whole
		// text later; doing it here, in the scratch buffer, saves a copy
		// of the text then, with the same result as line ends never
		// span parts (joinTexts trims them at the ends of each).
		s = string(crlfToLF(data))
	} else {
		s = w.textToUTF8(data, ct, unknownCharset, pc)
	}
	if flowed {
		s = unflow(s, strings.EqualFold(ct.param("delsp"), "yes"))
	}
	if strings.TrimSpace(s) != "" {
		w.sawPlainText = true
	}
	return content{plain: []string{s}}
}

// bufferEncoded reads the still base64-encoded text of a part, within what
// the text budget can hold once decoded, so it can be inspected first. The
// bytes are in w.bufs.raw, which the caller gives back when done.
func (w *walker) bufferEncoded(body io.Reader, left int64, pc partCtx) ([]byte, io.Reader) {
	raw, dropped, err := readCapped(scratch(w.bufs.raw), body, left/3*4+1024)
	if dropped > 0 {
		w.problem("%s: text over %d bytes, %d encoded bytes dropped", pc.label(), maxTextBytes, dropped)
	}
	if err != nil {
		return raw, io.MultiReader(bytes.NewReader(raw), errReader{err})
	}
	return raw, bytes.NewReader(raw)
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// textToUTF8 makes the bytes of a text part valid UTF-8. go-message has
// already converted known charsets; what is left is an unknown charset, or
// bytes that contradict their label (8-bit text declared us-ascii or
// UTF-8, or HTML whose charset is only in a <meta> tag).
func (w *walker) textToUTF8(data []byte, ct headerValue, unknownCharset bool, pc partCtx) string {
	if unknownCharset {
		// decodeCharset knows a few charsets go-message does not (UTF-7)
		// and otherwise guesses.
		s, err := decodeCharset(ct.param("charset"), data)
		if err != nil {
			w.problem("%s: %v", pc.label(), err)
		}
		return s
	}
	if utf8.Valid(data) {
		return string(data)
	}
	if ct.value == "text/html" && ct.param("charset") == "" {
		if label := sniffHTMLCharset(data); label != "" {
			if s, err := decodeCharset(label, data); err == nil {
				return s
			}
		}
	}
	s, guess := guessDecode(data)
	w.problem("%s: text is not valid %s, decoded as %s", pc.label(), charsetOrDefault(ct.param("charset")), guess)
	return s
}

func charsetOrDefault(label string) string {
	if label == "" {
		return "us-ascii"
	}
	return fmt.Sprintf("%.40s", label)
}

// transferEncoding reads Content-Transfer-Encoding; an unknown one is
// reported and treated as identity (the body is kept as sent).
func (w *walker) transferEncoding(h fieldGetter, pc partCtx) string {
	cte, known := normalizeCTE(h.Get("Content-Transfer-Encoding"))
	if !known {
		w.problem("%s: unknown Content-Transfer-Encoding %.40q, body kept undecoded", pc.label(), cte)
		return ""
	}
	return cte
}

// decoded returns the part body with the transfer encoding cte undone and,
// when convert is set, the charset converted to UTF-8, both as go-message
// does it. unknownCharset reports go-message's IsUnknownCharset: the body
// is then only transfer-decoded.
func (w *walker) decoded(ct headerValue, cte string, body io.Reader, pc partCtx, convert bool) (r io.Reader, filter *base64Filter, unknownCharset bool) {
	if cte == "base64" {
		filter = &base64Filter{r: body}
		body = filter
	}
	var label string
	if convert {
		label = normalizeCharsetLabel(ct.param("charset"))
	}
	if label != "" && !isToken(label) {
		r, unknownCharset = w.decodedByGoMessage(ct.value, label, cte, body, pc)
		return r, filter, unknownCharset
	}
	// What gomessage.New does for a valid media type and a token (or no)
	// charset, without building and re-parsing a header for it.
	switch cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		// go-message also turns spaces and tabs into line feeds for the
		// decoder to skip; body is a base64Filter, which has already
		// removed all white space.
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	if label == "" || label == "utf-8" || label == "us-ascii" {
		return body, filter, false
	}
	if gomessage.CharsetReader == nil {
		return body, filter, true
	}
	converted, err := gomessage.CharsetReader(label, body)
	if err != nil {
		return body, filter, true
	}
	return converted, filter, false
}

// decodedByGoMessage hands the body to gomessage.New with a header rebuilt
// from the lenient parse (so that a sloppy Content-Type does not defeat
// it), for charset labels that need the quoting and decoding it does.
func (w *walker) decodedByGoMessage(mediaType, label, cte string, body io.Reader, pc partCtx) (io.Reader, bool) {
	var mh gomessage.Header
	mh.SetContentType(mediaType, map[string]string{"charset": label})
	if cte != "" {
		mh.Set("Content-Transfer-Encoding", cte)
	}
	e, err := gomessage.New(mh, body)
	if err != nil && !gomessage.IsUnknownCharset(err) {
		w.problem("%s: %v", pc.label(), err)
	}
	return e.Body, gomessage.IsUnknownCharset(err)
}

// noteDecoding turns transfer-decoding trouble into Problems.
func (w *walker) noteDecoding(pc partCtx, filter *base64Filter, err error) {
	if filter != nil && filter.invalid > 0 {
		w.problem("%s: ignored %d characters outside the base64 alphabet (RFC 2045 section 6.8)", pc.label(), filter.invalid)
	}
	if err != nil {
		w.problem("%s: body decoding stopped, kept what decoded: %v", pc.label(), err)
	}
}

// attachment streams a part to the sink and records it.
func (w *walker) attachment(h fieldGetter, ct headerValue, disp, name string, body io.Reader, pc partCtx) {
	if name == "" {
		name = defaultName(ct.value, pc.path)
	}
	r, filter, _ := w.decoded(ct, w.transferEncoding(h, pc), body, pc, false)
	if w.bufs.copy == nil {
		w.bufs.copy = make([]byte, copyBufferSize)
	}
	stop := &stopAtError{r: r, buf: w.bufs.copy}
	var head, dsn *prefixBuffer
	switch {
	case enclosesOriginal(pc.parent, ct.value) && w.p.EnclosedMessageID == "":
		head = &prefixBuffer{limit: enclosedHeaderBytes}
		stop.tee = head
	case isDeliveryStatus(pc.parent, ct.value) && w.p.DeliveryStatus == nil:
		dsn = &prefixBuffer{limit: deliveryStatusBytes}
		stop.tee = dsn
	}
	size, sum, err := w.put(stop)
	if err != nil {
		w.err = fmt.Errorf("message: storing attachment %q (%s): %w", name, pc.label(), err)
		return
	}
	w.noteDecoding(pc, filter, stop.err)
	if head != nil {
		w.p.EnclosedMessageID = enclosedMessageID(head.buf)
	}
	if dsn != nil {
		w.p.DeliveryStatus = parseDeliveryStatus(dsn.buf)
	}
	w.p.Attachments = append(w.p.Attachments, Attachment{
		Name:        name,
		ContentType: ct.value,
		Size:        size,
		SHA256:      sum,
		// RFC 2183 inline, or a Content-ID (RFC 2392) without any
		// disposition: an image referenced from HTML.
		Inline: disp == "inline" || disp == "" && strings.TrimSpace(h.Get("Content-Id")) != "",
	})
}

// put hands r to the sink, or hashes and discards it without a sink.
func (w *walker) put(r io.Reader) (int64, string, error) {
	if w.sink != nil {
		return w.sink.Put(r)
	}
	hash := sha256.New()
	n, err := io.Copy(hash, r)
	return n, hex.EncodeToString(hash.Sum(nil)), err
}

// enclosesOriginal reports whether a part of a delivery report carries the
// original message or its header (RFC 6522 section 3, RFC 3464 section 2,
// and their internationalized forms, RFC 6533 section 6).
func enclosesOriginal(parent, mediaType string) bool {
	if parent != "multipart/report" {
		return false
	}
	switch mediaType {
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers":
		return true
	}
	return false
}

// enclosedMessageID reads the Message-ID from the start of an enclosed
// message or header block.
func enclosedMessageID(b []byte) string {
	ids := parseMsgIDs(parseHeaderBytes(b).Get("Message-Id"))
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// envelope fills the Parsed fields that come from the top-level header.
func (w *walker) envelope(h header) {
	p := w.p
	p.Header = mimeHeader(h)
	p.Subject = w.headerText(h, "Subject")
	if v := h.Get("Message-Id"); v != "" {
		if ids := parseMsgIDs(v); len(ids) > 0 {
			p.MessageID = ids[0]
		} else {
			w.problem("header: unparseable Message-ID %.80q", v)
		}
	}
	p.InReplyTo = parseMsgIDs(h.joined("In-Reply-To", " "))
	p.References = trimReferences(parseMsgIDs(h.joined("References", " ")))
	p.From = first(w.addresses(h.Get("From"), "From"))
	p.Sender = first(w.addresses(h.Get("Sender"), "Sender"))
	p.ReplyTo = w.addresses(h.joined("Reply-To", ", "), "Reply-To")
	p.To = w.addresses(h.joined("To", ", "), "To")
	p.Cc = w.addresses(h.joined("Cc", ", "), "Cc")
	p.ReturnPath, p.NullSender = returnPath(h.Get("Return-Path"))
	if v := h.Get("Date"); strings.TrimSpace(v) != "" {
		if t, ok := parseDate(v); ok {
			p.Date = t
		} else {
			w.problem("header: unparseable Date %.80q", v)
		}
	}
}

// headerText decodes an unstructured header field for display.
func (w *walker) headerText(h header, key string) string {
	s, problem := decodeWords(h.Get(key))
	if problem != "" {
		w.problem("header %s: %s", key, problem)
	}
	return strings.TrimSpace(stripControls(s))
}

// addresses parses an address field, noting when it needed the lenient
// parser.
func (w *walker) addresses(v, key string) []Address {
	list, ok := parseAddressList(v)
	if !ok {
		w.problem("header %s: malformed address list %.80q, read leniently", key, v)
	}
	return list
}

func first(list []Address) Address {
	if len(list) == 0 {
		return Address{}
	}
	return list[0]
}
