package message

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Quote-header patterns of common mail clients, in English, Polish and
// German. They are matched against single lines (or two joined lines, as
// clients wrap long attribution lines).
var (
	// Forward headers: the forwarded message is content, not history.
	forwardLine = regexp.MustCompile(`(?i)^\s*(-{2,}\s*)?(forwarded message|wiadomość przekazana dalej|przekazana wiadomość|wiadomość przekazana|weitergeleitete nachricht|message transféré)\s*(-{2,})?\s*$|^\s*(begin forwarded message|początek przekazanej wiadomości|anfang der weitergeleiteten nachricht)\s*:\s*$`)

	// Attribution lines: "On <date>, <name> wrote:", "W dniu <date> <name>
	// napisał(a):", Gmail pl "<date> <name> napisał(a):", "... pisze:".
	attributionEnd   = regexp.MustCompile(`(?i)(\swrote|\snapisał\(a\)|\snapisał|\snapisała|\snapisali|\spisze|\sschrieb|\sa écrit|\sescribió)\s*:\s*$`)
	attributionStart = regexp.MustCompile(`(?i)^\s*(on|w dniu|dnia|am|le|el)\s`)
	// German "Am <date> um <time> schrieb <name> <addr>:".
	germanAttribution = regexp.MustCompile(`(?i)^\s*am\s.+\sschrieb\s.+:\s*$`)

	// Outlook's "________________________________" rule above a header block.
	underscoreRule = regexp.MustCompile(`^\s*_{10,}\s*$`)
)

// originalMessagePhrases name the original message in the separator
// Outlook and others put above it: "-----Original Message-----" (Outlook),
// "----- Original Message -----" (Outlook Express), "--------
// Oryginalna wiadomość --------" (Thunderbird pl), "-----Wiadomość
// oryginalna-----" (Outlook pl).
var originalMessagePhrases = []string{
	"original message", "wiadomość oryginalna", "oryginalna wiadomość",
	"ursprüngliche nachricht", "message d'origine", "mensaje original",
}

// isOriginalMessageLine reports whether line is such a separator: a phrase,
// in any case, between runs of at least two dashes, white space around
// them allowed. It does what the regular expression
// (?i)^\s*-{2,}\s*(phrase|...)\s*-{2,}\s*$ does (originalMessageLine in
// the tests), several times faster; strings.EqualFold folds case as (?i)
// does.
func isOriginalMessageLine(line string) bool {
	s := trimRegexpSpace(line)
	inner := strings.TrimLeft(s, "-")
	if len(s)-len(inner) < 2 {
		return false
	}
	s = inner
	inner = strings.TrimRight(s, "-")
	if len(s)-len(inner) < 2 {
		return false
	}
	inner = trimRegexpSpace(inner)
	for _, phrase := range originalMessagePhrases {
		if strings.EqualFold(inner, phrase) {
			return true
		}
	}
	return false
}

// Shape limits: real attribution lines are short, and a long paragraph
// that happens to end in "pisze:" is not one; separators are short too.
// Checking them first keeps SplitReply fast on hostile text.
const (
	maxAttributionLen = 300
	maxSeparatorLine  = 120
	outlookBlockLines = 6
	fieldNameWindow   = 16
)

// Field names of an Outlook header block, lower-cased: "From:"/"Od:" then
// "Sent:"/"Wysłane:"/"Wysłano:"/"Data:"/"Date:" and "To:"/"Do:"/
// "Subject:"/"Temat:" (and German and French equivalents).
var (
	outlookFromNames = map[string]bool{"from": true, "od": true, "von": true, "de": true}
	outlookSentNames = map[string]bool{"sent": true, "date": true, "wysłane": true, "wysłano": true, "data": true, "gesendet": true, "envoyé": true}
	outlookToNames   = map[string]bool{"to": true, "do": true, "an": true, "à": true, "subject": true, "temat": true, "betreff": true, "objet": true, "cc": true, "dw": true, "kopia": true}
)

// fieldName returns the lower-cased name of a "Name: value" line (bold
// "*From:*" as html2text renders it included) and whether a value follows.
// The colon must come early: field names are short.
func fieldName(line string) (name string, hasValue bool) {
	i := strings.IndexByte(line[:min(len(line), fieldNameWindow)], ':')
	if i < 0 {
		return "", false
	}
	name = strings.ToLower(strings.Trim(strings.TrimSpace(line[:i]), "*"))
	return name, strings.Trim(line[i+1:], "* \t") != ""
}

// isOutlookFrom reports whether line is the "From:"/"Od:" line opening an
// Outlook header block.
func isOutlookFrom(line string) bool {
	name, hasValue := fieldName(line)
	return hasValue && outlookFromNames[name]
}

// SplitReply separates what the author of a message wrote from the history
// it quotes. Quoted history is every line starting with ">" and everything
// from the first quote header on: an attribution line ("On <date>, <name>
// wrote:", Polish "W dniu <date> <name> napisał(a):" / "napisał:" /
// "pisze:", German "Am <date> schrieb <name>:", Apple Mail "On <date>, at
// <time>, <name> wrote:", possibly wrapped over two lines), an Outlook
// separator ("-----Original Message-----", "-----Wiadomość
// oryginalna-----"), an Outlook header block ("From:/Sent:/To:/Subject:",
// "Od:/Wysłane:/Do:/Temat:", also "Wysłano:" and "Data:"), or an
// underscore rule followed by such a "From:"/"Od:" line.
//
// Forwards ("---------- Forwarded message ---------", "Begin forwarded
// message:", "Przekazana wiadomość") are content: a forwarded complaint is
// the complaint, so everything from a forward header on stays in newText,
// quotes included. A signature stays in newText. Trailing blank lines are
// trimmed from both results.
func SplitReply(text string) (newText, quoted string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	// Both results are lines of text in order, mostly long runs of
	// adjacent lines, so they are collected as runs and cut out of text
	// rather than appended line by line and joined.
	kept := lineRuns{text: text, lines: lines}
	quotedRuns := lineRuns{text: text, lines: lines}
	off := 0 // offset of line in text
	for i, line := range lines {
		switch {
		case isQuotedLine(line):
			quotedRuns.add(i, off)
		case isForwardLine(line):
			kept.addRest(i, off)
			return kept.join(), quotedRuns.join()
		case isQuoteHeader(lines, i):
			quotedRuns.addRest(i, off)
			return kept.join(), quotedRuns.join()
		default:
			kept.add(i, off)
		}
		off += len(line) + 1
	}
	return kept.join(), quotedRuns.join()
}

// lineRun is lines[first:end] of a text, which are text[start:stop].
type lineRun struct {
	first, end  int
	start, stop int
}

// lineRuns collects lines of text for one SplitReply result.
type lineRuns struct {
	text  string
	lines []string
	runs  []lineRun
}

// add appends lines[i], found at offset off of the text.
func (l *lineRuns) add(i, off int) {
	stop := off + len(l.lines[i])
	if n := len(l.runs); n > 0 && l.runs[n-1].end == i {
		l.runs[n-1].end, l.runs[n-1].stop = i+1, stop
		return
	}
	l.runs = append(l.runs, lineRun{first: i, end: i + 1, start: off, stop: stop})
}

// addRest appends lines[i:], lines[i] being at offset off.
func (l *lineRuns) addRest(i, off int) {
	l.add(i, off)
	r := &l.runs[len(l.runs)-1]
	r.end, r.stop = len(l.lines), len(l.text)
}

// join returns the collected lines joined by newlines, without leading
// and trailing blank lines.
func (l *lineRuns) join() string {
	runs := l.runs
	// Drop blank lines at both ends, run by run.
	for len(runs) > 0 {
		r := &runs[0]
		for r.first < r.end && isBlank(l.lines[r.first]) {
			r.start += len(l.lines[r.first]) + 1
			r.first++
		}
		if r.first < r.end {
			break
		}
		runs = runs[1:]
	}
	for len(runs) > 0 {
		r := &runs[len(runs)-1]
		for r.end > r.first && isBlank(l.lines[r.end-1]) {
			r.end--
			if r.end > r.first {
				r.stop -= len(l.lines[r.end]) + 1
			}
		}
		if r.end > r.first {
			break
		}
		runs = runs[:len(runs)-1]
	}
	switch len(runs) {
	case 0:
		return ""
	case 1:
		return l.text[runs[0].start:runs[0].stop]
	}
	size := len(runs) - 1
	for _, r := range runs {
		size += r.stop - r.start
	}
	var b strings.Builder
	b.Grow(size)
	for i, r := range runs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.text[r.start:r.stop])
	}
	return b.String()
}

func isBlank(line string) bool {
	return strings.TrimSpace(line) == ""
}

// forwardKeywords must appear in a forward header line; checking them is
// much cheaper than the regular expression.
var forwardKeywords = []string{"forward", "przekaz", "weitergeleit", "transféré"}

// maxForwardLine bounds forward header lines, which are short.
const maxForwardLine = 120

// isForwardLine reports whether line opens a forwarded message.
func isForwardLine(line string) bool {
	if len(line) > maxForwardLine || !mayOpenForward(line) {
		return false
	}
	lower := strings.ToLower(line)
	for _, k := range forwardKeywords {
		if strings.Contains(lower, k) {
			return forwardLine.MatchString(line)
		}
	}
	return false
}

// forwardLeads are the beginnings of the forwardLine phrases, each cut
// before its first letter that is not ASCII or whose case-folding, as (?i)
// applies it, includes a non-ASCII letter (k, s).
var forwardLeads = []string{"forwarded", "wiadomo", "prze", "weitergeleitete", "me", "begin", "pocz", "anfang"}

// mayOpenForward is a necessary condition for forwardLine, cheap enough
// to check on every line before lower-casing it: after white space and
// dashes, the line starts with a lead, ignoring ASCII case.
func mayOpenForward(line string) bool {
	rest := skipRegexpSpace(strings.TrimLeft(skipRegexpSpace(line), "-"))
	for _, lead := range forwardLeads {
		if hasPrefixFoldASCII(rest, lead) {
			return true
		}
	}
	return false
}

// hasPrefixFoldASCII reports whether s starts with the lower-case ASCII
// prefix, ignoring ASCII case.
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// trimLeftBlank is strings.TrimLeft(s, " \t"), which builds its cutset
// anew on every call.
func trimLeftBlank(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// trimRightBlank is strings.TrimRight(s, " \t").
func trimRightBlank(s string) string {
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// trimRegexpSpace drops leading and trailing \s as regexp defines it.
func trimRegexpSpace(s string) string {
	s = skipRegexpSpace(s)
	for s != "" {
		switch s[len(s)-1] {
		case '\t', '\n', '\f', '\r', ' ':
			s = s[:len(s)-1]
		default:
			return s
		}
	}
	return s
}

// skipRegexpSpace drops leading \s as regexp defines it: [\t\n\f\r ].
func skipRegexpSpace(s string) string {
	for s != "" {
		switch s[0] {
		case '\t', '\n', '\f', '\r', ' ':
			s = s[1:]
		default:
			return s
		}
	}
	return s
}

// isQuotedLine reports whether a line is quoted with ">" (RFC 3676 section
// 4.5 quote marks), allowing indentation.
func isQuotedLine(line string) bool {
	return strings.HasPrefix(trimLeftBlank(line), ">")
}

// isQuoteHeader reports whether lines[i] starts quoted history.
func isQuoteHeader(lines []string, i int) bool {
	line := lines[i]
	if strings.TrimSpace(line) == "" {
		return false
	}
	if len(line) <= maxSeparatorLine {
		if isOriginalMessageLine(line) {
			return true
		}
		// The rule is checked as a prefix, much cheaper than the
		// expression, first.
		if strings.HasPrefix(skipRegexpSpace(line), "__________") && underscoreRule.MatchString(line) {
			return outlookFromAhead(lines, i+1)
		}
	}
	if isAttribution(line) {
		return true
	}
	if next, ok := nextLine(lines, i); ok && strings.HasSuffix(trimRightBlank(next), ":") && !isQuotedLine(next) {
		joined := trimRightBlank(line) + " " + strings.TrimSpace(next)
		// A wrapped attribution starts here if this line opens like one
		// ("On", "W dniu") or the next line is not a whole attribution by
		// itself (else the marker is the next line, not this one).
		if !attributionEnd.MatchString(line) && isAttribution(joined) &&
			(attributionStart.MatchString(line) || !isAttribution(next)) {
			return true
		}
	}
	return isOutlookBlock(lines, i)
}

func nextLine(lines []string, i int) (string, bool) {
	if i+1 < len(lines) {
		return lines[i+1], true
	}
	return "", false
}

// isAttribution reports whether s looks like a reply attribution line:
// short, ending in "wrote:" or a translation, and starting with "On"/"W
// dniu"/"Am" or containing a date digit or an address.
func isAttribution(s string) bool {
	// Cheap checks first: every attribution ends in a colon.
	if !strings.HasSuffix(trimRightBlank(s), ":") || utf8.RuneCountInString(s) > maxAttributionLen {
		return false
	}
	if germanAttribution.MatchString(s) {
		return true
	}
	if !attributionEnd.MatchString(s) {
		return false
	}
	return attributionStart.MatchString(s) || strings.ContainsAny(s, "0123456789@")
}

// outlookFromAhead reports whether one of the next two non-blank lines is
// an Outlook "From:"/"Od:" line.
func outlookFromAhead(lines []string, start int) bool {
	seen := 0
	for j := start; j < len(lines) && seen < 2; j++ {
		if strings.TrimSpace(lines[j]) == "" {
			continue
		}
		seen++
		if isOutlookFrom(lines[j]) {
			return true
		}
	}
	return false
}

// isOutlookBlock reports whether lines[i] is "From:"/"Od:" followed within
// a few lines by a "Sent:"-like and a "To:"/"Subject:"-like field.
func isOutlookBlock(lines []string, i int) bool {
	if !isOutlookFrom(lines[i]) {
		return false
	}
	var sent, to bool
	for j := i + 1; j < len(lines) && j <= i+outlookBlockLines; j++ {
		name, _ := fieldName(lines[j])
		sent = sent || outlookSentNames[name]
		to = to || outlookToNames[name]
	}
	return sent && to
}
