// Package templates owns the wording of every mail claimsd sends. The
// defaults are embedded in the binary, one template per mail, language and
// part: each mail has a plain-text part (text/template) and an HTML part
// (html/template, so that customer text such as a subject is escaped).
// A directory named in the configuration may override them file by file, or
// add a language, without rebuilding.
//
// Files are named NAME.LANG.txt and NAME.LANG.html, e.g. ack.pl.txt or
// ack.en.html. The mails, and the data each template sees, are:
//
//	ack                AckData               to the customer: complaint received
//	reminder           ReminderData          to the specialist: a deadline is near
//	escalation         EscalationData        to supervisors: a legal deadline at risk
//	digest             DigestData            to supervisors: overdue and at-risk cases
//	customer_reminder  CustomerReminderData  to the customer: we await your reply
//	close_notice       CloseNoticeData       to the customer: case closed, no reply
//	assignment         AssignmentData        to the specialist: a case is theirs now
//	credential         CredentialData        to supervisors: a mail server refuses claimsd's OAuth2 credential
//	report             ReportData            to supervisors: the weekly report (figures, chart, workbook)
//
// A text part may define its subject line with {{define "subject"}}…{{end}};
// every mail but ack must (the caller builds the acknowledgement's subject
// from the customer's own). Besides the standard template functions these
// are available:
//
//	datePL       time.Time -> "29 grudnia 2025 r." (Polish, genitive month)
//	dateEN       time.Time -> "29 December 2025"
//	clock        time.Time -> "14:05"
//	daysBetween  from, to time.Time -> calendar days from from's date to to's
//	pluralPL     n, "sprawa", "sprawy", "spraw" -> the Polish form for n
//	pluralEN     n, "case", "cases" -> the English form for n
//
// Every template is executed with sample data when loaded, so a mistake in an
// override shows at startup or in `claimsd config check`, not when a customer
// is waiting for an answer.
package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
)

// The defaults carry a .tmpl suffix so that editors and linters do not take
// the HTML parts for standalone pages; the suffix is not part of their name.
//
//go:embed default/*.tmpl
var defaultFS embed.FS

const (
	defaultDir = "default"
	tmplSuffix = ".tmpl"
	partText   = "txt"
	partHTML   = "html"
	fileFormat = "NAME.LANG.txt or NAME.LANG.html"

	// subjectBlock is the template a text part defines its subject in.
	subjectBlock = "subject"
)

// The mails, named as their files are.
const (
	nameAck              = "ack"
	nameReminder         = "reminder"
	nameEscalation       = "escalation"
	nameDigest           = "digest"
	nameCustomerReminder = "customer_reminder"
	nameCloseNotice      = "close_notice"
	nameAssignment       = "assignment"
	nameCredential       = "credential"
	nameReport           = "report"
)

// The deadlines a reminder may be about (ReminderData.Deadline).
const (
	DeadlineLegal       = "legal"        // the statutory answer date (CaseLine.LegalDue)
	DeadlineFirstAnswer = "first_answer" // the service level's first answer (CaseLine.FirstAnswerDue)
)

// AckData is what an acknowledgement says.
type AckData struct {
	CaseID       string    // "CLM-2026-000123"
	CustomerName string    // may be empty -> neutral greeting ("Dzień dobry," / "Hello,")
	Subject      string    // the customer's subject (customer data: must be escaped in HTML)
	ReceivedAt   time.Time // already in the configured zone; shown as date and time
	LegalDue     time.Time // the legal answer date (midnight in the configured zone); shown as a date
	AnswerDays   int       // e.g. 14
	// What the complaint seems to lack; the mail asks for each that is true.
	NeedProofOfPurchase, NeedPhotos, NeedOrderNumber bool

	Organization string // company name, e.g. "Sklep Przykład sp. z o.o."; may be empty
	PrivacyURL   string // link for the privacy notice line; may be empty (then the line has no link)
	ReplyAddress string // the address to reply to
}

// CaseLine is one case as staff mails show it.
type CaseLine struct {
	CaseID, Customer, CustomerName, Subject string    // Customer is the address; CustomerName may be empty
	Assignee                                string    // name or address; "" = unassigned
	Status                                  string    // open, waiting, ...; unknown ones are shown as they are
	ReceivedAt                              time.Time // in the configured zone
	LegalDue                                time.Time // date (midnight, configured zone)
	FirstAnswerDue                          time.Time // zero when met or not tracked
	Overdue                                 bool
	// Reason is why the case is listed, shown as it is, so it must be in
	// the mail's language: "legal deadline passed", "first answer overdue",
	// "legal deadline in 1 day, no answer".
	Reason string
}

// ReminderData is a reminder to the specialist (or the team address) that
// one deadline of a case is near.
type ReminderData struct {
	RecipientName string // specialist name or "" (team address)
	Case          CaseLine
	Deadline      string    // DeadlineLegal or DeadlineFirstAnswer
	DueAt         time.Time // when that deadline falls
	Organization  string
}

// EscalationData tells supervisors that a legal deadline is at risk now.
type EscalationData struct {
	Case         CaseLine
	Organization string
}

// DigestGroup is the cases of one assignee in a digest.
type DigestGroup struct {
	Assignee string // "" = unassigned
	Cases    []CaseLine
}

// DigestData is the periodic list of overdue and at-risk cases.
type DigestData struct {
	At              time.Time // when the digest is made; ages are counted to this day
	Overdue, AtRisk int       // the totals at the top and in the subject, as the caller counts them
	Groups          []DigestGroup
	Organization    string
}

// CustomerReminderData reminds a customer that a case waits for their reply.
type CustomerReminderData struct {
	CaseID, CustomerName, Subject string    // CustomerName and Subject may be empty
	WaitingSince                  time.Time // when we asked: the mail names it as "our message of DATE"
	CloseOn                       time.Time // zero: no automatic closing announced
	Organization, ReplyAddress    string
}

// CloseNoticeData tells a customer that their case was closed for lack of
// reply and that replying reopens it.
type CloseNoticeData struct {
	CaseID, CustomerName, Subject string // CustomerName and Subject may be empty
	Organization, ReplyAddress    string
}

// AssignmentData hands a case to a specialist (or, with no RecipientName
// and no Case.Assignee, to the team address): the complaint itself, so that
// it can be handled from the mail client alone, and how to answer it.
// Case.Reason is not shown; Reason is.
type AssignmentData struct {
	RecipientName string // specialist name or "" (team address)
	Case          CaseLine
	// Text is the customer's complaint, plain text (customer data: escaped
	// in HTML, where its line breaks are kept). Trailing white space and
	// CRLF line ends are tidied before rendering; "" says there is none.
	Text string
	// Attachments names the customer's files, attached to the mail by the
	// caller, with their sizes: "zdjecie.jpg (1.2 MB)".
	Attachments []string
	// Category, Remedy, Priority and Language (ISO 639-1; pl and en are
	// named, others shown as they are) are shown when set.
	Category, Remedy, Priority, Language string
	// Reason is why the recipient got the case, shown as it is, e.g.
	// "rule 2 (category transport_damage): team logistics, round-robin
	// member 3 of 4" or "assigned by command"; may be empty.
	Reason string
	// ClaimsAddress is where replies go (the caller sets Reply-To to it);
	// the mail names it when set.
	ClaimsAddress string
	Organization  string
}

// Rendered is one mail: its subject line and the text/plain and text/html
// alternatives of its body.
type Rendered struct {
	// Subject is the text part's "subject" block, on one line; "" when the
	// template defines none (ack), and the caller builds the subject.
	Subject, Text, HTML string
}

// Set is a loaded set of templates. It is immutable after Load and safe for
// concurrent use.
type Set struct {
	defaultLang string
	// byLang maps a language to the mails it has, by name. Load guarantees
	// every language has every mail, so lookups by name cannot miss.
	byLang map[string]map[string]mail
}

// mail is both parts of one mail in one language.
type mail struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// source is one template file before parsing.
type source struct {
	origin string // what errors call the file: its path, or "embedded default/…"
	body   string
}

// fileKey identifies a template file by its parts; its String form is the
// file name without directory or .tmpl suffix, e.g. "ack.pl.txt".
type fileKey struct {
	name, lang, part string
}

func (k fileKey) String() string { return k.name + "." + k.lang + "." + k.part }

// samples returns the data each mail is checked with at Load: one value with
// every optional field set and one with none, so that both branches of the
// usual {{if}}s run and a bad field reference anywhere is caught before a
// customer's mail needs it. The second return is false for a name no Go
// code knows how to fill, which makes an embedded file without data a
// programming error reported at Load (and by the tests).
func samples(name string) ([]any, bool) {
	switch name {
	case nameAck:
		// October has the longest Polish month name, so the sample also
		// exercises the widest date.
		received := time.Date(2025, time.October, 30, 9, 5, 0, 0, time.UTC)
		full := AckData{
			CaseID:              "CLM-2025-000001",
			CustomerName:        "Jan Kowalski",
			Subject:             "Reklamacja",
			ReceivedAt:          received,
			LegalDue:            time.Date(2025, time.November, 14, 0, 0, 0, 0, time.UTC),
			AnswerDays:          14,
			NeedProofOfPurchase: true,
			NeedPhotos:          true,
			NeedOrderNumber:     true,
			Organization:        "Sklep sp. z o.o.",
			PrivacyURL:          "https://example.com/privacy",
			ReplyAddress:        "reklamacje@example.com",
		}
		minimal := AckData{
			CaseID:     full.CaseID,
			ReceivedAt: full.ReceivedAt,
			LegalDue:   full.LegalDue,
		}
		return []any{full, minimal}, true

	case nameReminder, nameEscalation, nameDigest:
		// full sets every optional field of a case line; bare none, and
		// its status is one the templates do not name.
		full, bare := sampleCaseLines()
		waiting := bare
		waiting.Status = "waiting"
		switch name {
		case nameReminder:
			return []any{
				ReminderData{RecipientName: "Anna Nowak", Case: full, Deadline: DeadlineLegal, DueAt: full.LegalDue, Organization: "Sklep sp. z o.o."},
				ReminderData{Case: bare, Deadline: DeadlineFirstAnswer, DueAt: full.FirstAnswerDue},
				ReminderData{Case: waiting, Deadline: DeadlineLegal, DueAt: full.LegalDue},
			}, true
		case nameEscalation:
			return []any{
				EscalationData{Case: full, Organization: "Sklep sp. z o.o."},
				EscalationData{Case: bare},
				EscalationData{Case: waiting},
			}, true
		}
		// Ages of 0, 1 and many days, an assignee and none, and an empty
		// digest (sent when digest_when_empty is set).
		at := time.Date(2025, time.October, 31, 8, 0, 0, 0, time.UTC)
		today, yesterday := bare, bare
		today.ReceivedAt = at
		yesterday.ReceivedAt = at.AddDate(0, 0, -1)
		return []any{
			DigestData{At: at, Overdue: 1, AtRisk: 2, Organization: "Sklep sp. z o.o.", Groups: []DigestGroup{
				{Assignee: "Anna Nowak", Cases: []CaseLine{full}},
				{Cases: []CaseLine{bare, today, yesterday}},
			}},
			DigestData{At: at},
		}, true

	case nameCustomerReminder:
		full := CustomerReminderData{
			CaseID:       "CLM-2025-000001",
			CustomerName: "Jan Kowalski",
			Subject:      "Reklamacja",
			WaitingSince: time.Date(2025, time.October, 30, 9, 5, 0, 0, time.UTC),
			CloseOn:      time.Date(2025, time.November, 14, 0, 0, 0, 0, time.UTC),
			Organization: "Sklep sp. z o.o.",
			ReplyAddress: "reklamacje@example.com",
		}
		minimal := CustomerReminderData{CaseID: full.CaseID, WaitingSince: full.WaitingSince}
		return []any{full, minimal}, true

	case nameAssignment:
		// full sets every optional field, with a multi-line text; bare
		// goes to the team address with an unassigned case and no text,
		// and waiting covers the other status wording.
		full, bare := sampleCaseLines()
		waiting := bare
		waiting.Status = "waiting"
		return []any{
			AssignmentData{
				RecipientName: "Anna Nowak", Case: full,
				Text:        "Dzień dobry,\nekran jest pęknięty.\n",
				Attachments: []string{"zdjecie.jpg (1.2 MB)", "paragon.pdf (80 KB)"},
				Category:    "transport_damage", Remedy: "replacement", Priority: "high", Language: "pl",
				Reason:        "rule 2 (category transport_damage): team logistics, round-robin member 3 of 4",
				ClaimsAddress: "reklamacje@example.com", Organization: "Sklep sp. z o.o.",
			},
			AssignmentData{Case: bare},
			AssignmentData{Case: waiting, Language: "en"},
			AssignmentData{Case: waiting, Language: "de"},
		}, true

	case nameCloseNotice:
		full := CloseNoticeData{
			CaseID:       "CLM-2025-000001",
			CustomerName: "Jan Kowalski",
			Subject:      "Reklamacja",
			Organization: "Sklep sp. z o.o.",
			ReplyAddress: "reklamacje@example.com",
		}
		return []any{full, CloseNoticeData{CaseID: full.CaseID}}, true

	case nameCredential:
		return credentialSamples(), true

	case nameReport:
		return reportSamples(), true
	}
	return nil, false
}

// sampleCaseLines returns a case line with every optional field set and one
// with only what every case has.
func sampleCaseLines() (full, bare CaseLine) {
	full = CaseLine{
		CaseID:         "CLM-2025-000001",
		Customer:       "jan@example.com",
		CustomerName:   "Jan Kowalski",
		Subject:        "Reklamacja",
		Assignee:       "Anna Nowak",
		Status:         "open",
		ReceivedAt:     time.Date(2025, time.October, 30, 9, 5, 0, 0, time.UTC),
		LegalDue:       time.Date(2025, time.November, 14, 0, 0, 0, 0, time.UTC),
		FirstAnswerDue: time.Date(2025, time.October, 30, 17, 5, 0, 0, time.UTC),
		Overdue:        true,
		Reason:         "legal deadline passed",
	}
	bare = CaseLine{
		CaseID:     full.CaseID,
		Customer:   full.Customer,
		Status:     "resolved",
		ReceivedAt: full.ReceivedAt,
		LegalDue:   full.LegalDue,
	}
	return full, bare
}

// needsSubject reports whether the text part of mail name must define its
// subject: staff mails are sent with it as it is, and the customer mails
// may fall back on it. The acknowledgement's subject is always built by the
// caller, as a reply to the customer's own.
func needsSubject(name string) bool { return name != nameAck }

// funcs returns the functions templates may call. It is built per Load
// rather than kept in a package variable so that nothing can change it
// under a running Set.
func funcs() map[string]any {
	return map[string]any{
		"datePL":      datePL,
		"dateEN":      dateEN,
		"clock":       clock,
		"daysBetween": daysBetween,
		"pluralPL":    pluralPL,
		"pluralEN":    pluralEN,
	}
}

// datePL formats the date of t the Polish way, "29 grudnia 2025 r.": in a
// date the month takes the genitive, and "r." (roku) follows the year.
// It uses t's own zone: callers pass times already in the configured zone.
func datePL(t time.Time) string {
	months := [...]string{
		"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
		"lipca", "sierpnia", "września", "października", "listopada", "grudnia",
	}
	return fmt.Sprintf("%d %s %d r.", t.Day(), months[t.Month()-1], t.Year())
}

// dateEN formats the date of t as "29 December 2025": day first, which
// reads naturally to both British and international readers.
func dateEN(t time.Time) string { return t.Format("2 January 2006") }

// clock formats the time of day of t as "14:05" (24-hour, as in Poland).
func clock(t time.Time) string { return t.Format("15:04") }

// daysBetween returns the number of calendar days from the date of from to
// the date of to, both dates taken in to's zone: a case received yesterday
// evening is one day old this morning, however few hours have passed, which
// is how the law counts days (KC art. 111 §2). It is negative when from is
// on a later day.
func daysBetween(from, to time.Time) int {
	from = from.In(to.Location())
	// Midnights in UTC are exactly 24 hours apart, unlike local ones on
	// the days the clocks change.
	a := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a) / (24 * time.Hour))
}

// pluralPL picks the Polish form for n: one for 1, few for 2-4, 22-24, …
// (but not 12-14), many otherwise ("1 sprawa", "3 sprawy", "5 spraw",
// "12 spraw", "22 sprawy").
func pluralPL(n int, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch {
	case n == 1:
		return one
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return few
	}
	return many
}

// pluralEN picks the English form for n.
func pluralEN(n int, one, other string) string {
	if n == 1 || n == -1 {
		return one
	}
	return other
}

// Load returns the embedded defaults, with any file found in dir (if dir !=
// "") replacing the default of the same name. Files are named NAME.LANG.txt
// and NAME.LANG.html (e.g. ack.pl.txt, ack.en.html). A file in dir for a new
// language adds that language; the language must then have both parts of
// every mail, or Load names the missing files. Every template is executed
// with sample data, so a broken override fails here, naming the file and the
// problem, and never at send time. The text part of every mail but ack must
// define its subject ({{define "subject"}}…{{end}}), which is executed too. Files in dir that do not fit the naming
// scheme are errors (they are most likely typos that would otherwise be
// silently ignored); names starting with "." are skipped, because editors
// and Kubernetes ConfigMap mounts put such entries next to real files.
//
// defaultLang is the language used when a mail's language is unknown or not
// loaded; it must be one of the loaded languages.
//
// All problems found are reported in one error, one per line.
func Load(dir, defaultLang string) (*Set, error) {
	var problems []string
	srcs, names, err := embedded()
	if err != nil {
		// The embedded files are part of the binary: a failure here is a
		// build mistake, not a configuration problem.
		return nil, fmt.Errorf("templates: embedded defaults: %w", err)
	}
	if dir != "" {
		over, errs := overrides(dir, names)
		problems = append(problems, errs...)
		maps.Copy(srcs, over)
	}

	langs := map[string]bool{}
	for k := range srcs {
		langs[k.lang] = true
	}
	// A language may come from an override only, so check that each has
	// everything Ack and friends will ask of it.
	for _, lang := range slices.Sorted(maps.Keys(langs)) {
		for _, name := range names {
			for _, part := range []string{partText, partHTML} {
				k := fileKey{name, lang, part}
				if _, ok := srcs[k]; !ok {
					problems = append(problems, fmt.Sprintf(
						"%s: missing; language %q needs both %s and %s",
						filepath.Join(dir, k.String()), lang, fileKey{name, lang, partText}, fileKey{name, lang, partHTML}))
				}
			}
		}
	}

	fm := funcs()
	s := &Set{defaultLang: defaultLang, byLang: map[string]map[string]mail{}}
	for _, k := range slices.SortedFunc(maps.Keys(srcs), compareKeys) {
		src := srcs[k]
		data, ok := samples(k.name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no sample data for mail %q (programming error)", src.origin, k.name))
			continue
		}
		m := s.byLang[k.lang]
		if m == nil {
			m = map[string]mail{}
			s.byLang[k.lang] = m
		}
		ml := m[k.name]
		var perr error
		switch k.part {
		case partText:
			ml.text, perr = parseText(k, src, fm, data, needsSubject(k.name))
		case partHTML:
			ml.html, perr = parseHTML(k, src, fm, data)
		}
		if perr != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", src.origin, perr))
			continue
		}
		m[k.name] = ml
	}

	if !langs[defaultLang] {
		problems = append(problems, fmt.Sprintf("default language %q is not loaded; available: %s",
			defaultLang, strings.Join(slices.Sorted(maps.Keys(langs)), ", ")))
	}

	switch len(problems) {
	case 0:
		return s, nil
	case 1:
		return nil, errors.New("templates: " + problems[0])
	}
	return nil, fmt.Errorf("templates: %d problems:\n\t%s", len(problems), strings.Join(problems, "\n\t"))
}

// compareKeys orders files for deterministic error lists.
func compareKeys(a, b fileKey) int {
	return strings.Compare(a.String(), b.String())
}

// embedded returns the default templates and the sorted names of the mails
// they define.
func embedded() (map[fileKey]source, []string, error) {
	entries, err := fs.ReadDir(defaultFS, defaultDir)
	if err != nil {
		return nil, nil, err
	}
	srcs := map[fileKey]source{}
	names := map[string]bool{}
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), tmplSuffix)
		k, valid := parseFileName(base)
		if !ok || !valid {
			return nil, nil, fmt.Errorf("%s: not named %s%s", e.Name(), fileFormat, tmplSuffix)
		}
		body, err := fs.ReadFile(defaultFS, path.Join(defaultDir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		srcs[k] = source{origin: "embedded " + path.Join(defaultDir, e.Name()), body: string(body)}
		names[k.name] = true
	}
	return srcs, slices.Sorted(maps.Keys(names)), nil
}

// overrides reads the template files in dir. Only mails that exist among the
// defaults may be overridden: a file for an unknown mail would never be used.
func overrides(dir string, names []string) (map[fileKey]source, []string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []string{fmt.Sprintf("reading directory: %v", err)}
	}
	var problems []string
	srcs := map[fileKey]source{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		k, ok := parseFileName(e.Name())
		if !ok || !slices.Contains(names, k.name) {
			problems = append(problems, fmt.Sprintf("%s: unknown file %q; template files are named %s, with NAME one of: %s",
				p, e.Name(), fileFormat, strings.Join(names, ", ")))
			continue
		}
		// ReadFile follows symlinks (ConfigMap files are symlinks) and
		// fails clearly on a directory.
		body, err := os.ReadFile(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		srcs[k] = source{origin: p, body: string(body)}
	}
	return srcs, problems
}

// parseFileName splits "ack.pl.txt" into its parts. The language must look
// like a lower-case language tag ("pl", "pt-br") so that the same spelling is
// used everywhere a language is named.
func parseFileName(file string) (fileKey, bool) {
	parts := strings.Split(file, ".")
	if len(parts) != 3 {
		return fileKey{}, false
	}
	k := fileKey{name: parts[0], lang: parts[1], part: parts[2]}
	if k.name == "" || !validLang(k.lang) || (k.part != partText && k.part != partHTML) {
		return fileKey{}, false
	}
	return k, true
}

// validLang reports whether s is a lower-case language tag: 2-3 letters,
// optionally followed by "-" and a 2-8 character subtag.
func validLang(s string) bool {
	primary, sub, hasSub := strings.Cut(s, "-")
	if len(primary) < 2 || len(primary) > 3 || strings.Trim(primary, "abcdefghijklmnopqrstuvwxyz") != "" {
		return false
	}
	if !hasSub {
		return true
	}
	return len(sub) >= 2 && len(sub) <= 8 && strings.Trim(sub, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// parseText parses a text part and executes it, and its subject, with each
// sample. needSubject makes a missing subject block an error.
func parseText(k fileKey, src source, fm map[string]any, data []any, needSubject bool) (*texttemplate.Template, error) {
	t, err := texttemplate.New(k.String()).Funcs(fm).Parse(src.body)
	if err != nil {
		return nil, err
	}
	if err := tryExecute(t.Execute, data); err != nil {
		return nil, err
	}
	if t.Lookup(subjectBlock) == nil {
		if needSubject {
			return nil, fmt.Errorf(`no subject: the text part must define one with {{define %q}}…{{end}}`, subjectBlock)
		}
		return t, nil
	}
	for _, d := range data {
		subj, err := executeSubject(t, d)
		if err != nil {
			return nil, err
		}
		if subj == "" {
			return nil, errors.New("renders an empty subject")
		}
	}
	return t, nil
}

// executeSubject runs the subject block of t, if it has one, and puts the
// result on one line: a template's line breaks are for its author, and a
// line break in a header would end it.
func executeSubject(t *texttemplate.Template, data any) (string, error) {
	st := t.Lookup(subjectBlock)
	if st == nil {
		return "", nil
	}
	var b strings.Builder
	if err := st.Execute(&b, data); err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(b.String()), " "), nil
}

// parseHTML parses an HTML part and executes it with each sample. Executing
// also runs html/template's contextual escaper, whose errors (e.g. an
// action inside an unquoted attribute it cannot make safe) would otherwise
// appear only at the first send.
func parseHTML(k fileKey, src source, fm map[string]any, data []any) (*htmltemplate.Template, error) {
	t, err := htmltemplate.New(k.String()).Funcs(fm).Parse(src.body)
	if err != nil {
		return nil, err
	}
	return t, tryExecute(t.Execute, data)
}

// tryExecute runs a parsed template with each sample, so that a mistake
// shows at load and not at the first send.
func tryExecute(execute func(io.Writer, any) error, data []any) error {
	for _, d := range data {
		var b strings.Builder
		if err := execute(&b, d); err != nil {
			return err
		}
		if strings.TrimSpace(b.String()) == "" {
			return errors.New("renders an empty message")
		}
	}
	return nil
}

// Ack renders the acknowledgement in lang, falling back to the default
// language when lang is "" or not loaded; it returns the language used.
// A tag such as "pl-PL" or "EN" uses the loaded "pl" or "en".
func (s *Set) Ack(lang string, d AckData) (Rendered, string, error) {
	// An acknowledgement without these would mislead the customer about
	// their case or their legal deadline: better no mail than a wrong one.
	switch {
	case d.CaseID == "":
		return Rendered{}, "", errors.New("templates: ack: empty CaseID")
	case d.ReceivedAt.IsZero():
		return Rendered{}, "", errors.New("templates: ack: zero ReceivedAt")
	case d.LegalDue.IsZero():
		return Rendered{}, "", errors.New("templates: ack: zero LegalDue")
	}
	return s.render(lang, nameAck, d)
}

// The staff and customer mails below check, like Ack, the data without
// which the mail would state something false (a case, a date); they render
// in lang the way Ack does and return the language used.

// Reminder renders the reminder to a specialist, or to the team address
// when RecipientName is "", that d.Deadline of d.Case falls at d.DueAt.
func (s *Set) Reminder(lang string, d ReminderData) (Rendered, string, error) {
	if err := checkCase("reminder", d.Case); err != nil {
		return Rendered{}, "", err
	}
	switch {
	case d.Deadline != DeadlineLegal && d.Deadline != DeadlineFirstAnswer:
		return Rendered{}, "", fmt.Errorf("templates: reminder: Deadline %q is neither %q nor %q", d.Deadline, DeadlineLegal, DeadlineFirstAnswer)
	case d.DueAt.IsZero():
		return Rendered{}, "", errors.New("templates: reminder: zero DueAt")
	}
	return s.render(lang, nameReminder, d)
}

// Escalation renders the mail to supervisors that the legal deadline of
// d.Case is at risk and someone must act now.
func (s *Set) Escalation(lang string, d EscalationData) (Rendered, string, error) {
	if err := checkCase("escalation", d.Case); err != nil {
		return Rendered{}, "", err
	}
	return s.render(lang, nameEscalation, d)
}

// Digest renders the list of overdue and at-risk cases: the totals, then
// the cases of each group in the order given. An empty digest (no groups)
// renders too, saying there is nothing to report.
func (s *Set) Digest(lang string, d DigestData) (Rendered, string, error) {
	switch {
	case d.At.IsZero():
		return Rendered{}, "", errors.New("templates: digest: zero At")
	case d.Overdue < 0 || d.AtRisk < 0:
		return Rendered{}, "", fmt.Errorf("templates: digest: negative totals %d overdue, %d at risk", d.Overdue, d.AtRisk)
	}
	for _, g := range d.Groups {
		for _, c := range g.Cases {
			if err := checkCase("digest", c); err != nil {
				return Rendered{}, "", err
			}
		}
	}
	return s.render(lang, nameDigest, d)
}

// CustomerReminder renders the reminder to a customer that case d.CaseID
// waits for their reply to our message of d.WaitingSince and, when
// d.CloseOn is set, that it will be closed on that day otherwise.
func (s *Set) CustomerReminder(lang string, d CustomerReminderData) (Rendered, string, error) {
	switch {
	case d.CaseID == "":
		return Rendered{}, "", errors.New("templates: customer_reminder: empty CaseID")
	case d.WaitingSince.IsZero():
		return Rendered{}, "", errors.New("templates: customer_reminder: zero WaitingSince")
	}
	return s.render(lang, nameCustomerReminder, d)
}

// CloseNotice renders the notice to a customer that case d.CaseID was
// closed for lack of reply and that replying reopens it.
func (s *Set) CloseNotice(lang string, d CloseNoticeData) (Rendered, string, error) {
	if d.CaseID == "" {
		return Rendered{}, "", errors.New("templates: close_notice: empty CaseID")
	}
	return s.render(lang, nameCloseNotice, d)
}

// Assignment renders the mail that gives d.Case to the specialist
// d.RecipientName: the complaint, its attachments' names, its deadlines
// and how to answer by replying. The subject carries the case tag, so that
// replies find their case.
func (s *Set) Assignment(lang string, d AssignmentData) (Rendered, string, error) {
	if err := checkCase("assignment", d.Case); err != nil {
		return Rendered{}, "", err
	}
	// Mail text arrives with CRLF line ends and trailing blank lines; the
	// template frames the text, so stray ones would show as gaps (and a
	// CR inside the HTML part as nothing useful).
	d.Text = strings.TrimRight(strings.ReplaceAll(d.Text, "\r\n", "\n"), " \t\r\n")
	return s.render(lang, nameAssignment, d)
}

// checkCase rejects a case line the staff mails would show wrongly: every
// case has an id, a receipt time and a legal date.
func checkCase(mail string, c CaseLine) error {
	switch {
	case c.CaseID == "":
		return fmt.Errorf("templates: %s: case with empty CaseID", mail)
	case c.ReceivedAt.IsZero():
		return fmt.Errorf("templates: %s: case %s: zero ReceivedAt", mail, c.CaseID)
	case c.LegalDue.IsZero():
		return fmt.Errorf("templates: %s: case %s: zero LegalDue", mail, c.CaseID)
	}
	return nil
}

// render executes both parts of mail name in the best language for lang.
func (s *Set) render(lang, name string, data any) (Rendered, string, error) {
	used := s.resolve(lang)
	m := s.byLang[used][name]
	var text, html strings.Builder
	if err := m.text.Execute(&text, data); err != nil {
		return Rendered{}, used, fmt.Errorf("templates: %s.%s.%s: %w", name, used, partText, err)
	}
	subject, err := executeSubject(m.text, data)
	if err != nil {
		return Rendered{}, used, fmt.Errorf("templates: %s.%s.%s: subject: %w", name, used, partText, err)
	}
	if err := m.html.Execute(&html, data); err != nil {
		return Rendered{}, used, fmt.Errorf("templates: %s.%s.%s: %w", name, used, partHTML, err)
	}
	return Rendered{Subject: subject, Text: text.String(), HTML: html.String()}, used, nil
}

// resolve picks the loaded language for lang: itself, its lower-case form,
// its primary subtag ("pl" for "pl-PL", which is how mail clients and
// detectors often spell it), else the default.
func (s *Set) resolve(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(lang, "_", "-")))
	if _, ok := s.byLang[lang]; ok {
		return lang
	}
	if primary, _, ok := strings.Cut(lang, "-"); ok {
		if _, ok := s.byLang[primary]; ok {
			return primary
		}
	}
	return s.defaultLang
}

// Languages returns the loaded languages, sorted.
func (s *Set) Languages() []string {
	return slices.Sorted(maps.Keys(s.byLang))
}

// DefaultLanguage returns the language used when a mail's own is unknown.
func (s *Set) DefaultLanguage() string { return s.defaultLang }
