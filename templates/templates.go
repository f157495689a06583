// Package templates owns the wording of every mail claimsd sends. The
// defaults are embedded in the binary, one template per mail, language and
// part: each mail has a plain-text part (text/template) and an HTML part
// (html/template, so that customer text such as a subject is escaped).
// A directory named in the configuration may override them file by file, or
// add a language, without rebuilding.
//
// Files are named NAME.LANG.txt and NAME.LANG.html, e.g. ack.pl.txt or
// ack.en.html. The data a template sees is the exported struct for its mail
// (AckData for "ack"); besides the standard template functions these are
// available:
//
//	datePL  time.Time -> "29 grudnia 2025 r." (Polish, genitive month)
//	dateEN  time.Time -> "29 December 2025"
//	clock   time.Time -> "14:05"
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
	nameAck    = "ack"
	fileFormat = "NAME.LANG.txt or NAME.LANG.html"
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

// Rendered is one mail body: the text/plain and text/html alternatives.
type Rendered struct {
	Text, HTML string
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
	}
	return nil, false
}

// funcs returns the functions templates may call. It is built per Load
// rather than kept in a package variable so that nothing can change it
// under a running Set.
func funcs() map[string]any {
	return map[string]any{
		"datePL": datePL,
		"dateEN": dateEN,
		"clock":  clock,
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

// Load returns the embedded defaults, with any file found in dir (if dir !=
// "") replacing the default of the same name. Files are named NAME.LANG.txt
// and NAME.LANG.html (e.g. ack.pl.txt, ack.en.html). A file in dir for a new
// language adds that language; the language must then have both parts of
// every mail, or Load names the missing files. Every template is executed
// with sample data, so a broken override fails here, naming the file and the
// problem, and never at send time. Files in dir that do not fit the naming
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
			ml.text, perr = parseText(k, src, fm, data)
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

// parseText parses a text part and executes it with each sample.
func parseText(k fileKey, src source, fm map[string]any, data []any) (*texttemplate.Template, error) {
	t, err := texttemplate.New(k.String()).Funcs(fm).Parse(src.body)
	if err != nil {
		return nil, err
	}
	return t, tryExecute(t.Execute, data)
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

// render executes both parts of mail name in the best language for lang.
func (s *Set) render(lang, name string, data any) (Rendered, string, error) {
	used := s.resolve(lang)
	m := s.byLang[used][name]
	var text, html strings.Builder
	if err := m.text.Execute(&text, data); err != nil {
		return Rendered{}, used, fmt.Errorf("templates: %s.%s.%s: %w", name, used, partText, err)
	}
	if err := m.html.Execute(&html, data); err != nil {
		return Rendered{}, used, fmt.Errorf("templates: %s.%s.%s: %w", name, used, partHTML, err)
	}
	return Rendered{Text: text.String(), HTML: html.String()}, used, nil
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
