package caseref

import (
	"slices"
	"testing"
)

func TestFormatParse(t *testing.T) {
	id := Format("CLM", 2026, 123)
	if id != "CLM-2026-000123" {
		t.Fatalf("Format = %q", id)
	}
	tests := []struct {
		id     string
		prefix string
		year   int
		seq    uint64
		ok     bool
	}{
		{"CLM-2026-000123", "CLM", 2026, 123, true},
		{"RMA-X-1999-1234567", "RMA-X", 1999, 1234567, true},
		{"CLM-2026-12", "", 0, 0, false},
		{"CLM-26-000123", "", 0, 0, false},
		{"2026-000123", "", 0, 0, false},
		{"", "", 0, 0, false},
	}
	for _, tt := range tests {
		p, y, s, ok := Parse(tt.id)
		if ok != tt.ok || p != tt.prefix || y != tt.year || s != tt.seq {
			t.Errorf("Parse(%q) = %q %d %d %v", tt.id, p, y, s, ok)
		}
	}
}

func TestTagMatcher(t *testing.T) {
	m := NewTagMatcher("CLM")
	tests := []struct {
		subject string
		want    []string
	}{
		{"Re: Pęknięty ekran [CLM-2026-000123]", []string{"CLM-2026-000123"}},
		{"odp: [clm-2026-000007] reklamacja", []string{"CLM-2026-000007"}},
		{"[ CLM-2025-000001 ] and [CLM-2026-000002]", []string{"CLM-2025-000001", "CLM-2026-000002"}},
		{"CLM-2026-000123 without brackets", []string{}},
		{"[RMA-2026-000123]", []string{}},
		{"[CLM-2026-0001]", []string{}},
	}
	for _, tt := range tests {
		if got := m.Find(tt.subject); !slices.Equal(got, tt.want) {
			t.Errorf("Find(%q) = %q, want %q", tt.subject, got, tt.want)
		}
	}
}

func TestMessageIDs(t *testing.T) {
	ids := MessageIDs{Key: []byte("0123456789abcdef0123456789abcdef"), Domain: "example.com"}
	id := ids.New("CLM-2026-000123", "42")
	if got, ok := ids.CaseOf(id); !ok || got != "CLM-2026-000123" {
		t.Fatalf("CaseOf(%q) = %q %v", id, got, ok)
	}
	other := MessageIDs{Key: []byte("another key entirely, 32 bytes.."), Domain: "example.com"}
	forged := other.New("CLM-2026-000999", "42")
	tests := []string{
		forged, // minted with another key
		"CLM-2026-000999.42." + id[len("CLM-2026-000123.42."):], // MAC of another case
		"random@example.com",
		"CLM-2026-000123@example.com",
		"a.b.c@example.com",
		"",
	}
	for _, bad := range tests {
		if got, ok := ids.CaseOf(bad); ok {
			t.Errorf("CaseOf(%q) accepted a forged id as %q", bad, got)
		}
	}
	if _, ok := (MessageIDs{Domain: "example.com"}).CaseOf(id); ok {
		t.Error("CaseOf without a key accepted an id")
	}
}
