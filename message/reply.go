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
	// "-----Original Message-----" (Outlook), "----- Original Message -----"
	// (Outlook Express), "-------- Oryginalna wiadomość --------"
	// (Thunderbird pl), "-----Wiadomość oryginalna-----" (Outlook pl).
	originalMessageLine = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|wiadomość oryginalna|oryginalna wiadomość|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}\s*$`)

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
	var kept, quotedLines []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if isQuotedLine(line) {
			quotedLines = append(quotedLines, line)
			continue
		}
		if isForwardLine(line) {
			kept = append(kept, lines[i:]...)
			break
		}
		if isQuoteHeader(lines, i) {
			quotedLines = append(quotedLines, lines[i:]...)
			break
		}
		kept = append(kept, line)
	}
	return trimBlankLines(kept), trimBlankLines(quotedLines)
}

// forwardKeywords must appear in a forward header line; checking them is
// much cheaper than the regular expression.
var forwardKeywords = []string{"forward", "przekaz", "weitergeleit", "transféré"}

// maxForwardLine bounds forward header lines, which are short.
const maxForwardLine = 120

// isForwardLine reports whether line opens a forwarded message.
func isForwardLine(line string) bool {
	if len(line) > maxForwardLine {
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

// isQuotedLine reports whether a line is quoted with ">" (RFC 3676 section
// 4.5 quote marks), allowing indentation.
func isQuotedLine(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), ">")
}

// isQuoteHeader reports whether lines[i] starts quoted history.
func isQuoteHeader(lines []string, i int) bool {
	line := lines[i]
	if strings.TrimSpace(line) == "" {
		return false
	}
	if len(line) <= maxSeparatorLine {
		if originalMessageLine.MatchString(line) {
			return true
		}
		if underscoreRule.MatchString(line) {
			return outlookFromAhead(lines, i+1)
		}
	}
	if isAttribution(line) {
		return true
	}
	if next, ok := nextLine(lines, i); ok && strings.HasSuffix(strings.TrimRight(next, " \t"), ":") && !isQuotedLine(next) {
		joined := strings.TrimRight(line, " \t") + " " + strings.TrimSpace(next)
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
	if !strings.HasSuffix(strings.TrimRight(s, " \t"), ":") || utf8.RuneCountInString(s) > maxAttributionLen {
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

// trimBlankLines drops leading and trailing blank lines and joins.
func trimBlankLines(lines []string) string {
	start, end := 0, len(lines)
	for start < end && strings.TrimSpace(lines[start]) == "" {
		start++
	}
	for end > start && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	return strings.Join(lines[start:end], "\n")
}
