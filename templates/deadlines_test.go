package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fixtures of the deadline mails tell one story, in Europe/Warsaw: on
// Tuesday 23 December 2025 case 000042 (received 12 December, legal
// deadline Monday 29 December after the holidays) is at risk, case 000051
// (received the day before) missed its first answer, and the unassigned
// case 000017 is past its legal deadline of 19 December. The customer
// name and subject of 000042 carry markup so that the HTML goldens
// document the escaping.

func warsaw(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// atRisk is case 000042 with every optional field set.
func atRisk(t *testing.T) CaseLine {
	loc := warsaw(t)
	return CaseLine{
		CaseID:         "CLM-2025-000042",
		Customer:       "jan.kowalski@example.com",
		CustomerName:   `Jan "Kowalski" <script>`,
		Subject:        "Pęknięty ekran <b>&</b>",
		Assignee:       "Anna Nowak",
		Status:         "open",
		ReceivedAt:     time.Date(2025, time.December, 12, 10, 15, 0, 0, loc),
		LegalDue:       time.Date(2025, time.December, 29, 0, 0, 0, 0, loc),
		FirstAnswerDue: time.Date(2025, time.December, 15, 10, 15, 0, 0, loc),
		Overdue:        true,
		Reason:         "first answer overdue",
	}
}

// fresh is case 000051 with nothing optional: no name, no subject, no
// assignee, not overdue, no reason.
func fresh(t *testing.T) CaseLine {
	loc := warsaw(t)
	return CaseLine{
		CaseID:         "CLM-2025-000051",
		Customer:       "ewa@example.com",
		Status:         "waiting",
		ReceivedAt:     time.Date(2025, time.December, 22, 9, 0, 0, 0, loc),
		LegalDue:       time.Date(2026, time.January, 5, 0, 0, 0, 0, loc),
		FirstAnswerDue: time.Date(2025, time.December, 22, 17, 0, 0, 0, loc),
	}
}

func reminderFull(t *testing.T) ReminderData {
	c := atRisk(t)
	return ReminderData{RecipientName: "Anna Nowak", Case: c, Deadline: DeadlineLegal, DueAt: c.LegalDue, Organization: "Sklep Przykład sp. z o.o."}
}

// reminderMinimal goes to the team address. Its case shows no first-answer
// line, so that the golden files show that branch too.
func reminderMinimal(t *testing.T) ReminderData {
	c := fresh(t)
	c.FirstAnswerDue = time.Time{}
	return ReminderData{Case: c, Deadline: DeadlineFirstAnswer, DueAt: fresh(t).FirstAnswerDue}
}

func escalationFull(t *testing.T) EscalationData {
	return EscalationData{Case: atRisk(t), Organization: "Sklep Przykład sp. z o.o."}
}

func escalationMinimal(t *testing.T) EscalationData {
	c := fresh(t)
	c.FirstAnswerDue = time.Time{}
	return EscalationData{Case: c}
}

// digestFull has two groups, one unassigned, with an at-risk case and two
// overdue ones aged 11, 1 and 18 days.
func digestFull(t *testing.T) DigestData {
	loc := warsaw(t)
	risk := atRisk(t)
	risk.Overdue, risk.FirstAnswerDue = false, time.Time{}
	risk.Reason = "legal deadline in 1 business day, no answer"
	late := fresh(t)
	late.CustomerName, late.Assignee, late.Status = "Ewa Zielińska", "Anna Nowak", "open"
	late.Overdue, late.Reason = true, "first answer overdue"
	passed := CaseLine{
		CaseID:     "CLM-2025-000017",
		Customer:   "piotr@example.com",
		Subject:    "Zwrot towaru",
		Status:     "open",
		ReceivedAt: time.Date(2025, time.December, 5, 14, 30, 0, 0, loc),
		LegalDue:   time.Date(2025, time.December, 19, 0, 0, 0, 0, loc),
		Overdue:    true,
		Reason:     "legal deadline passed",
	}
	return DigestData{
		At:           time.Date(2025, time.December, 23, 8, 0, 0, 0, loc),
		Overdue:      2,
		AtRisk:       1,
		Organization: "Sklep Przykład sp. z o.o.",
		Groups: []DigestGroup{
			{Assignee: "Anna Nowak", Cases: []CaseLine{risk, late}},
			{Cases: []CaseLine{passed}},
		},
	}
}

// digestEmpty is what digest_when_empty sends.
func digestEmpty(t *testing.T) DigestData {
	return DigestData{At: time.Date(2025, time.December, 29, 8, 0, 0, 0, warsaw(t))}
}

func customerReminderFull(t *testing.T) CustomerReminderData {
	loc := warsaw(t)
	return CustomerReminderData{
		CaseID:       "CLM-2025-000042",
		CustomerName: `Jan "Kowalski" <script>`,
		Subject:      "Pęknięty ekran <b>&</b>",
		WaitingSince: time.Date(2025, time.December, 15, 11, 20, 0, 0, loc),
		CloseOn:      time.Date(2025, time.December, 29, 0, 0, 0, 0, loc),
		Organization: "Sklep Przykład sp. z o.o.",
		ReplyAddress: "reklamacje@sklep.example.com",
	}
}

func customerReminderMinimal(t *testing.T) CustomerReminderData {
	d := customerReminderFull(t)
	return CustomerReminderData{CaseID: d.CaseID, WaitingSince: d.WaitingSince}
}

func closeNoticeFull(*testing.T) CloseNoticeData {
	return CloseNoticeData{
		CaseID:       "CLM-2025-000042",
		CustomerName: `Jan "Kowalski" <script>`,
		Subject:      "Pęknięty ekran <b>&</b>",
		Organization: "Sklep Przykład sp. z o.o.",
		ReplyAddress: "reklamacje@sklep.example.com",
	}
}

func closeNoticeMinimal(*testing.T) CloseNoticeData {
	return CloseNoticeData{CaseID: "CLM-2025-000042"}
}

// renderer renders one fixture of one mail.
type renderer func(*testing.T, *Set, string) (Rendered, string, error)

func reminderOf(d func(*testing.T) ReminderData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.Reminder(lang, d(t)) }
}

func escalationOf(d func(*testing.T) EscalationData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.Escalation(lang, d(t)) }
}

func digestOf(d func(*testing.T) DigestData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.Digest(lang, d(t)) }
}

func customerReminderOf(d func(*testing.T) CustomerReminderData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) {
		return s.CustomerReminder(lang, d(t))
	}
}

func closeNoticeOf(d func(*testing.T) CloseNoticeData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.CloseNotice(lang, d(t)) }
}

// deadlineMail is one fixture of a deadline mail.
type deadlineMail struct {
	golden string // prefix of its golden files, without the language
	render renderer
	markup bool // carries the customer markup
}

// deadlineMails returns every fixture of the deadline mails.
func deadlineMails() []deadlineMail {
	return []deadlineMail{
		{"reminder", reminderOf(reminderFull), true},
		{"reminder.minimal", reminderOf(reminderMinimal), false},
		{"escalation", escalationOf(escalationFull), true},
		{"escalation.minimal", escalationOf(escalationMinimal), false},
		{"digest", digestOf(digestFull), true},
		{"digest.empty", digestOf(digestEmpty), false},
		{"customer_reminder", customerReminderOf(customerReminderFull), true},
		{"customer_reminder.minimal", customerReminderOf(customerReminderMinimal), false},
		{"close_notice", closeNoticeOf(closeNoticeFull), true},
		{"close_notice.minimal", closeNoticeOf(closeNoticeMinimal), false},
	}
}

func TestDeadlineMailsGolden(t *testing.T) {
	s := loadDefaults(t)
	for _, m := range deadlineMails() {
		for _, lang := range []string{"pl", "en"} {
			name, variant, _ := strings.Cut(m.golden, ".")
			prefix := name + "." + lang
			if variant != "" {
				prefix += "." + variant
			}
			t.Run(prefix, func(t *testing.T) {
				r, used, err := m.render(t, s, lang)
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
				// Mail clients block remote content; the defaults must not need any.
				for _, remote := range []string{"src=", "<link", "url("} {
					if strings.Contains(r.HTML, remote) {
						t.Errorf("HTML refers to an external resource: %q", remote)
					}
				}
			})
		}
	}
}

func TestDeadlineMailsEscape(t *testing.T) {
	s := loadDefaults(t)
	for _, m := range deadlineMails() {
		if !m.markup {
			continue
		}
		for _, lang := range []string{"pl", "en"} {
			r, _, err := m.render(t, s, lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range []string{"<script>", "<b>", "</b>", `"Kowalski"`} {
				if strings.Contains(r.HTML, raw) {
					t.Errorf("%s %s: HTML contains customer markup %q unescaped", m.golden, lang, raw)
				}
			}
			for _, escaped := range []string{"&lt;script&gt;", "&lt;b&gt;&amp;&lt;/b&gt;"} {
				if !strings.Contains(r.HTML, escaped) {
					t.Errorf("%s %s: HTML lacks the escaped customer data %q", m.golden, lang, escaped)
				}
			}
			// The text part is plain text: it shows the data as it is.
			if !strings.Contains(r.Text, "<script>") || !strings.Contains(r.Text, "<b>&</b>") {
				t.Errorf("%s %s: text part altered the customer data:\n%s", m.golden, lang, r.Text)
			}
		}
	}
}

func TestSubjects(t *testing.T) {
	s := loadDefaults(t)
	counts := func(overdue, atRisk int) renderer {
		return digestOf(func(t *testing.T) DigestData {
			d := digestFull(t)
			d.Overdue, d.AtRisk = overdue, atRisk
			return d
		})
	}
	ack := func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.Ack(lang, fixture(t)) }
	tests := []struct {
		lang   string
		render renderer
		want   string
	}{
		{"pl", ack, ""},
		{"en", ack, ""},
		{"pl", reminderOf(reminderFull), "[CLM-2025-000042] Przypomnienie: termin odpowiedzi 29 grudnia 2025 r."},
		{"en", reminderOf(reminderFull), "[CLM-2025-000042] Reminder: answer deadline 29 December 2025"},
		{"pl", reminderOf(reminderMinimal), "[CLM-2025-000051] Przypomnienie: pierwsza odpowiedź do 22 grudnia 2025 r., godz. 17:00"},
		{"en", reminderOf(reminderMinimal), "[CLM-2025-000051] Reminder: first answer due 22 December 2025 at 17:00"},
		{"pl", escalationOf(escalationFull), "[CLM-2025-000042] Eskalacja: termin ustawowy 29 grudnia 2025 r."},
		{"en", escalationOf(escalationFull), "[CLM-2025-000042] Escalation: legal deadline 29 December 2025"},
		{"pl", digestOf(digestFull), "Reklamacje: 2 po terminie, 1 zagrożona (23 grudnia 2025 r.)"},
		{"pl", counts(3, 2), "Reklamacje: 3 po terminie, 2 zagrożone (23 grudnia 2025 r.)"},
		{"pl", counts(1, 5), "Reklamacje: 1 po terminie, 5 zagrożonych (23 grudnia 2025 r.)"},
		{"pl", counts(0, 22), "Reklamacje: 0 po terminie, 22 zagrożone (23 grudnia 2025 r.)"},
		{"pl", digestOf(digestEmpty), "Reklamacje: 0 po terminie, 0 zagrożonych (29 grudnia 2025 r.)"},
		{"en", digestOf(digestFull), "Complaints: 2 overdue, 1 at risk (23 December 2025)"},
		{"en", digestOf(digestEmpty), "Complaints: 0 overdue, 0 at risk (29 December 2025)"},
		{"pl", customerReminderOf(customerReminderFull), "Czekamy na Państwa odpowiedź [CLM-2025-000042]"},
		{"en", customerReminderOf(customerReminderMinimal), "We are waiting for your reply [CLM-2025-000042]"},
		{"pl", closeNoticeOf(closeNoticeFull), "Zamknięcie sprawy [CLM-2025-000042]"},
		{"en", closeNoticeOf(closeNoticeMinimal), "Case closed [CLM-2025-000042]"},
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

// TestDeadlineMailsTextWidth keeps the wording of the text parts within 76
// characters a line, like TestTextWidth for the acknowledgement. Lines
// with customer or configuration data may be longer; the widest month name
// and a long case prefix are swapped into the output before measuring.
func TestDeadlineMailsTextWidth(t *testing.T) {
	s := loadDefaults(t)
	variable := []string{
		"Kowalski", "Pęknięty ekran", "Zwrot towaru", "example.com", "Sklep Przykład",
		"Powód:", "Reason:", "Anna Nowak", "Ewa Zielińska",
	}
	widen := strings.NewReplacer("grudnia", "października", "December", "September", "CLM-", "ABCDEFGHIJ-")
	for _, m := range deadlineMails() {
		for _, lang := range s.Languages() {
			r, _, err := m.render(t, s, lang)
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
					t.Errorf("%s %s line %d has %d characters: %q", m.golden, lang, i+1, n, line)
				}
			}
		}
	}
}

func TestDeadlineMailsRejectIncompleteData(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		name   string
		render renderer
		want   string // in the error
	}{
		{"reminder without case id", reminderOf(func(t *testing.T) ReminderData { d := reminderFull(t); d.Case.CaseID = ""; return d }), "CaseID"},
		{"reminder without legal date", reminderOf(func(t *testing.T) ReminderData { d := reminderFull(t); d.Case.LegalDue = time.Time{}; return d }), "LegalDue"},
		{"reminder without due time", reminderOf(func(t *testing.T) ReminderData { d := reminderFull(t); d.DueAt = time.Time{}; return d }), "DueAt"},
		{"reminder of an unknown deadline", reminderOf(func(t *testing.T) ReminderData { d := reminderFull(t); d.Deadline = "Legal"; return d }), `Deadline "Legal"`},
		{"escalation without receipt", escalationOf(func(t *testing.T) EscalationData { d := escalationFull(t); d.Case.ReceivedAt = time.Time{}; return d }), "ReceivedAt"},
		{"digest without time", digestOf(func(t *testing.T) DigestData { d := digestFull(t); d.At = time.Time{}; return d }), "zero At"},
		{"digest with a negative total", digestOf(func(t *testing.T) DigestData { d := digestFull(t); d.AtRisk = -1; return d }), "negative"},
		{"digest with a bad case", digestOf(func(t *testing.T) DigestData {
			d := digestFull(t)
			d.Groups[1].Cases[0].LegalDue = time.Time{}
			return d
		}), "CLM-2025-000017: zero LegalDue"},
		{"customer reminder without case id", customerReminderOf(func(t *testing.T) CustomerReminderData { d := customerReminderFull(t); d.CaseID = ""; return d }), "CaseID"},
		{"customer reminder without date", customerReminderOf(func(t *testing.T) CustomerReminderData {
			d := customerReminderFull(t)
			d.WaitingSince = time.Time{}
			return d
		}), "WaitingSince"},
		{"close notice without case id", closeNoticeOf(func(*testing.T) CloseNoticeData { return CloseNoticeData{CustomerName: "Jan"} }), "CaseID"},
	}
	for _, tt := range tests {
		_, _, err := tt.render(t, s, "pl")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestDeadlineMailsLanguage(t *testing.T) {
	s := loadDefaults(t)
	for _, tt := range []struct{ lang, want string }{{"en-GB", "en"}, {"de", "pl"}, {"", "pl"}} {
		for _, m := range deadlineMails() {
			if _, used, err := m.render(t, s, tt.lang); err != nil || used != tt.want {
				t.Errorf("%s in %q: used %q, %v; want %q", m.golden, tt.lang, used, err, tt.want)
			}
		}
	}
}

// germanFiles is a complete German set of overrides: every mail, both parts.
func germanFiles() map[string]string {
	f := map[string]string{"ack.de.txt": validDEText, "ack.de.html": validDEHTML}
	for _, name := range []string{nameReminder, nameEscalation, nameDigest, nameCustomerReminder, nameCloseNotice, nameAssignment, nameReport, nameCredential} {
		f[name+".de.txt"] = `{{define "subject"}}Betreff{{end}}Guten Tag.` + "\n"
		f[name+".de.html"] = "<!DOCTYPE html><html lang=\"de\"><p>Guten Tag.</p></html>\n"
	}
	return f
}

func TestDeadlineOverrides(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr []string
		check   func(*testing.T, *Set)
	}{
		{
			name: "one new template overrides only that part",
			files: map[string]string{"reminder.en.txt": "{{define \"subject\"}}\n  Due: {{.Case.CaseID}}\n  {{dateEN .DueAt}}\n{{end -}}\n" +
				"{{.Case.CaseID}} is due {{dateEN .DueAt}}.\n"},
			check: func(t *testing.T, s *Set) {
				def := loadDefaults(t)
				d := reminderFull(t)
				got, _, err := s.Reminder("en", d)
				if err != nil {
					t.Fatal(err)
				}
				want, _, _ := def.Reminder("en", d)
				if got.Text != "CLM-2025-000042 is due 29 December 2025.\n" {
					t.Errorf("text part not overridden: %q", got.Text)
				}
				// The subject's line breaks and indentation are the author's.
				if got.Subject != "Due: CLM-2025-000042 29 December 2025" {
					t.Errorf("Subject = %q, want it on one line", got.Subject)
				}
				if got.HTML != want.HTML {
					t.Error("HTML part changed though only the text part was overridden")
				}
				pl, _, _ := s.Reminder("pl", d)
				defPL, _, _ := def.Reminder("pl", d)
				if pl != defPL {
					t.Error("Polish changed though only English was overridden")
				}
			},
		},
		{
			name: "an override of ack may define a subject",
			files: map[string]string{"ack.pl.txt": `{{define "subject"}}Reklamacja {{.CaseID}}{{end}}` +
				"Sprawa {{.CaseID}}.\n"},
			check: func(t *testing.T, s *Set) {
				r, _, err := s.Ack("pl", fixture(t))
				if err != nil || r.Subject != "Reklamacja CLM-2025-000042" {
					t.Errorf("Ack subject = %q, %v", r.Subject, err)
				}
			},
		},
		{
			name:    "a new mail's text part must define a subject",
			files:   map[string]string{"digest.pl.txt": "Zestawienie {{datePL .At}}\n"},
			wantErr: []string{"digest.pl.txt", "no subject", `{{define "subject"}}`},
		},
		{
			name:    "an empty subject fails at Load",
			files:   map[string]string{"close_notice.en.txt": `{{define "subject"}}{{.Subject}}{{end}}Closed {{.CaseID}}.` + "\n"},
			wantErr: []string{"close_notice.en.txt", "empty subject"},
		},
		{
			name:    "a bad field in the subject fails at Load",
			files:   map[string]string{"escalation.pl.txt": `{{define "subject"}}{{.Case.Nope}}{{end}}Sprawa {{.Case.CaseID}}.` + "\n"},
			wantErr: []string{"escalation.pl.txt", "Nope"},
		},
		{
			name: "a bad field in an optional branch fails at Load",
			files: map[string]string{"customer_reminder.en.html": `<p>{{.CaseID}}{{if not .CloseOn.IsZero}}{{.CloseAt}}{{end}}</p>`,
				"digest.pl.html": `<p>{{range .Groups}}{{range .Cases}}{{if not .Overdue}}{{.Nope}}{{end}}{{end}}{{end}}</p>`},
			wantErr: []string{"2 problems", "customer_reminder.en.html", "CloseAt", "digest.pl.html", "Nope"},
		},
		{
			name:  "HTML overrides are escaped",
			files: map[string]string{"close_notice.pl.html": `<p>{{.CustomerName}}: {{.Subject}}</p>`},
			check: func(t *testing.T, s *Set) {
				r, _, err := s.CloseNotice("pl", closeNoticeFull(t))
				if err != nil || strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, "<b>") {
					t.Errorf("override HTML = %q, %v", r.HTML, err)
				}
			},
		},
		{
			name:    "unknown names are still rejected",
			files:   map[string]string{"reminders.pl.txt": "x", "closenotice.en.html": "x"},
			wantErr: []string{"2 problems", `"reminders.pl.txt"`, `"closenotice.en.html"`, "ack, assignment, close_notice, credential, customer_reminder, digest, escalation, reminder"},
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
				tt.check(t, s)
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

func TestDaysBetween(t *testing.T) {
	loc := warsaw(t)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, loc) }
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"same moment", at(2025, 12, 12, 10, 15), at(2025, 12, 12, 10, 15), 0},
		{"same day", at(2025, 12, 12, 0, 0), at(2025, 12, 12, 23, 59), 0},
		{"last evening", at(2025, 12, 22, 23, 50), at(2025, 12, 23, 0, 10), 1},
		{"almost two days, one date apart", at(2025, 12, 22, 0, 1), at(2025, 12, 23, 23, 59), 1},
		{"over the holidays", at(2025, 12, 12, 10, 15), at(2025, 12, 29, 8, 0), 17},
		{"a 25-hour day (clocks back)", at(2025, 10, 25, 12, 0), at(2025, 10, 27, 12, 0), 2},
		{"a 23-hour day (clocks forward)", at(2026, 3, 28, 23, 30), at(2026, 3, 30, 0, 30), 2},
		{"over the year end", at(2025, 12, 31, 9, 0), at(2026, 1, 1, 9, 0), 1},
		{"backwards", at(2025, 12, 23, 8, 0), at(2025, 12, 12, 10, 15), -11},
		// 23:30 UTC on the 22nd is already the 23rd in Warsaw.
		{"from in another zone", time.Date(2025, 12, 22, 23, 30, 0, 0, time.UTC), at(2025, 12, 23, 8, 0), 0},
	}
	for _, tt := range tests {
		if got := daysBetween(tt.from, tt.to); got != tt.want {
			t.Errorf("%s: daysBetween(%v, %v) = %d, want %d", tt.name, tt.from, tt.to, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n      int
		pl, en string
	}{
		{0, "spraw", "cases"},
		{1, "sprawa", "case"},
		{2, "sprawy", "cases"},
		{4, "sprawy", "cases"},
		{5, "spraw", "cases"},
		{11, "spraw", "cases"},
		{12, "spraw", "cases"},
		{14, "spraw", "cases"},
		{21, "spraw", "cases"},
		{22, "sprawy", "cases"},
		{104, "sprawy", "cases"},
		{112, "spraw", "cases"},
		{-2, "sprawy", "cases"},
	}
	for _, tt := range tests {
		if got := pluralPL(tt.n, "sprawa", "sprawy", "spraw"); got != tt.pl {
			t.Errorf("pluralPL(%d) = %q, want %q", tt.n, got, tt.pl)
		}
		if got := pluralEN(tt.n, "case", "cases"); got != tt.en {
			t.Errorf("pluralEN(%d) = %q, want %q", tt.n, got, tt.en)
		}
	}
}
