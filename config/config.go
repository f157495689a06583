// Package config owns the YAML configuration of claimsd: loading, defaults,
// validation with errors that name the key and the fix, and resolving
// secrets from the environment or files.
//
// A configuration is read by Load (from a file) or Parse (from bytes). Both
// reject unknown keys, fill in defaults, check every value and return all
// problems at once as a *ValidationError, each formatted as
//
//	key.path: what is wrong; fix: what to do
//
// Passwords are never written in the file: imap.password_env or
// imap.password_file (and the same under smtp) name where the secret is, and
// the resolved secret is kept in the Password fields, which String and the
// String methods of IMAP and SMTP never print.
package config

import (
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	// The zone database is embedded so that timezone works on machines
	// without /usr/share/zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"
)

// Config is the whole claimsd configuration.
type Config struct {
	// DataDir holds the database and the control socket. Required; a
	// relative path is resolved against the directory of the config file
	// (Load) or the current directory (Parse), so DataDir is always absolute.
	DataDir string `yaml:"data_dir"`
	// Timezone is the IANA zone for dates shown to people; default
	// "Europe/Warsaw".
	Timezone string `yaml:"timezone"`
	// Location is Timezone loaded with time.LoadLocation.
	Location *time.Location `yaml:"-"`
	// CasePrefix starts every case number, e.g. "CLM" in CLM-2025-0001;
	// default "CLM"; 2-10 characters A-Z and 0-9.
	CasePrefix string `yaml:"case_prefix"`
	// ClaimsAddress is the address customers write to. Required; stored
	// lower-case.
	ClaimsAddress string `yaml:"claims_address"`
	// OwnAddresses are more addresses that are ours (aliases of the claims
	// mailbox, no-reply senders); stored lower-case.
	OwnAddresses []string `yaml:"own_addresses"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// IMAP is the mailbox claimsd reads complaints from.
	IMAP IMAP `yaml:"imap"`
	// SMTP is the server claimsd sends mail through. Optional in this
	// release: with an empty Host the section is not validated.
	SMTP SMTP `yaml:"smtp"`
	// Staff are the people who handle cases; mail from them is not a new
	// complaint. May be empty.
	Staff []Staff `yaml:"staff"`
	// Threading configures how mail is matched to existing cases.
	Threading Threading `yaml:"threading"`
	// Organization is who the mail claimsd sends is signed by.
	Organization Organization `yaml:"organization"`
	// Deadlines configures the legal answer deadline and the calendar.
	Deadlines Deadlines `yaml:"deadlines"`
	// Templates configures the wording of outgoing mail.
	Templates Templates `yaml:"templates"`
	// AutoMail limits automatic mail (acknowledgements).
	AutoMail AutoMail `yaml:"auto_mail"`
	// Outbox configures delivery retries.
	Outbox Outbox `yaml:"outbox"`
	// WorkingHours are when the team works; service levels count them.
	WorkingHours WorkingHours `yaml:"working_hours"`
	// ServiceLevel sets the first-answer deadline.
	ServiceLevel ServiceLevel `yaml:"service_level"`
	// Reminders configures reminders to staff and customers.
	Reminders Reminders `yaml:"reminders"`
	// Escalation configures what supervisors hear.
	Escalation Escalation `yaml:"escalation"`
	// StaffAuth says when a mail from a staff address is really from
	// staff; only then do its commands and answers count.
	StaffAuth StaffAuth `yaml:"staff_auth"`
	// Assignment assigns new cases.
	Assignment Assignment `yaml:"assignment"`
	// Answering configures how specialists' answers reach customers.
	Answering Answering `yaml:"answering"`
	// Classifier configures the classification of new cases.
	Classifier Classifier `yaml:"classifier"`
	// Metrics serves Prometheus metrics and /healthz.
	Metrics Metrics `yaml:"metrics"`
	// Reports configures the weekly report mail.
	Reports Reports `yaml:"reports"`
	// Retention configures how long raw mail of closed cases is kept.
	Retention Retention `yaml:"retention"`
}

// Classifier configures the classification of new cases.
type Classifier struct {
	// RulesFile replaces the built-in keyword rules (YAML, same form as
	// classifier/rules.yaml); empty uses the built-in ones. A relative
	// path is resolved like data_dir.
	RulesFile string `yaml:"rules_file"`
}

// StaffAuth lists the evidence that makes a staff mail authentic
// (DOMAIN §8). With nothing configured no staff mail is trusted: commands
// and relayed answers are refused and recorded as security events.
type StaffAuth struct {
	// AuthservIDs are the authserv-ids of our own receiving server in
	// Authentication-Results headers (RFC 8601), e.g. mx.example.com.
	AuthservIDs []string `yaml:"authserv_ids"`
	// Domains are the company domains; default the claims address's.
	Domains []string `yaml:"domains"`
	// Methods are the results that count: dmarc, dkim; default both.
	Methods []string `yaml:"methods"`
	// AllowMissingAuthservID accepts the topmost Authentication-Results
	// header without an authserv-id, as Microsoft 365 writes it. Risk: a
	// server that does not add such a header would let a sender forge it.
	AllowMissingAuthservID bool `yaml:"allow_missing_authserv_id"`
	// TrustedMailboxes are IMAP folders that only internal mail reaches
	// (e.g. by a server rule); mail read from them is authentic.
	TrustedMailboxes []string `yaml:"trusted_mailboxes"`
}

// Assignment assigns new cases to specialists.
type Assignment struct {
	// Teams group specialists for round-robin assignment.
	Teams []Team `yaml:"teams"`
	// Rules are tried in order; the first match assigns. No match: the
	// case is left to reminders.team_address.
	Rules []AssignRule `yaml:"rules"`
}

// Team is a named group of staff.
type Team struct {
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"` // staff e-mails
}

// AssignRule assigns matching cases to a specialist or a team.
type AssignRule struct {
	Category       string `yaml:"category"`
	Language       string `yaml:"language"`
	CustomerDomain string `yaml:"customer_domain"`
	Assignee       string `yaml:"assignee"` // a staff e-mail
	Team           string `yaml:"team"`     // or a team name
}

// Answering configures how specialists' answers reach customers.
type Answering struct {
	// Relay: a specialist's reply to the assignment mail (or any staff
	// mail to the claims address in a case) is sent to the customer from
	// the claims address. Default true.
	Relay *bool `yaml:"relay"`
	// Copy: a staff mail to the customer with the claims address in copy
	// is recorded as the case's answer (and not sent again). Default true.
	Copy *bool `yaml:"copy"`
	// ReopenWithin: a customer's mail to a case closed longer ago opens a
	// new case linked to it instead of reopening it; default 30d.
	ReopenWithin Duration `yaml:"reopen_within"`
	// SharedMailbox: specialists also answer from the claims mailbox
	// itself; claimsd reads its Sent folder and records those answers.
	// Default false.
	SharedMailbox bool `yaml:"shared_mailbox"`
	// SentFolder names that folder; empty finds it by its \Sent
	// attribute (RFC 6154), whatever its localised name.
	SentFolder string `yaml:"sent_folder"`
}

// UseRelay reports whether answers are relayed.
func (a Answering) UseRelay() bool { return a.Relay == nil || *a.Relay }

// UseCopy reports whether answers in copy are recorded.
func (a Answering) UseCopy() bool { return a.Copy == nil || *a.Copy }

// WorkingHours are the team's working hours on working days (weekdays
// listed, not holidays, not closure days), in the configured zone.
type WorkingHours struct {
	// Start and End as HH:MM; defaults 08:00 and 16:00.
	Start string `yaml:"start"`
	End   string `yaml:"end"`
	// Days are 3-letter English weekdays; default mon to fri.
	Days []string `yaml:"days"`
}

// ServiceLevel sets how soon a staff member must first answer a case, in
// working time. The clock pauses while a case waits for the customer.
type ServiceLevel struct {
	// FirstAnswer is the default; default 8h (one working day).
	FirstAnswer Duration `yaml:"first_answer"`
	// ByCategory overrides it per case category; ByPriority per priority
	// (urgent, high, normal), and a priority entry wins over a category
	// one: an urgent case is urgent whatever it is about.
	ByCategory []CategoryLevel `yaml:"by_category"`
	ByPriority []PriorityLevel `yaml:"by_priority"`
}

// CategoryLevel is the first-answer time of one case category.
type CategoryLevel struct {
	Category    string   `yaml:"category"`
	FirstAnswer Duration `yaml:"first_answer"`
}

// PriorityLevel is the first-answer time of one priority.
type PriorityLevel struct {
	Priority    string   `yaml:"priority"`
	FirstAnswer Duration `yaml:"first_answer"`
}

// FirstAnswerFor returns the first-answer working time of a case.
func (s ServiceLevel) FirstAnswerFor(category, priority string) time.Duration {
	for _, p := range s.ByPriority {
		if p.Priority == priority {
			return p.FirstAnswer.Duration
		}
	}
	for _, c := range s.ByCategory {
		if c.Category == category {
			return c.FirstAnswer.Duration
		}
	}
	return s.FirstAnswer.Duration
}

// Reminders configures reminder mails.
type Reminders struct {
	// LegalBefore are times before the legal deadline (calendar time) at
	// which the specialist is reminded; default 72h and 24h.
	LegalBefore []Duration `yaml:"legal_before"`
	// FirstAnswerBefore are working times before the first-answer
	// deadline; default 2h.
	FirstAnswerBefore []Duration `yaml:"first_answer_before"`
	// TeamAddress gets reminders of unassigned cases; empty: every
	// specialist in staff.
	TeamAddress string `yaml:"team_address"`
	// CustomerAfter is how long a case waits for the customer before they
	// are reminded; default 168h (7 days); 0 turns it off.
	CustomerAfter *Duration `yaml:"customer_after"`
	// CloseAfter is how long after that reminder the case is closed with a
	// notice; default 0 (never).
	CloseAfter Duration `yaml:"close_after"`
}

// Escalation configures what supervisors hear.
type Escalation struct {
	// AtRiskBusinessDays: a case not closed this many business days before
	// its legal deadline is escalated to the supervisors at once; default 1.
	AtRiskBusinessDays *int `yaml:"at_risk_business_days"`
	// DigestSchedule is a cron spec (minute hour day month weekday) in the
	// configured zone for the digest of overdue and at-risk cases; default
	// "0 8 * * 1-5". Empty string turns the digest off.
	DigestSchedule *string `yaml:"digest_schedule"`
	// DigestWhenEmpty sends the digest even when nothing is overdue or at
	// risk; default false.
	DigestWhenEmpty bool `yaml:"digest_when_empty"`
}

// Organization is who the mail claimsd sends is signed by.
type Organization struct {
	// Name signs outgoing mail, e.g. "Sklep Przykład sp. z o.o.". May be
	// empty: templates then sign with a neutral team name.
	Name string `yaml:"name"`
	// PrivacyURL is linked from the privacy line of outgoing mail; may be
	// empty. Must be an http(s) URL.
	PrivacyURL string `yaml:"privacy_url"`
}

// Deadlines configures the legal answer deadline (DOMAIN §1) and the
// business calendar.
type Deadlines struct {
	// AnswerDays is the number of calendar days the law gives to answer a
	// complaint; default 14 (ustawa o prawach konsumenta art. 7a).
	AnswerDays int `yaml:"answer_days"`
	// ByCategory overrides AnswerDays for case categories that sector
	// rules give another deadline.
	ByCategory []CategoryDays `yaml:"by_category"`
	// ExtraHolidays are one-off statutory days off (YYYY-MM-DD) that the
	// law adds beyond the built-in Polish holidays; they move deadlines.
	ExtraHolidays []string `yaml:"extra_holidays"`
	// ClosedDays are company closure days (YYYY-MM-DD): not business days
	// for reminders, but they never extend a legal deadline.
	ClosedDays []string `yaml:"closed_days"`
}

// CategoryDays is the answer period of one case category.
type CategoryDays struct {
	Category string `yaml:"category"`
	Days     int    `yaml:"days"`
}

// DaysFor returns the answer period for a case category.
func (d Deadlines) DaysFor(category string) int {
	for _, c := range d.ByCategory {
		if c.Category == category {
			return c.Days
		}
	}
	return d.AnswerDays
}

// Templates configures the wording of outgoing mail.
type Templates struct {
	// Dir holds templates that replace the embedded ones file by file
	// (ack.pl.txt, ack.en.html, ...); empty uses only the embedded ones. A
	// relative path is resolved like DataDir.
	Dir string `yaml:"dir"`
	// DefaultLanguage is used when the customer's language is unknown or
	// has no template; default "pl".
	DefaultLanguage string `yaml:"default_language"`
}

// AutoMail limits automatic mail, so that no auto-responder loop or
// mail bomb can make claimsd flood anyone (DOMAIN §4).
type AutoMail struct {
	// Acknowledge turns acknowledgements of new complaints on; default true.
	Acknowledge *bool `yaml:"acknowledge"`
	// MaxPerRecipient caps automatic mails to one address within Window;
	// default 5.
	MaxPerRecipient int `yaml:"max_per_recipient"`
	// MaxPerCase caps automatic mails of one case within Window; default 3.
	MaxPerCase int `yaml:"max_per_case"`
	// Window is the period the caps count over; default 24h.
	Window Duration `yaml:"window"`
	// MaxAge: complaints received longer ago get no acknowledgement, so a
	// first start on a mailbox full of old mail answers none of it;
	// default 72h, 0 for no limit.
	MaxAge *Duration `yaml:"max_age"`
}

// UseAcknowledge reports whether new complaints are acknowledged.
func (a AutoMail) UseAcknowledge() bool { return a.Acknowledge == nil || *a.Acknowledge }

// Outbox configures delivery of outgoing mail.
type Outbox struct {
	// RetryInitial is the wait after the first temporary failure; it
	// doubles after each further one up to RetryMax. Defaults 30s and 1h.
	RetryInitial Duration `yaml:"retry_initial"`
	RetryMax     Duration `yaml:"retry_max"`
	// GiveUpAfter is how long temporary failures are retried before the
	// mail is marked failed; default 72h.
	GiveUpAfter Duration `yaml:"give_up_after"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error; default info.
	Level string `yaml:"level"`
	// Format is text or json; default text.
	Format string `yaml:"format"`
}

// IMAP configures the mailbox claimsd reads.
type IMAP struct {
	// Host is the server name. Required.
	Host string `yaml:"host"`
	// Port defaults to 993 for tls and 143 otherwise.
	Port int `yaml:"port"`
	// Security is tls, starttls or none; default tls. none is allowed only
	// for a loopback host (localhost, 127.0.0.0/8, ::1).
	Security string `yaml:"security"`
	// TLSInsecureSkipVerify turns off certificate checks; allowed only for
	// a loopback host.
	TLSInsecureSkipVerify bool `yaml:"tls_insecure_skip_verify"`
	// Username is the login name. Required.
	Username string `yaml:"username"`
	// Auth is how to log in: password (the default) or xoauth2 (an
	// OAuth2 access token, configured in OAuth2).
	Auth string `yaml:"auth"`
	// PasswordEnv names the environment variable holding the password.
	// With auth password, exactly one of PasswordEnv and PasswordFile is
	// required.
	PasswordEnv string `yaml:"password_env"`
	// PasswordFile is a file holding only the password; a trailing newline
	// is removed. A relative path is resolved like DataDir in Load.
	PasswordFile string `yaml:"password_file"`
	// Password is the resolved secret. It is never printed.
	Password string `yaml:"-"`
	// OAuth2 gets the access tokens of auth xoauth2; not used otherwise.
	OAuth2 OAuth2 `yaml:"oauth2"`
	// Mailbox is the folder read; default INBOX.
	Mailbox string `yaml:"mailbox"`
	// IDLE says whether to wait for new mail with IMAP IDLE; default true.
	// Use UseIDLE to read it.
	IDLE *bool `yaml:"idle"`
	// PollInterval is how often to check for mail without IDLE (or as a
	// safety net with it); default 60s, at least 5s.
	PollInterval Duration `yaml:"poll_interval"`
	// ProcessedKeyword is the IMAP keyword set on mail that has been
	// processed; default "$ClaimsdProcessed". Must be a valid IMAP atom.
	ProcessedKeyword string `yaml:"processed_keyword"`
	// MoveTo is an optional folder processed mail is moved to.
	MoveTo string `yaml:"move_to"`
}

// UseIDLE reports whether IMAP IDLE should be used; true unless idle is set
// to false.
func (i IMAP) UseIDLE() bool { return i.IDLE == nil || *i.IDLE }

// String prints the section like %+v, with the password redacted.
func (i IMAP) String() string { return describe(i) }

// GoString prints the section with the password redacted, for %#v.
func (i IMAP) GoString() string { return "config.IMAP" + i.String() }

// SMTP configures the server claimsd sends mail through. The section is
// optional in this release: when Host is empty it is not validated.
type SMTP struct {
	// Host is the server name; empty turns sending off.
	Host string `yaml:"host"`
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int `yaml:"port"`
	// Security is tls, starttls or none; default starttls. none is allowed
	// only for a loopback host.
	Security string `yaml:"security"`
	// TLSInsecureSkipVerify turns off certificate checks; allowed only for
	// a loopback host.
	TLSInsecureSkipVerify bool `yaml:"tls_insecure_skip_verify"`
	// Username is the login name; empty means no authentication.
	Username string `yaml:"username"`
	// Auth is how to log in: password (the default) or xoauth2 (an
	// OAuth2 access token, configured in OAuth2; needs a Username).
	Auth string `yaml:"auth"`
	// PasswordEnv names the environment variable holding the password.
	// With a Username and auth password, exactly one of PasswordEnv and
	// PasswordFile is required.
	PasswordEnv string `yaml:"password_env"`
	// PasswordFile is a file holding only the password.
	PasswordFile string `yaml:"password_file"`
	// Password is the resolved secret. It is never printed.
	Password string `yaml:"-"`
	// OAuth2 gets the access tokens of auth xoauth2; not used otherwise.
	OAuth2 OAuth2 `yaml:"oauth2"`
	// From is the sender, an RFC 5322 address with an optional display
	// name, e.g. "Dział Reklamacji <reklamacje@example.com>". Required when
	// Host is set.
	From string `yaml:"from"`
	// VERP sends each mail with its own envelope sender,
	// local+b-ID@domain of the From address, so a bounce names the mail it
	// is about even when it does not quote it. The server must accept such
	// a sender and deliver the address to the claims mailbox. Default false:
	// bounces are then matched by the Message-ID they quote.
	VERP bool `yaml:"verp"`
}

// String prints the section like %+v, with the password redacted.
func (s SMTP) String() string { return describe(s) }

// GoString prints the section with the password redacted, for %#v.
func (s SMTP) GoString() string { return "config.SMTP" + s.String() }

// redact hides a secret, showing only whether it is set.
func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return "REDACTED"
}

// describe formats a struct like %+v, following pointers and replacing the
// value of every field named Password by redact's.
func describe(v any) string {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < rt.NumField(); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		f, fv := rt.Field(i), rv.Field(i)
		b.WriteString(f.Name)
		b.WriteByte(':')
		switch {
		case f.Name == "Password":
			b.WriteString(redact(fv.String()))
		case fv.Kind() == reflect.Pointer && fv.IsNil():
			b.WriteString("<nil>")
		case fv.Kind() == reflect.Pointer:
			fmt.Fprint(&b, fv.Elem().Interface())
		default:
			fmt.Fprint(&b, fv.Interface())
		}
	}
	b.WriteByte('}')
	return b.String()
}

// Staff is a person who handles cases.
type Staff struct {
	// Name is the person's name. Required.
	Name string `yaml:"name"`
	// Email is the address the person writes from; stored lower-case.
	// Required and unique.
	Email string `yaml:"email"`
	// Role is specialist or supervisor. Required.
	Role string `yaml:"role"`
}

// Roles of staff members.
const (
	RoleSpecialist = "specialist"
	RoleSupervisor = "supervisor"
)

// Threading configures how incoming mail is matched to existing cases.
type Threading struct {
	// SubjectWindow is how far back a message with the same subject from
	// the same sender joins an existing case; default 720h (30 days).
	SubjectWindow Duration `yaml:"subject_window"`
}

// Load reads the configuration file at path and parses it like Parse, with
// secrets from the process environment and the file system. Relative
// data_dir and password_file paths are resolved against the directory of
// the file. A *ValidationError names the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := parse(data, os.LookupEnv, os.ReadFile, filepath.Dir(abs))
	if ve, ok := err.(*ValidationError); ok {
		ve.File = path
	}
	return cfg, err
}

// Parse decodes, defaults and validates a configuration. env looks up
// environment variables for password_env and readFile reads password_file;
// nil means os.LookupEnv and os.ReadFile. A relative data_dir is resolved
// against the current directory. On failure the error is a
// *ValidationError listing every problem.
func Parse(data []byte, env func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	return parse(data, env, readFile, "")
}

// parse is Parse with the directory relative paths are resolved against;
// "" means the current directory for data_dir and leaves password_file
// paths as they are.
func parse(data []byte, env func(string) (string, bool), readFile func(string) ([]byte, error), baseDir string) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	cfg, present, problems := decode(data)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	c := &checker{present: present, env: env, readFile: readFile, baseDir: baseDir}
	c.check(cfg)
	if len(c.problems) > 0 {
		return nil, &ValidationError{Problems: c.problems}
	}
	return cfg, nil
}

// IsStaff reports whether addr (bare or with a display name, any case)
// belongs to a staff member, and returns that member.
func (c *Config) IsStaff(addr string) (Staff, bool) {
	a := normalizeAddress(addr)
	if a == "" {
		return Staff{}, false
	}
	for _, s := range c.Staff {
		if s.Email == a {
			return s, true
		}
	}
	return Staff{}, false
}

// IsOwnAddress reports whether addr (bare or with a display name, any case)
// is one of claimsd's own addresses: claims_address, own_addresses or the
// address in smtp.from.
func (c *Config) IsOwnAddress(addr string) bool {
	a := normalizeAddress(addr)
	if a == "" {
		return false
	}
	if a == c.ClaimsAddress {
		return true
	}
	for _, o := range c.OwnAddresses {
		if a == o {
			return true
		}
	}
	if c.SMTP.From != "" {
		if from, err := mail.ParseAddress(c.SMTP.From); err == nil && strings.ToLower(from.Address) == a {
			return true
		}
	}
	return false
}

// normalizeAddress returns the lower-case bare address in s, which may carry
// a display name; unparsable input is only trimmed and lower-cased.
func normalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if a, err := mail.ParseAddress(s); err == nil {
		return strings.ToLower(a.Address)
	}
	return strings.ToLower(s)
}

// DBPath is the path of the case database in DataDir.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "claimsd.db") }

// SocketPath is the path of the control socket in DataDir.
func (c *Config) SocketPath() string { return filepath.Join(c.DataDir, "claimsd.sock") }

// String dumps the configuration as YAML, defaults filled in. Secrets never
// appear: the Password fields are not part of the YAML form.
func (c *Config) String() string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return "config: cannot print: " + err.Error()
	}
	if err := enc.Close(); err != nil {
		return "config: cannot print: " + err.Error()
	}
	return b.String()
}
