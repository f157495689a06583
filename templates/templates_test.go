package templates

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	// The tests use Europe/Warsaw like production; embedding the zone keeps
	// them independent of the machine's tzdata.
	_ "time/tzdata"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is the acknowledgement the golden files show. The name and the
// subject carry markup so that the HTML goldens document the escaping.
func fixture(t *testing.T) AckData {
	t.Helper()
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return AckData{
		CaseID:              "CLM-2025-000042",
		CustomerName:        `Jan "Kowalski" <script>`,
		Subject:             "Pęknięty ekran <b>&</b>",
		ReceivedAt:          time.Date(2025, time.December, 12, 10, 15, 0, 0, warsaw),
		LegalDue:            time.Date(2025, time.December, 29, 0, 0, 0, 0, warsaw),
		AnswerDays:          14,
		NeedProofOfPurchase: true,
		NeedPhotos:          true,
		NeedOrderNumber:     true,
		Organization:        "Sklep Przykład sp. z o.o.",
		PrivacyURL:          "https://sklep.example.com/prywatnosc",
		ReplyAddress:        "reklamacje@sklep.example.com",
	}
}

// minimal is the fixture with nothing optional: no name, no organization,
// no privacy link and nothing to ask for.
func minimal(t *testing.T) AckData {
	d := fixture(t)
	d.CustomerName = ""
	d.Organization = ""
	d.PrivacyURL = ""
	d.NeedProofOfPurchase, d.NeedPhotos, d.NeedOrderNumber = false, false, false
	return d
}

// flatten lower-cases s and turns every run of white space into one space.
func flatten(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func loadDefaults(t *testing.T) *Set {
	t.Helper()
	s, err := Load("", "pl")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestAckGolden(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		golden string // prefix of the golden files: PREFIX.txt.golden, PREFIX.html.golden
		lang   string
		data   func(*testing.T) AckData
	}{
		{"ack.pl", "pl", fixture},
		{"ack.en", "en", fixture},
		{"ack.pl.minimal", "pl", minimal},
		{"ack.en.minimal", "en", minimal},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r, used, err := s.Ack(tt.lang, tt.data(t))
			if err != nil {
				t.Fatal(err)
			}
			if used != tt.lang {
				t.Errorf("language used = %q, want %q", used, tt.lang)
			}
			golden(t, tt.golden+".txt.golden", r.Text)
			golden(t, tt.golden+".html.golden", r.HTML)
		})
	}
}

func TestAckContent(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		lang      string
		data      func(*testing.T) AckData
		want      []string // in the text part, in this order
		wantNot   []string // in neither part
		wantHTML  []string // in the HTML part
		wantNoTag []string // raw customer markup that must not reach the HTML
	}{
		{
			lang: "pl", data: fixture,
			want: []string{
				"Dzień dobry, Jan \"Kowalski\" <script>,",
				"„Pęknięty ekran <b>&</b>”",
				"12 grudnia 2025 r. o godz. 10:15",
				"numer CLM-2025-000042",
				"zgodnie z ustawą o prawach konsumenta odpowiemy najpóźniej do 29 grudnia 2025 r.",
				"14 dni",
				"- dowód zakupu (np. paragon lub fakturę)",
				"- zdjęcia pokazujące wadę",
				"- numer zamówienia",
				"https://sklep.example.com/prywatnosc",
				"Sklep Przykład sp. z o.o.",
				"automatycznie",
			},
			wantHTML: []string{
				`<html lang="pl">`, `<meta charset="utf-8">`,
				"Jan &#34;Kowalski&#34; &lt;script&gt;",
				"Pęknięty ekran &lt;b&gt;&amp;&lt;/b&gt;",
				`href="https://sklep.example.com/prywatnosc"`,
			},
			wantNoTag: []string{"<script>", "<b>", "</b>"},
		},
		{
			lang: "en", data: fixture,
			want: []string{
				"Dear Jan \"Kowalski\" <script>,",
				"“Pęknięty ekran <b>&</b>”",
				"12 December 2025 at 10:15",
				"case number CLM-2025-000042",
				"29 December 2025 at the latest",
				"14 days",
				"- proof of purchase",
				"- photos of the defect",
				"- your order number",
				"GDPR",
			},
			wantHTML:  []string{`<html lang="en">`, `<meta charset="utf-8">`},
			wantNoTag: []string{"<script>", "<b>", "</b>"},
		},
		{
			lang: "pl", data: minimal,
			want:    []string{"Dzień dobry, dziękujemy", "Z poważaniem Dział reklamacji"},
			wantNot: []string{"Aby przyspieszyć", "Więcej informacji", "Sklep Przykład", "- "},
		},
		{
			lang: "en", data: minimal,
			want:    []string{"Hello, Thank you", "Kind regards, Customer care"},
			wantNot: []string{"To speed things up", "More information", "Sklep Przykład", "- "},
		},
	}
	for _, tt := range tests {
		d := tt.data(t)
		r, _, err := s.Ack(tt.lang, d)
		if err != nil {
			t.Fatal(err)
		}
		// Sentences are matched whatever the line breaks and case, so
		// rewrapping the wording does not break this test.
		rest := flatten(r.Text)
		for _, w := range tt.want {
			w = flatten(w)
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s %q: text lacks %q (or not in order):\n%s", tt.lang, d.CustomerName, w, r.Text)
				continue
			}
			rest = rest[i+len(w):]
		}
		for _, w := range tt.wantNot {
			if strings.Contains(r.Text, w) || strings.Contains(r.HTML, w) {
				t.Errorf("%s minimal: contains %q", tt.lang, w)
			}
		}
		for _, w := range tt.wantHTML {
			if !strings.Contains(r.HTML, w) {
				t.Errorf("%s: HTML lacks %q", tt.lang, w)
			}
		}
		for _, w := range tt.wantNoTag {
			if strings.Contains(r.HTML, w) {
				t.Errorf("%s: HTML contains customer markup %q unescaped", tt.lang, w)
			}
		}
		if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") {
			t.Errorf("%s: HTML does not start with a doctype", tt.lang)
		}
	}
}

// TestAckNeeds checks that the mail asks for exactly what is missing.
func TestAckNeeds(t *testing.T) {
	s := loadDefaults(t)
	items := map[string][3]string{ // proof, photos, order number
		"pl": {"dowód zakupu", "zdjęcia", "numer zamówienia"},
		"en": {"proof of purchase", "photos of the defect", "your order number"},
	}
	tests := []struct {
		proof, photos, order bool
	}{
		{false, false, false},
		{true, false, false},
		{false, true, false},
		{false, false, true},
		{true, true, true},
	}
	for _, lang := range []string{"pl", "en"} {
		for _, tt := range tests {
			d := minimal(t)
			d.NeedProofOfPurchase, d.NeedPhotos, d.NeedOrderNumber = tt.proof, tt.photos, tt.order
			r, _, err := s.Ack(lang, d)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []bool{tt.proof, tt.photos, tt.order} {
				item := items[lang][i]
				for part, body := range map[string]string{"text": "\n- " + item, "html": "<li>" + item} {
					got := strings.Contains(r.Text+r.HTML, body)
					if got != want {
						t.Errorf("%s %+v: %s part asks for %q = %v, want %v", lang, tt, part, item, got, want)
					}
				}
			}
		}
	}
}

// TestTextWidth keeps the wording we write within 76 characters a line.
// Lines holding customer or configuration data may be longer; the check
// uses the widest date (October) and the longest case id.
func TestTextWidth(t *testing.T) {
	s := loadDefaults(t)
	d := fixture(t)
	d.CaseID = "ABCDEFGHIJ-2025-000042"
	d.ReceivedAt = time.Date(2025, time.October, 30, 23, 59, 0, 0, time.UTC)
	d.LegalDue = time.Date(2025, time.September, 30, 0, 0, 0, 0, time.UTC)
	d.AnswerDays = 30
	variable := []string{d.CustomerName, d.Subject, d.Organization, d.PrivacyURL, d.ReplyAddress}
	for _, lang := range s.Languages() {
		r, _, err := s.Ack(lang, d)
		if err != nil {
			t.Fatal(err)
		}
	lines:
		for i, line := range strings.Split(r.Text, "\n") {
			for _, v := range variable {
				if strings.Contains(line, v) {
					continue lines
				}
			}
			if n := utf8.RuneCountInString(line); n > 76 {
				t.Errorf("%s line %d has %d characters: %q", lang, i+1, n, line)
			}
		}
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		in           time.Time
		pl, en, hhmm string
	}{
		{time.Date(2025, time.December, 29, 14, 5, 0, 0, time.UTC), "29 grudnia 2025 r.", "29 December 2025", "14:05"},
		{time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC), "1 stycznia 2026 r.", "1 January 2026", "00:00"},
		{time.Date(2026, time.February, 2, 9, 0, 0, 0, time.UTC), "2 lutego 2026 r.", "2 February 2026", "09:00"},
		{time.Date(2026, time.March, 3, 0, 0, 0, 0, time.UTC), "3 marca 2026 r.", "3 March 2026", "00:00"},
		{time.Date(2026, time.April, 4, 0, 0, 0, 0, time.UTC), "4 kwietnia 2026 r.", "4 April 2026", "00:00"},
		{time.Date(2026, time.May, 5, 0, 0, 0, 0, time.UTC), "5 maja 2026 r.", "5 May 2026", "00:00"},
		{time.Date(2026, time.June, 6, 0, 0, 0, 0, time.UTC), "6 czerwca 2026 r.", "6 June 2026", "00:00"},
		{time.Date(2026, time.July, 7, 0, 0, 0, 0, time.UTC), "7 lipca 2026 r.", "7 July 2026", "00:00"},
		{time.Date(2026, time.August, 8, 0, 0, 0, 0, time.UTC), "8 sierpnia 2026 r.", "8 August 2026", "00:00"},
		{time.Date(2026, time.September, 9, 0, 0, 0, 0, time.UTC), "9 września 2026 r.", "9 September 2026", "00:00"},
		{time.Date(2026, time.October, 10, 0, 0, 0, 0, time.UTC), "10 października 2026 r.", "10 October 2026", "00:00"},
		{time.Date(2026, time.November, 11, 23, 59, 0, 0, time.UTC), "11 listopada 2026 r.", "11 November 2026", "23:59"},
		// The time's own zone counts: 23:30 UTC is already the next day in Warsaw.
		{time.Date(2025, time.December, 31, 23, 30, 0, 0, time.UTC).In(time.FixedZone("CET", 3600)), "1 stycznia 2026 r.", "1 January 2026", "00:30"},
	}
	for _, tt := range tests {
		if got := datePL(tt.in); got != tt.pl {
			t.Errorf("datePL(%v) = %q, want %q", tt.in, got, tt.pl)
		}
		if got := dateEN(tt.in); got != tt.en {
			t.Errorf("dateEN(%v) = %q, want %q", tt.in, got, tt.en)
		}
		if got := clock(tt.in); got != tt.hhmm {
			t.Errorf("clock(%v) = %q, want %q", tt.in, got, tt.hhmm)
		}
	}
}

func TestAckLanguage(t *testing.T) {
	tests := []struct {
		defaultLang, lang, want string
	}{
		{"pl", "pl", "pl"},
		{"pl", "en", "en"},
		{"pl", "de", "pl"},
		{"pl", "", "pl"},
		{"en", "", "en"},
		{"en", "de", "en"},
		{"pl", "EN", "en"},
		{"pl", "en-GB", "en"},
		{"en", "pl_PL", "pl"},
	}
	for _, tt := range tests {
		s, err := Load("", tt.defaultLang)
		if err != nil {
			t.Fatal(err)
		}
		_, used, err := s.Ack(tt.lang, fixture(t))
		if err != nil {
			t.Fatal(err)
		}
		if used != tt.want {
			t.Errorf("default %s: Ack(%q) used %q, want %q", tt.defaultLang, tt.lang, used, tt.want)
		}
	}
}

func TestAckRejectsIncompleteData(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		name  string
		unset func(*AckData)
	}{
		{"CaseID", func(d *AckData) { d.CaseID = "" }},
		{"ReceivedAt", func(d *AckData) { d.ReceivedAt = time.Time{} }},
		{"LegalDue", func(d *AckData) { d.LegalDue = time.Time{} }},
	}
	for _, tt := range tests {
		d := fixture(t)
		tt.unset(&d)
		if _, _, err := s.Ack("pl", d); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("without %s: err = %v, want one naming it", tt.name, err)
		}
	}
}

func TestLanguages(t *testing.T) {
	s := loadDefaults(t)
	if got, want := s.Languages(), []string{"en", "pl"}; !slices.Equal(got, want) {
		t.Errorf("Languages() = %q, want %q", got, want)
	}
	if got := s.DefaultLanguage(); got != "pl" {
		t.Errorf("DefaultLanguage() = %q, want pl", got)
	}
}

func TestLoadUnknownDefaultLanguage(t *testing.T) {
	for _, lang := range []string{"xx", "", "PL"} {
		_, err := Load("", lang)
		if err == nil {
			t.Errorf("Load(%q): no error", lang)
			continue
		}
		if !strings.Contains(err.Error(), "available: en, pl") {
			t.Errorf("Load(%q): %v; want the available languages listed", lang, err)
		}
	}
}

// validEN is a working English text part that differs from the default.
const validEN = "Hi{{with .CustomerName}} {{.}}{{end}}, your case is {{.CaseID}}, answer by {{dateEN .LegalDue}}.\n"

// validDE is a working German acknowledgement, both parts.
const (
	validDEText = "Guten Tag, Ihre Reklamation hat die Nummer {{.CaseID}}.\n"
	validDEHTML = "<!DOCTYPE html><html lang=\"de\"><p>Ihre Reklamation: {{.Subject}} ({{.CaseID}})</p></html>\n"
)

func TestLoadOverrides(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // file name -> content written to the dir
		wantErr []string          // substrings of the error; none means Load must succeed
		check   func(*testing.T, *Set)
	}{
		{
			name:  "one part overrides only that part",
			files: map[string]string{"ack.en.txt": validEN},
			check: func(t *testing.T, s *Set) {
				def := loadDefaults(t)
				d := fixture(t)
				got, _, err := s.Ack("en", d)
				if err != nil {
					t.Fatal(err)
				}
				want, _, _ := def.Ack("en", d)
				if got.Text != `Hi Jan "Kowalski" <script>, your case is CLM-2025-000042, answer by 29 December 2025.`+"\n" {
					t.Errorf("text part not overridden: %q", got.Text)
				}
				if got.HTML != want.HTML {
					t.Error("HTML part changed though only the text part was overridden")
				}
				pl, _, _ := s.Ack("pl", d)
				defPL, _, _ := def.Ack("pl", d)
				if pl != defPL {
					t.Error("Polish changed though only English was overridden")
				}
			},
		},
		{
			name: "dot files are skipped",
			files: map[string]string{
				".ack.en.txt.swp": "{{",
				".hidden":         "x",
			},
		},
		{
			name:  "new language with both parts",
			files: germanFiles(),
			check: func(t *testing.T, s *Set) {
				if got := s.Languages(); !slices.Equal(got, []string{"de", "en", "pl"}) {
					t.Errorf("Languages() = %q", got)
				}
				r, used, err := s.Ack("de-AT", fixture(t))
				if err != nil || used != "de" {
					t.Fatalf("Ack(de-AT) = %q, %v", used, err)
				}
				if strings.Contains(r.HTML, "<b>") {
					t.Errorf("override HTML not escaped: %s", r.HTML)
				}
			},
		},
		{
			name:    "syntax error names the file",
			files:   map[string]string{"ack.pl.html": "<p>{{if .CaseID}}unclosed</p>"},
			wantErr: []string{"ack.pl.html", "unexpected EOF"},
		},
		{
			name:    "unknown function names the file",
			files:   map[string]string{"ack.en.txt": "{{dateDE .LegalDue}}"},
			wantErr: []string{"ack.en.txt", `function "dateDE" not defined`},
		},
		{
			name:    "missing field fails at Load",
			files:   map[string]string{"ack.pl.txt": "Sprawa {{.CaseID}} {{.Nope}}\n"},
			wantErr: []string{"ack.pl.txt", "Nope"},
		},
		{
			name:    "missing field in an optional branch fails at Load",
			files:   map[string]string{"ack.en.txt": "{{.CaseID}}{{if not .CustomerName}}{{.Nope}}{{end}}\n"},
			wantErr: []string{"ack.en.txt", "Nope"},
		},
		{
			name:    "empty template",
			files:   map[string]string{"ack.en.html": "  \n"},
			wantErr: []string{"ack.en.html", "empty"},
		},
		{
			name:    "unknown file name",
			files:   map[string]string{"ack.pl.text": "x", "akc.pl.txt": "x"},
			wantErr: []string{"2 problems", `"ack.pl.text"`, `"akc.pl.txt"`, "NAME.LANG.txt"},
		},
		{
			name:    "upper-case language",
			files:   map[string]string{"ack.PL.txt": validEN},
			wantErr: []string{`unknown file "ack.PL.txt"`},
		},
		{
			name:    "new language needs both parts",
			files:   map[string]string{"ack.de.txt": validDEText},
			wantErr: []string{"ack.de.html: missing"},
		},
		{
			name: "new language needs every mail",
			files: func() map[string]string {
				f := germanFiles()
				delete(f, "digest.de.txt")
				delete(f, "digest.de.html")
				return f
			}(),
			wantErr: []string{"2 problems", "digest.de.txt: missing", "digest.de.html: missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(dir, "pl")
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, s)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadDirProblems(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
		want      string
	}{
		{"missing directory", filepath.Join(dir, "nope"), "reading directory"},
		{"subdirectory", dir, `unknown file "sub"`},
	}
	for _, tt := range tests {
		_, err := Load(tt.dir, "pl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestEmbeddedComplete guards the defaults themselves: every embedded mail
// has sample data and both parts in both shipped languages.
func TestEmbeddedComplete(t *testing.T) {
	srcs, names, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, ok := samples(name); !ok {
			t.Errorf("mail %q has no sample data", name)
		}
		for _, lang := range []string{"pl", "en"} {
			for _, part := range []string{partText, partHTML} {
				if _, ok := srcs[fileKey{name, lang, part}]; !ok {
					t.Errorf("no embedded %s.%s.%s", name, lang, part)
				}
			}
		}
	}
}

// TestConcurrentAck runs renders in parallel for the race detector: a Set
// is shared by every sender goroutine.
func TestConcurrentAck(t *testing.T) {
	s := loadDefaults(t)
	d := fixture(t)
	want, _, err := s.Ack("pl", d)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		lang := []string{"pl", "en"}[i%2]
		wg.Go(func() {
			for range 20 {
				r, _, err := s.Ack(lang, d)
				if err != nil {
					t.Error(err)
					return
				}
				if lang == "pl" && r != want {
					t.Error("concurrent render differs")
					return
				}
			}
		})
	}
	wg.Wait()
}
