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
	subjectPrefix = regexp.MustCompile(`^(re|res|aw|sv|antw|odp|r|rif|ref|vs|fwd|fw|pd|wg|doorst|tr|rv|enc|vb|i) ?(\[\d{1,6}\]|\(\d{1,6}\)|\^\d{1,6})? ?[:：]`)

	// caseTag is a claimsd case id, removed wherever it is.
	caseTag = regexp.MustCompile(`\[ ?clm-\d{4}-\d{1,12} ?\]`)
)

// prefixWindow bounds the text the prefix expression looks at; the longest
// prefix ("doorst [123456] ：") is shorter. Matching a bounded window keeps
// every step constant-time, so a subject of a million "Re:" stays linear.
const prefixWindow = 32

// NormalizeSubject reduces a subject to what stays the same across a
// thread, in the spirit of the RFC 5256 section 2.1 base subject: reply and
// forward prefixes in many languages ("Re:", "AW:", "Odp:", "PD:",
// "Re[2]:", "RE^2:", "Fwd："), bracketed tags at the start or end
// ("[EXTERNAL]", "[SPAM]"), claimsd case ids ("[CLM-2026-000123]")
// anywhere and a trailing "(fwd)" are stripped, repeatedly; whitespace is
// collapsed and the result lower-cased (Unicode aware). A tag is kept when
// removing it would leave nothing. NormalizeSubject is idempotent and runs
// in time linear in the length of s.
func NormalizeSubject(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for {
		next := normalizeSubjectPass(s)
		if next == s {
			return s
		}
		s = next
	}
}

// normalizeSubjectPass applies every rule once, each as far as it goes;
// NormalizeSubject repeats passes to a fixed point (in practice one or two),
// which makes the result idempotent by construction.
func normalizeSubjectPass(s string) string {
	s = collapseSpace(strings.ToLower(s))
	s = stripLeading(s)
	if t := collapseSpace(caseTag.ReplaceAllString(s, " ")); t != "" {
		s = t
	}
	return stripTrailing(s)
}

// stripLeading removes reply/forward prefixes and bracketed tags from the
// start of a lower-cased, space-collapsed subject.
func stripLeading(s string) string {
	i := 0
	for {
		if i < len(s) && s[i] == ' ' {
			i++
		}
		rest := s[i:]
		if m := subjectPrefix.FindStringIndex(rest[:min(len(rest), prefixWindow)]); m != nil {
			i += m[1]
			continue
		}
		n := leadingBlob(rest)
		if n == 0 || strings.TrimSpace(rest[n:]) == "" {
			return rest
		}
		i += n
	}
}

// leadingBlob returns the length of a "[...]" tag (RFC 5256 subj-blob, no
// nested brackets) at the start of s, or 0.
func leadingBlob(s string) int {
	if !strings.HasPrefix(s, "[") {
		return 0
	}
	j := strings.IndexAny(s[1:], "[]")
	if j < 0 || s[1+j] != ']' {
		return 0
	}
	return j + 2
}

// stripTrailing removes bracketed tags and the RFC 5256 "(fwd)" trailer
// from the end.
func stripTrailing(s string) string {
	for {
		s = strings.TrimRight(s, " ")
		n := trailingJunk(s)
		if n == 0 || strings.TrimSpace(s[:len(s)-n]) == "" {
			return s
		}
		s = s[:len(s)-n]
	}
}

// trailingJunk returns the length of "(fwd)" or a "[...]" tag at the end of
// s, or 0.
func trailingJunk(s string) int {
	if strings.HasSuffix(s, "(fwd)") {
		return len("(fwd)")
	}
	if !strings.HasSuffix(s, "]") {
		return 0
	}
	j := strings.LastIndexAny(s[:len(s)-1], "[]")
	if j < 0 || s[j] != '[' {
		return 0
	}
	return len(s) - j
}

// collapseSpace trims s and turns each run of Unicode white space into one
// space.
func collapseSpace(s string) string {
	return joinFields(s, " ")
}
