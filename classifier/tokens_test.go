package classifier

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"Polish diacritics", "Przesyłka ŻÓŁTA, źle doręczona", []string{"przesylka", "zolta", "zle", "doreczona"}},
		{"typed without diacritics", "przesylka zolta", []string{"przesylka", "zolta"}},
		{"capitals", "USZKODZONY TOWAR", []string{"uszkodzony", "towar"}},
		{"German", "Rücksendung, Größe, Straße", []string{"rucksendung", "grosse", "strasse"}},
		{"decomposed input (macOS)", "reklamacja\u0328 zwro\u0301t", []string{"reklamacja", "zwrot"}},
		{"apostrophe splits", "doesn't work", []string{"doesn", "t", "work"}},
		{"typographic apostrophe splits", "doesn’t", []string{"doesn", "t"}},
		{"digits are words", "FV/2026/11, 14 dni", []string{"fv", "2026", "11", "14", "dni"}},
		{"other accents", "café naïve Škoda", []string{"cafe", "naive", "skoda"}},
		{"Cyrillic kept", "Привет мир", []string{"привет", "мир"}},
		{"too long a word is skipped", "a " + strings.Repeat("x", maxTokenBytes+1) + " b", []string{"a", "b"}},
		{"longest word kept", strings.Repeat("y", maxTokenBytes), []string{strings.Repeat("y", maxTokenBytes)}},
		{"empty", "", nil},
		{"punctuation only", " ,.;!? ", nil},
		{"invalid UTF-8 separates", "ab\xffcd", []string{"ab", "cd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tok := range tokenize(tt.in) {
				got = append(got, tok.s)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The offsets let a reason quote the customer's own spelling.
func TestTokenizeOffsets(t *testing.T) {
	src := "Pęknięty EKRAN, przesyłka\u0328!"
	want := []string{"Pęknięty", "EKRAN", "przesyłka\u0328"}
	toks := tokenize(src)
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d", len(toks), len(want))
	}
	for i, tok := range toks {
		if got := src[tok.start:tok.end]; got != want[i] {
			t.Errorf("token %d spans %q, want %q", i, got, want[i])
		}
	}
}

// appendFolded's hand-made fast path must agree with the general rule:
// lower case, compatibility decomposition, combining marks removed
// (norm.NFKD + runes.Remove), plus the letters Unicode does not decompose.
func TestFoldAgreesWithNormalisation(t *testing.T) {
	strip := func(r rune) string {
		switch r = unicode.ToLower(r); r {
		case 'ł':
			return "l"
		case 'ß':
			return "ss"
		case 'đ':
			return "d"
		case 'ø':
			return "o"
		case 'æ':
			return "ae"
		case 'œ':
			return "oe"
		}
		out, _, err := transform.String(transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn))), string(r))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Map(unicode.ToLower, out)
	}
	checked := 0
	for r := rune(0xC0); r <= 0x24F; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		if got, want := string(appendFolded(nil, r)), strip(r); got != want {
			t.Errorf("fold %q (%U) = %q, want %q", r, r, got, want)
		}
		checked++
	}
	for _, r := range "ΑάЁйＡﬁ" {
		if got, want := string(appendFolded(nil, r)), strip(r); got != want {
			t.Errorf("fold %q (%U) = %q, want %q", r, r, got, want)
		}
	}
	if checked < 300 {
		t.Errorf("checked only %d letters", checked)
	}
}

func TestLowerSameLength(t *testing.T) {
	for _, s := range []string{"ZAMÓWIENIE Nr 12", "Łódź ŻÓŁW", "İstanbul ẞ", "plain", "", "\xff\xfeAB"} {
		got := lowerSameLength(s)
		if len(got) != len(s) {
			t.Errorf("lowerSameLength(%q) = %q: length %d, want %d", s, got, len(got), len(s))
		}
		if utf8.ValidString(s) && strings.ToLower(s) == s && got != s {
			t.Errorf("lowerSameLength(%q) changed lower-case text to %q", s, got)
		}
	}
	if got := lowerSameLength("ZAMÓWIENIE Łódź"); got != "zamówienie łódź" {
		t.Errorf("got %q", got)
	}
}

func TestCleanText(t *testing.T) {
	const body = "Dzień dobry, paczka przyszła uszkodzona, proszę o wymianę.\n"
	tests := []struct {
		name, in string
		want     string // substring that must remain
		gone     string // substring that must be removed ("" for none)
	}{
		{"quoted lines", body + "> Dziękujemy za zgłoszenie reklamacji\n> zwrot w 14 dni\n", "wymianę", "Dziękujemy"},
		{"signature", body + "-- \nJan Kowalski\nul. Zwrotna 5\n", "wymianę", "Zwrotna"},
		{"Outlook separator", body + "-----Original Message-----\nFrom: sklep\nzwrot pieniędzy\n", "wymianę", "zwrot pieniędzy"},
		{"Polish Outlook separator", body + "-----Oryginalna wiadomość-----\nzwrot pieniędzy\n", "wymianę", "zwrot pieniędzy"},
		{"Outlook header block", body + "\nFrom: Sklep <r@sklep.example>\nSent: Monday\nSubject: x\n\nzwrot pieniędzy\n", "wymianę", "zwrot pieniędzy"},
		{"Polish Outlook header block", body + "\nOd: Sklep\nWysłano: poniedziałek\n\nzwrot pieniędzy\n", "wymianę", "zwrot pieniędzy"},
		{"Gmail attribution", body + "On Mon, 12 Nov 2026 at 10:00 Sklep <r@sklep.example> wrote:\nzwrot pieniędzy\n", "wymianę", "zwrot pieniędzy"},
		{"wrapped Polish attribution", body + "W dniu pon., 12 lis 2026 o 10:00 Sklep <r@sklep.example>\nnapisał(a):\nzwrot pieniędzy\n", "wymianę", "Sklep"},
		{"German attribution", body + "Am 12.11.2026 um 10:00 schrieb Shop <r@shop.example>:\nRückerstattung\n", "wymianę", "Rückerstattung"},
		{"a From: line in the text is kept", "From: the first day it did not work.\nThe lid is broken, nothing else.\n", "lid is broken", ""},
		{"bare forward keeps the quote", "> Mój telefon nie działa od wczoraj, proszę o naprawę.\n", "nie działa", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cleanText(tt.in)
			if !strings.Contains(got, tt.want) {
				t.Errorf("cleanText lost %q: %q", tt.want, got)
			}
			if tt.gone != "" && strings.Contains(got, tt.gone) {
				t.Errorf("cleanText kept %q: %q", tt.gone, got)
			}
		})
	}
}

func TestCleanTextBound(t *testing.T) {
	long := strings.Repeat("zażółć gęślą jaźń ", 2000) // 2-byte runes across the cut
	got := cleanText(long)
	if len(got) > scanBytes {
		t.Errorf("cleanText returned %d bytes, more than %d", len(got), scanBytes)
	}
	if !utf8.ValidString(got) {
		t.Error("cleanText cut a rune in two")
	}
}
