package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The assignment fixtures continue the story of deadlines_test.go: case
// 000042 goes to Anna Nowak with everything set, and the fresh case 000051
// goes unassigned to the team address with nothing optional. The customer
// text, name, subject and attachment names carry markup so that the HTML
// goldens document the escaping.

// complaintText is what a mail client delivers: CRLF line ends, an empty
// line, markup and trailing blank lines.
const complaintText = "Dzień dobry,\r\n\r\nprzesyłka dotarła uszkodzona <script>alert(1)</script>.\r\n" +
	"Proszę o wymianę & szybki kontakt.\r\n\r\nJan\r\n\r\n"

func assignmentFull(t *testing.T) AssignmentData {
	return AssignmentData{
		RecipientName: "Anna Nowak",
		Case:          atRisk(t),
		Text:          complaintText,
		Attachments:   []string{"zdjęcie <1>.jpg (1.2 MB)", "paragon.pdf (80 KB)"},
		Category:      "transport_damage",
		Remedy:        "replacement",
		Priority:      "high",
		Language:      "pl",
		Reason:        "rule 2 (category transport_damage): team logistics, round-robin member 3 of 4",
		ClaimsAddress: "reklamacje@sklep.example.com",
		Organization:  "Sklep Przykład sp. z o.o.",
	}
}

// assignmentMinimal goes to the team address: no name, no assignee, no
// text, no first-answer line, nothing optional.
func assignmentMinimal(t *testing.T) AssignmentData {
	c := fresh(t)
	c.FirstAnswerDue = time.Time{}
	return AssignmentData{Case: c}
}

func assignmentOf(d func(*testing.T) AssignmentData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.Assignment(lang, d(t)) }
}

func TestAssignmentGolden(t *testing.T) {
	s := loadDefaults(t)
	for _, variant := range []struct {
		suffix string
		render renderer
	}{
		{"", assignmentOf(assignmentFull)},
		{".minimal", assignmentOf(assignmentMinimal)},
	} {
		for _, lang := range []string{"pl", "en"} {
			prefix := "assignment." + lang + variant.suffix
			t.Run(prefix, func(t *testing.T) {
				r, used, err := variant.render(t, s, lang)
				if err != nil {
					t.Fatal(err)
				}
				if used != lang {
					t.Errorf("language used = %q, want %q", used, lang)
				}
				golden(t, prefix+".txt.golden", r.Text)
				golden(t, prefix+".html.golden", r.HTML)
				if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>\n<html lang=\""+lang+"\">") {
					t.Errorf("HTML does not start with a doctype and <html lang=%q>", lang)
				}
				for _, remote := range []string{"src=", "<link", "url("} {
					if strings.Contains(r.HTML, remote) {
						t.Errorf("HTML refers to an external resource: %q", remote)
					}
				}
			})
		}
	}
}

// TestAssignmentContent checks that the text part says everything the
// specialist needs, in order, and nothing about fields that are not set.
func TestAssignmentContent(t *testing.T) {
	s := loadDefaults(t)
	commands := []string{
		"#status waiting|resolved|rejected|open", "#decision accepted|rejected|partial",
		"#assign", "#category", "#remedy", "#priority urgent|high|normal", "#merge", "#note",
	}
	tests := []struct {
		lang    string
		data    func(*testing.T) AssignmentData
		want    []string // in the text part, in this order
		wantNot []string // in neither part
	}{
		{
			lang: "pl", data: assignmentFull,
			want: append([]string{
				"Dzień dobry, Anna Nowak,",
				"sprawę CLM-2025-000042",
				"najpóźniej do 29 grudnia 2025 r.",
				"sprawa jest już po terminie",
				`Klient: Jan "Kowalski" <script> <jan.kowalski@example.com>`,
				"Temat: „Pęknięty ekran <b>&</b>”",
				"Wpłynęła: 12 grudnia 2025 r., godz. 10:15",
				"Termin ustawowy: 29 grudnia 2025 r.",
				"Pierwsza odpowiedź do: 15 grudnia 2025 r., godz. 10:15",
				"Kategoria: transport_damage",
				"Żądanie klienta: replacement",
				"Priorytet: high",
				"Język: polski",
				"Powód przydziału: rule 2 (category transport_damage): team logistics, round-robin member 3 of 4",
				"Treść reklamacji:",
				"przesyłka dotarła uszkodzona <script>alert(1)</script>.",
				"Załączniki klienta",
				"- zdjęcie <1>.jpg (1.2 MB)",
				"- paragon.pdf (80 KB)",
				"Jak odpowiedzieć",
				"wystarczy odpowiedzieć na tę wiadomość",
				"reklamacje@sklep.example.com",
				"#status waiting",
				"#assign Anna Nowak",
				"#note nie trafi do klienta",
			}, commands...),
			wantNot: []string{"nie jest jeszcze nikomu przypisana", "nie zawiera tekstu"},
		},
		{
			lang: "en", data: assignmentFull,
			want: append([]string{
				"Hello Anna Nowak,",
				"case CLM-2025-000042",
				"29 December 2025 at the latest",
				"already overdue",
				"Customer: Jan \"Kowalski\" <script> <jan.kowalski@example.com>",
				"Subject: “Pęknięty ekran <b>&</b>”",
				"Received: 12 December 2025 at 10:15",
				"Legal deadline: 29 December 2025",
				"First answer due: 15 December 2025 at 10:15",
				"Category: transport_damage",
				"Customer's demand: replacement",
				"Priority: high",
				"Language: Polish",
				"Why you: rule 2",
				"The complaint:",
				"<script>alert(1)</script>",
				"- zdjęcie <1>.jpg (1.2 MB)",
				"How to answer",
				"just reply to this message",
				"reklamacje@sklep.example.com",
				"#status waiting",
				"#assign Anna Nowak",
				"#note command is not sent",
			}, commands...),
			wantNot: []string{"not assigned to anyone", "has no text"},
		},
		{
			lang: "pl", data: assignmentMinimal,
			want: append([]string{
				"Dzień dobry, przekazujemy",
				"nie jest jeszcze nikomu przypisana",
				"Klient: ewa@example.com",
				"Status: czeka na odpowiedź klienta",
				"Wiadomość klienta nie zawiera tekstu.",
				"Jak odpowiedzieć",
			}, commands...),
			wantNot: []string{
				"Temat:", "Pierwsza odpowiedź", "Kategoria", "Żądanie klienta:", "Priorytet:", "Język:",
				"Powód", "Załączniki", "Treść", "po terminie –", "adres", " ()", "Sklep",
			},
		},
		{
			lang: "en", data: assignmentMinimal,
			want: append([]string{
				"Hello, Here is",
				"not assigned to anyone",
				"Customer: ewa@example.com",
				"Status: waiting for the customer",
				"The customer's message has no text.",
				"How to answer",
			}, commands...),
			wantNot: []string{
				"Subject:", "First answer", "Category:", "demand:", "Priority:", "Language:",
				"Why you", "attachments", "The complaint", "already overdue", "goes to reklamacje", " ()", "Sklep",
			},
		},
	}
	for _, tt := range tests {
		d := tt.data(t)
		r, _, err := s.Assignment(tt.lang, d)
		if err != nil {
			t.Fatal(err)
		}
		rest := flatten(r.Text)
		for _, w := range tt.want {
			w = flatten(w)
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s %q: text lacks %q (or not in order):\n%s", tt.lang, d.RecipientName, w, r.Text)
				continue
			}
			rest = rest[i+len(w):]
		}
		for _, w := range tt.wantNot {
			if strings.Contains(r.Text, w) || strings.Contains(r.HTML, w) {
				t.Errorf("%s %q: contains %q", tt.lang, d.RecipientName, w)
			}
		}
	}
}

// TestAssignmentEscape checks that the customer's text, name, subject and
// file names are escaped in the HTML part, keep their line breaks there,
// and are shown as they are in the text part.
func TestAssignmentEscape(t *testing.T) {
	s := loadDefaults(t)
	for _, lang := range []string{"pl", "en"} {
		r, _, err := s.Assignment(lang, assignmentFull(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"<script>", "</script>", "<b>", "<1>", `"Kowalski"`, "\r"} {
			if strings.Contains(r.HTML, raw) {
				t.Errorf("%s: HTML contains customer data %q unescaped", lang, raw)
			}
		}
		for _, escaped := range []string{
			"&lt;script&gt;alert(1)&lt;/script&gt;", "wymianę &amp; szybki", "&lt;b&gt;&amp;&lt;/b&gt;",
			"zdjęcie &lt;1&gt;.jpg (1.2 MB)",
			// The line breaks stay, and the style shows them.
			"white-space:pre-wrap",
			"Dzień dobry,\n\nprzesyłka dotarła",
			// Trailing blank lines are dropped: the text ends at the frame.
			"Jan</div>",
		} {
			if !strings.Contains(r.HTML, escaped) {
				t.Errorf("%s: HTML lacks %q", lang, escaped)
			}
		}
		for _, verbatim := range []string{
			"Dzień dobry,\n\nprzesyłka dotarła uszkodzona <script>alert(1)</script>.\nProszę o wymianę & szybki kontakt.\n\nJan\n---",
			"- zdjęcie <1>.jpg (1.2 MB)",
		} {
			if !strings.Contains(r.Text, verbatim) {
				t.Errorf("%s: text part lacks %q:\n%s", lang, verbatim, r.Text)
			}
		}
		if strings.Contains(r.Text, "\r") {
			t.Errorf("%s: text part contains a CR", lang)
		}
	}
}

func TestAssignmentSubject(t *testing.T) {
	s := loadDefaults(t)
	with := func(subject string) renderer {
		return assignmentOf(func(t *testing.T) AssignmentData {
			d := assignmentFull(t)
			d.Case.Subject = subject
			return d
		})
	}
	tests := []struct {
		lang   string
		render renderer
		want   string
	}{
		{"pl", assignmentOf(assignmentFull), "[CLM-2025-000042] Nowa sprawa: Pęknięty ekran <b>&</b>"},
		{"en", assignmentOf(assignmentFull), "[CLM-2025-000042] New case: Pęknięty ekran <b>&</b>"},
		{"pl", assignmentOf(assignmentMinimal), "[CLM-2025-000051] Nowa sprawa (bez tematu)"},
		{"en", assignmentOf(assignmentMinimal), "[CLM-2025-000051] New case (no subject)"},
		// A header cannot hold a line break: a folded or forged subject
		// ends up on one line.
		{"pl", with("Zwrot\r\nBcc: x@example.com"), "[CLM-2025-000042] Nowa sprawa: Zwrot Bcc: x@example.com"},
		{"en", with("  Broken\n\tscreen  "), "[CLM-2025-000042] New case: Broken screen"},
	}
	for _, tt := range tests {
		r, _, err := tt.render(t, s, tt.lang)
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != tt.want {
			t.Errorf("%s: Subject = %q, want %q", tt.lang, r.Subject, tt.want)
		}
	}
}

// TestAssignmentTextWidth keeps our wording within 76 characters a line,
// like the other mails; lines with customer or configuration data may be
// longer.
func TestAssignmentTextWidth(t *testing.T) {
	s := loadDefaults(t)
	variable := []string{
		"Kowalski", "Pęknięty ekran", "example.com", "Sklep Przykład", "Anna Nowak",
		"rule 2", "przesyłka", "Proszę", "zdjęcie", "paragon",
	}
	widen := strings.NewReplacer("grudnia", "października", "December", "September", "CLM-", "ABCDEFGHIJ-")
	for _, render := range []renderer{assignmentOf(assignmentFull), assignmentOf(assignmentMinimal)} {
		for _, lang := range s.Languages() {
			r, _, err := render(t, s, lang)
			if err != nil {
				t.Fatal(err)
			}
		lines:
			for i, line := range strings.Split(widen.Replace(r.Text), "\n") {
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
}

func TestAssignmentRejectsIncompleteData(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		name  string
		unset func(*AssignmentData)
		want  string
	}{
		{"case id", func(d *AssignmentData) { d.Case.CaseID = "" }, "assignment: case with empty CaseID"},
		{"receipt", func(d *AssignmentData) { d.Case.ReceivedAt = time.Time{} }, "ReceivedAt"},
		{"legal date", func(d *AssignmentData) { d.Case.LegalDue = time.Time{} }, "LegalDue"},
	}
	for _, tt := range tests {
		d := assignmentFull(t)
		tt.unset(&d)
		if _, _, err := s.Assignment("pl", d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("without %s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestAssignmentLanguage(t *testing.T) {
	s := loadDefaults(t)
	for _, tt := range []struct{ lang, want string }{{"en-GB", "en"}, {"PL", "pl"}, {"de", "pl"}, {"", "pl"}} {
		if _, used, err := s.Assignment(tt.lang, assignmentFull(t)); err != nil || used != tt.want {
			t.Errorf("Assignment(%q): used %q, %v; want %q", tt.lang, used, err, tt.want)
		}
	}
}

// TestAssignmentOverride checks that the new mail can be overridden like
// the others and that a mistake in an override shows at Load.
func TestAssignmentOverride(t *testing.T) {
	tests := []struct {
		name, file, body string
		wantErr          []string
	}{
		{"subject required", "assignment.pl.txt", "Sprawa {{.Case.CaseID}}\n", []string{"assignment.pl.txt", "no subject"}},
		{"bad field in an optional branch", "assignment.en.html", "<p>{{range .Attachments}}{{.Name}}{{end}}</p>", []string{"assignment.en.html", "Name"}},
		{"bad field in the unassigned branch", "assignment.en.txt",
			`{{define "subject"}}x{{end}}{{if not .Case.Assignee}}{{.Team}}{{end}}ok` + "\n", []string{"assignment.en.txt", "Team"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, tt.file, tt.body)
			_, err := Load(dir, "pl")
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

	dir := t.TempDir()
	writeFile(t, dir, "assignment.pl.txt", `{{define "subject"}}Nowa: {{.Case.CaseID}}{{end}}Sprawa {{.Case.CaseID}}: {{.Text}}`+"\n")
	s, err := Load(dir, "pl")
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.Assignment("pl", assignmentFull(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Nowa: CLM-2025-000042" || !strings.HasPrefix(r.Text, "Sprawa CLM-2025-000042: Dzień dobry,\n\nprzesyłka") {
		t.Errorf("override not used: %q\n%s", r.Subject, r.Text)
	}
}

// writeFile writes one override file into dir.
func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
