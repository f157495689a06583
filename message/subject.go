package message

import (
	"regexp"
	"strings"
)

var (
	// subjectPrefix matches one reply or forward prefix at the start of a
	// lower-cased subject: re (English, Latin), res (Portuguese, Catalan),
	// aw (German), sv (Scandinavian), antw (Dutch), odp (Polish), r and rif
	// (Italian), ref, vs (Finnish); fwd, fw, pd (Polish "prześlij dalej"),
	// wg (German), doorst (Dutch), tr (French), rv (Spanish), enc
	// (Portuguese), vb (Swedish), i (Italian "inoltrato"). A counter may
	// follow ("re[2]", "re(2)", "re^2"), and the colon may be full-width.
	// The colon is required so that the words "I" or "R" are never taken.
	subjectPrefix = regexp.MustCompile(`^(re|res|aw|sv|antw|odp|r|rif|ref|vs|fwd|fw|pd|wg|doorst|tr|rv|enc|vb|i)\s*(\[\d{1,6}\]|\(\d{1,6}\)|\^\d{1,6})?\s*[:：]`)

	// Tags in brackets at either end: "[EXTERNAL]", "[SPAM]", list names
	// (RFC 5256 section 2.1 "subj-blob"), and our own case ids.
	leadingBlob  = regexp.MustCompile(`^\[[^\[\]]*\]`)
	trailingBlob = regexp.MustCompile(`\[[^\[\]]*\]$`)
	// caseTag is a claimsd case id, removed wherever it is.
	caseTag = regexp.MustCompile(`(?i)\[\s*clm-\d{4}-\d{1,12}\s*\]`)
	// trailingFwd is the RFC 5256 section 2.1 "(fwd)" trailer.
	trailingFwd = regexp.MustCompile(`\(fwd\)$`)
)

// NormalizeSubject reduces a subject to what stays the same across a
// thread, in the spirit of the RFC 5256 section 2.1 base subject: reply and
// forward prefixes in many languages ("Re:", "AW:", "Odp:", "PD:",
// "Re[2]:", "RE^2:", "Fwd："), bracketed tags at the start or end
// ("[EXTERNAL]", "[SPAM]"), claimsd case ids ("[CLM-2026-000123]")
// anywhere and a trailing "(fwd)" are stripped, repeatedly; whitespace is
// collapsed and the result lower-cased (Unicode aware). A tag is kept when
// removing it would leave nothing. NormalizeSubject is idempotent.
func NormalizeSubject(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for {
		next := normalizeSubjectStep(s)
		if next == s {
			return s
		}
		s = next
	}
}

// normalizeSubjectStep applies every rule once; NormalizeSubject iterates
// it to a fixed point, which makes the result idempotent by construction.
// Every rule either shortens the string or leaves it alone, so the
// iteration ends.
func normalizeSubjectStep(s string) string {
	s = collapseSpace(strings.ToLower(s))
	if m := subjectPrefix.FindStringIndex(s); m != nil {
		return s[m[1]:]
	}
	if t := caseTag.ReplaceAllString(s, " "); strings.TrimSpace(t) != "" {
		s = collapseSpace(t)
	}
	for _, blob := range []*regexp.Regexp{leadingBlob, trailingBlob, trailingFwd} {
		if t := collapseSpace(blob.ReplaceAllString(s, "")); t != "" && t != s {
			return t
		}
	}
	return s
}

// collapseSpace trims s and turns each run of Unicode white space into one
// space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
