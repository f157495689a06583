// Package caseref owns how a case is named in mail: the case id
// (PREFIX-YEAR-NNNNNN), the tag carried in subjects ([CLM-2026-000123]) and
// the Message-IDs claimsd generates, which encode their case and carry an
// HMAC so that nobody can forge a reference into another customer's case.
// Both intake (to thread replies) and outgoing mail (to mint ids) use it,
// which is why it is a package of its own.
package caseref

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Format returns the id of case number seq of year for prefix.
func Format(prefix string, year int, seq uint64) string {
	return fmt.Sprintf("%s-%04d-%06d", prefix, year, seq)
}

// Parse splits a case id into its parts; ok is false when id is not one.
func Parse(id string) (prefix string, year int, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0, 0, false
	}
	j := strings.LastIndexByte(id[:i], '-')
	if j <= 0 {
		return "", 0, 0, false
	}
	y, err := strconv.Atoi(id[j+1 : i])
	if err != nil || len(id[j+1:i]) != 4 {
		return "", 0, 0, false
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil || len(id[i+1:]) < 6 {
		return "", 0, 0, false
	}
	return id[:j], y, n, true
}

// Tag is the subject tag for a case id.
func Tag(id string) string { return "[" + id + "]" }

// TagMatcher finds case tags of one prefix in subjects.
type TagMatcher struct{ re *regexp.Regexp }

// NewTagMatcher returns a matcher for tags like [PREFIX-2026-000123].
func NewTagMatcher(prefix string) TagMatcher {
	return TagMatcher{re: regexp.MustCompile(`\[\s*(` + regexp.QuoteMeta(prefix) + `-\d{4}-\d{6,})\s*\]`)}
}

// Find returns the case ids tagged in subject, in order of appearance,
// upper-cased as ids are stored.
func (m TagMatcher) Find(subject string) []string {
	found := m.re.FindAllStringSubmatch(strings.ToUpper(subject), -1)
	ids := make([]string, 0, len(found))
	for _, f := range found {
		ids = append(ids, f[1])
	}
	return ids
}

// MessageIDs mints and recognises the Message-IDs of claimsd's own mail:
// CASEID.NONCE.MAC@DOMAIN, MAC = first 80 bits of HMAC-SHA256(key,
// CASEID "." NONCE) in base32. Exchange drops RFC 2047-encoded ids, so the
// id is plain ASCII (RFC 5322 §3.6.4 dot-atom).
type MessageIDs struct {
	Key    []byte
	Domain string
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func (m MessageIDs) mac(caseID, nonce string) string {
	h := hmac.New(sha256.New, m.Key)
	h.Write([]byte(caseID + "." + nonce))
	return strings.ToLower(b32.EncodeToString(h.Sum(nil)[:10]))
}

// New returns a Message-ID (without angle brackets) for a mail of caseID;
// nonce must be unique per mail (e.g. the outbox item number).
func (m MessageIDs) New(caseID, nonce string) string {
	return caseID + "." + nonce + "." + m.mac(caseID, nonce) + "@" + m.Domain
}

// CaseOf returns the case a Message-ID of ours belongs to. ok is false for
// ids we did not mint, including forged ones with a wrong MAC.
func (m MessageIDs) CaseOf(id string) (caseID string, ok bool) {
	at := strings.LastIndexByte(id, '@')
	if at < 0 || len(m.Key) == 0 {
		return "", false
	}
	parts := strings.Split(id[:at], ".")
	if len(parts) != 3 {
		return "", false
	}
	if _, _, _, isCase := Parse(parts[0]); !isCase {
		return "", false
	}
	want := m.mac(parts[0], parts[1])
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(parts[2]))) {
		return "", false
	}
	return parts[0], true
}
