package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
)

// Defaults filled in for keys that are absent.
const (
	DefaultTimezone         = "Europe/Warsaw"
	DefaultCasePrefix       = "CLM"
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "text"
	DefaultIMAPSecurity     = "tls"
	DefaultSMTPSecurity     = "starttls"
	DefaultMailbox          = "INBOX"
	DefaultPollInterval     = 60 * time.Second
	MinPollInterval         = 5 * time.Second
	DefaultProcessedKeyword = "$ClaimsdProcessed"
	DefaultSubjectWindow    = 720 * time.Hour
	DefaultAnswerDays       = 14
	DefaultLanguage         = "pl"
	DefaultMaxPerRecipient  = 5
	DefaultMaxPerCase       = 3
	DefaultAutoMailWindow   = 24 * time.Hour
	DefaultAckMaxAge        = 72 * time.Hour
	DefaultReopenWithin     = 30 * 24 * time.Hour
	DefaultRetryInitial     = 30 * time.Second
	DefaultRetryMax         = time.Hour
	DefaultGiveUpAfter      = 72 * time.Hour
	DefaultFirstAnswer      = 8 * time.Hour
	DefaultCustomerAfter    = 7 * 24 * time.Hour
	DefaultDigestSchedule   = "0 8 * * 1-5"
	DefaultAtRiskDays       = 1
)

// Security modes of the IMAP and SMTP connections.
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	SecurityNone     = "none"
)

// checker fills in defaults and collects every validation problem.
type checker struct {
	problems []Problem
	// present holds the keys that were given a value in the YAML, so that
	// an explicit zero is checked rather than replaced by the default.
	present  map[string]bool
	env      func(string) (string, bool)
	readFile func(string) ([]byte, error)
	// baseDir resolves relative paths; "" means the current directory.
	baseDir string
}

// add records a problem with key.
func (k *checker) add(key, message, fix string) {
	k.problems = append(k.problems, Problem{Key: key, Message: message, Fix: fix})
}

// check defaults and validates c in the order of its keys.
func (k *checker) check(c *Config) {
	k.dataDir(c)
	k.timezone(c)
	k.casePrefix(c)
	own := k.ownAddresses(c)
	k.log(&c.Log)
	k.imap(&c.IMAP)
	k.smtp(&c.SMTP, own)
	k.staff(c, own)
	k.threading(&c.Threading)
	k.organization(&c.Organization)
	k.deadlines(&c.Deadlines)
	k.templates(&c.Templates)
	k.autoMail(&c.AutoMail)
	k.outbox(&c.Outbox)
	k.workingHours(&c.WorkingHours)
	k.serviceLevel(&c.ServiceLevel)
	k.reminders(&c.Reminders)
	k.escalation(&c.Escalation)
	k.staffAuth(c)
	k.assignment(c)
	k.duration("answering.reopen_within", &c.Answering.ReopenWithin, DefaultReopenWithin, time.Hour)
	if f := strings.TrimSpace(c.Classifier.RulesFile); f != "" && k.baseDir != "" && !filepath.IsAbs(f) {
		c.Classifier.RulesFile = filepath.Join(k.baseDir, f)
	}
	k.metrics(&c.Metrics)
	k.reports(&c.Reports)
	k.retention(&c.Retention)
}

// dataDir requires data_dir and makes it absolute.
func (k *checker) dataDir(c *Config) {
	d := strings.TrimSpace(c.DataDir)
	if d == "" {
		k.add("data_dir", "is required", "set it to the directory for the case database and control socket, e.g. /var/lib/claimsd")
		return
	}
	if !filepath.IsAbs(d) {
		if k.baseDir != "" {
			d = filepath.Join(k.baseDir, d)
		} else {
			abs, err := filepath.Abs(d)
			if err != nil {
				k.add("data_dir", fmt.Sprintf("cannot resolve the relative path %q: %v", d, err), "use an absolute path, e.g. /var/lib/claimsd")
				return
			}
			d = abs
		}
	}
	c.DataDir = filepath.Clean(d)
}

// timezone defaults and loads the time zone.
func (k *checker) timezone(c *Config) {
	c.Timezone = strings.TrimSpace(c.Timezone)
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		k.add("timezone", fmt.Sprintf("unknown time zone %q", c.Timezone), "use an IANA zone name such as Europe/Warsaw or UTC")
		return
	}
	c.Location = loc
}

// casePrefix defaults and checks the case number prefix.
func (k *checker) casePrefix(c *Config) {
	if c.CasePrefix == "" {
		c.CasePrefix = DefaultCasePrefix
	}
	if validCasePrefix(c.CasePrefix) {
		return
	}
	fix := "use 2 to 10 capital letters A-Z or digits 0-9, e.g. CLM"
	if up := strings.ToUpper(c.CasePrefix); validCasePrefix(up) {
		fix = "write it in capitals: " + up
	}
	k.add("case_prefix", fmt.Sprintf("%q must be 2 to 10 characters A-Z or 0-9", c.CasePrefix), fix)
}

// validCasePrefix reports whether s is 2-10 characters A-Z0-9.
func validCasePrefix(s string) bool {
	if len(s) < 2 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'A' || s[i] > 'Z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// ownAddresses checks claims_address and own_addresses, lower-cases them and
// returns a map from each own address to the key that names it.
func (k *checker) ownAddresses(c *Config) map[string]string {
	own := map[string]string{}
	if strings.TrimSpace(c.ClaimsAddress) == "" {
		k.add("claims_address", "is required", "set the address customers write to, e.g. reklamacje@example.com")
	} else if a, ok := k.bareAddress("claims_address", c.ClaimsAddress, "reklamacje@example.com"); ok {
		c.ClaimsAddress = a
		own[a] = "claims_address"
	}
	for i, addr := range c.OwnAddresses {
		key := fmt.Sprintf("own_addresses[%d]", i)
		if strings.TrimSpace(addr) == "" {
			k.add(key, "is empty", "write an address or remove the entry")
			continue
		}
		if a, ok := k.bareAddress(key, addr, "bok@example.com"); ok {
			c.OwnAddresses[i] = a
			if _, dup := own[a]; !dup {
				own[a] = key
			}
		}
	}
	return own
}

// bareAddress parses s as an address without a display name and returns it
// lower-cased, or records a problem with key.
func (k *checker) bareAddress(key, s, example string) (string, bool) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil {
		k.add(key, fmt.Sprintf("%q is not a valid e-mail address (%s)", s, strings.TrimPrefix(err.Error(), "mail: ")),
			"write it as name@domain, e.g. "+example)
		return "", false
	}
	if a.Name != "" {
		k.add(key, fmt.Sprintf("%q has a display name", s),
			"write only the address: "+strings.ToLower(a.Address))
		return "", false
	}
	return strings.ToLower(a.Address), true
}

// log defaults and checks the log section.
func (k *checker) log(l *Log) {
	l.Level = strings.ToLower(strings.TrimSpace(l.Level))
	switch l.Level {
	case "":
		l.Level = DefaultLogLevel
	case "debug", "info", "warn", "error":
	default:
		k.add("log.level", fmt.Sprintf("%q is not a log level", l.Level), "use debug, info, warn or error")
	}
	l.Format = strings.ToLower(strings.TrimSpace(l.Format))
	switch l.Format {
	case "":
		l.Format = DefaultLogFormat
	case "text", "json":
	default:
		k.add("log.format", fmt.Sprintf("%q is not a log format", l.Format), "use text or json")
	}
}

// imap defaults and checks the imap section and resolves its password.
func (k *checker) imap(m *IMAP) {
	hostOK := k.host("imap", &m.Host, true, "imap.example.com")
	sec := k.security("imap", &m.Security, DefaultIMAPSecurity,
		"use tls (usually port 993), starttls (usually port 143) or none (only for a server on this machine)")
	k.port("imap", &m.Port, func() int {
		if sec == SecurityTLS || sec == "" {
			return 993
		}
		return 143
	}())
	if hostOK {
		k.transport("imap", m.Host, sec, m.TLSInsecureSkipVerify)
	}
	m.Username = strings.TrimSpace(m.Username)
	if m.Username == "" {
		k.add("imap.username", "is required", "set the login name of the claims mailbox, e.g. reklamacje@example.com")
	}
	switch k.auth("imap", &m.Auth) {
	case AuthPassword:
		m.Password, m.PasswordEnv, m.PasswordFile = k.secret("imap", m.PasswordEnv, m.PasswordFile)
	case AuthXOAUTH2:
		k.oauth2("imap", &m.OAuth2)
	}

	if strings.TrimSpace(m.Mailbox) == "" {
		m.Mailbox = DefaultMailbox
	} else if hasControl(m.Mailbox) {
		k.add("imap.mailbox", "contains control characters", "write the folder name on one line, e.g. INBOX")
	}
	if m.IDLE == nil {
		idle := true
		m.IDLE = &idle
	}
	if !k.present["imap.poll_interval"] {
		m.PollInterval.Duration = DefaultPollInterval
	} else if m.PollInterval.Duration < MinPollInterval {
		k.add("imap.poll_interval", formatDuration(m.PollInterval.Duration)+" is too short", "use at least 5s")
	}
	if m.ProcessedKeyword == "" {
		m.ProcessedKeyword = DefaultProcessedKeyword
	}
	if bad := atomProblem(m.ProcessedKeyword); bad != "" {
		k.add("imap.processed_keyword", fmt.Sprintf("%q is not a valid IMAP keyword: %s", m.ProcessedKeyword, bad),
			"use letters, digits and characters such as $ _ - . without spaces, e.g. $ClaimsdProcessed")
	}
	if m.MoveTo != "" {
		switch {
		case strings.TrimSpace(m.MoveTo) == "":
			k.add("imap.move_to", "is blank", "name a folder, e.g. Processed, or remove imap.move_to")
		case hasControl(m.MoveTo):
			k.add("imap.move_to", "contains control characters", "write the folder name on one line, e.g. Processed")
		case m.MoveTo == m.Mailbox || (strings.EqualFold(m.MoveTo, "INBOX") && strings.EqualFold(m.Mailbox, "INBOX")):
			k.add("imap.move_to", fmt.Sprintf("is the same folder as imap.mailbox (%q)", m.Mailbox),
				"name another folder, e.g. Processed, or remove imap.move_to to leave processed mail where it is")
		}
	}
}

// smtp defaults and checks the smtp section when its host is set, resolves
// its password, and adds the From address to own.
func (k *checker) smtp(s *SMTP, own map[string]string) {
	s.Host = strings.TrimSpace(s.Host)
	if s.Host == "" {
		// Sending is not built yet: the section is not validated, but a
		// parsable From still counts as one of our addresses.
		if a, err := mail.ParseAddress(s.From); err == nil {
			addOwn(own, strings.ToLower(a.Address), "smtp.from")
		}
		return
	}
	hostOK := k.host("smtp", &s.Host, true, "smtp.example.com")
	sec := k.security("smtp", &s.Security, DefaultSMTPSecurity,
		"use starttls (usually port 587), tls (usually port 465) or none (only for a server on this machine)")
	k.port("smtp", &s.Port, func() int {
		switch sec {
		case SecurityTLS:
			return 465
		case SecurityNone:
			return 25
		}
		return 587
	}())
	if hostOK {
		k.transport("smtp", s.Host, sec, s.TLSInsecureSkipVerify)
	}
	s.Username = strings.TrimSpace(s.Username)
	switch auth := k.auth("smtp", &s.Auth); {
	case auth == AuthXOAUTH2:
		if s.Username == "" {
			k.add("smtp.username", "is required with smtp.auth: xoauth2",
				"set the address claimsd logs in and sends as, e.g. reklamacje@example.com")
		}
		k.oauth2("smtp", &s.OAuth2)
	case auth == AuthPassword && s.Username == "":
		if strings.TrimSpace(s.PasswordEnv) != "" || strings.TrimSpace(s.PasswordFile) != "" {
			k.add("smtp.username", "is empty but a password source is set",
				"set smtp.username, or remove smtp.password_env and smtp.password_file to send without authentication")
		}
	case auth == AuthPassword:
		s.Password, s.PasswordEnv, s.PasswordFile = k.secret("smtp", s.PasswordEnv, s.PasswordFile)
	}
	s.From = strings.TrimSpace(s.From)
	const fromExample = `e.g. "Dział Reklamacji <reklamacje@example.com>"`
	if s.From == "" {
		k.add("smtp.from", "is required when smtp.host is set", "set the sender address, "+fromExample)
		return
	}
	a, err := mail.ParseAddress(s.From)
	if err != nil {
		k.add("smtp.from", fmt.Sprintf("%q is not a valid address (%s)", s.From, strings.TrimPrefix(err.Error(), "mail: ")),
			"write an address with an optional display name, "+fromExample)
		return
	}
	addOwn(own, strings.ToLower(a.Address), "smtp.from")
}

// addOwn records an own address unless it is already recorded.
func addOwn(own map[string]string, addr, key string) {
	if _, ok := own[addr]; !ok {
		own[addr] = key
	}
}

// host trims and checks a server name; it reports whether the host is
// usable for the loopback checks.
func (k *checker) host(section string, host *string, required bool, example string) bool {
	key := section + ".host"
	h := strings.TrimSpace(*host)
	*host = h
	if h == "" {
		if required {
			k.add(key, "is required", fmt.Sprintf("set the %s server name, e.g. %s", strings.ToUpper(section), example))
		}
		return false
	}
	if strings.Contains(h, "://") {
		k.add(key, fmt.Sprintf("%q is a URL, not a host name", h),
			fmt.Sprintf("write only the server name, e.g. %s, and set %s.port and %s.security", example, section, section))
		return false
	}
	if name, port, err := net.SplitHostPort(h); err == nil {
		k.add(key, fmt.Sprintf("%q includes a port", h),
			fmt.Sprintf("write only %s here and put %s in %s.port", name, port, section))
		return false
	}
	if !validHost(h) {
		k.add(key, fmt.Sprintf("%q is not a valid host name", h),
			fmt.Sprintf("write a name such as %s or an IP address such as 192.0.2.10 (IPv6 without brackets)", example))
		return false
	}
	return true
}

// validHost reports whether h is an IP address or a DNS host name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isLoopback reports whether host is localhost, in 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// security defaults and checks a security mode; it returns the mode, or ""
// when it is invalid.
func (k *checker) security(section string, sec *string, def, fix string) string {
	s := strings.ToLower(strings.TrimSpace(*sec))
	if s == "" {
		s = def
	}
	*sec = s
	switch s {
	case SecurityTLS, SecurityStartTLS, SecurityNone:
		return s
	}
	k.add(section+".security", fmt.Sprintf("%q is not a security mode", s), fix)
	return ""
}

// port defaults an absent port and checks a given one.
func (k *checker) port(section string, port *int, def int) {
	key := section + ".port"
	if !k.present[key] {
		*port = def
		return
	}
	if *port < 1 || *port > 65535 {
		k.add(key, fmt.Sprintf("%d is not a valid port", *port),
			fmt.Sprintf("use a port between 1 and 65535, or remove %s to use the default for the security mode", key))
	}
}

// transport allows plain-text connections and skipped certificate checks
// only for a loopback host.
func (k *checker) transport(section, host, sec string, skipVerify bool) {
	if isLoopback(host) {
		return
	}
	if sec == SecurityNone {
		k.add(section+".security",
			fmt.Sprintf("none means no encryption and is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not %q", host),
			"use tls or starttls")
	}
	if skipVerify {
		k.add(section+".tls_insecure_skip_verify",
			fmt.Sprintf("is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not %q", host),
			"remove it and give the server a certificate this machine trusts, or add its CA to the system trust store")
	}
}

// secret resolves the password of a section from exactly one of
// password_env and password_file. It returns the password and the trimmed
// password_env and password_file, the latter resolved against baseDir.
// Secrets never appear in problems.
func (k *checker) secret(section, envName, file string) (password, env, path string) {
	envKey, fileKey := section+".password_env", section+".password_file"
	upper := strings.ToUpper(section)
	envName, file = strings.TrimSpace(envName), strings.TrimSpace(file)
	if file != "" && k.baseDir != "" && !filepath.IsAbs(file) {
		file = filepath.Join(k.baseDir, file)
	}
	switch {
	case envName != "" && file != "":
		k.add(envKey, "both password_env and password_file are set",
			fmt.Sprintf("keep only one of %s and %s", envKey, fileKey))
		return "", envName, file
	case envName == "" && file == "":
		k.add(envKey, "no password source is set",
			fmt.Sprintf("set %s to the name of an environment variable holding the password, e.g. CLAIMSD_%s_PASSWORD, or %s to a file containing only the password",
				envKey, upper, fileKey))
		return "", "", ""
	case envName != "":
		if !validEnvName(envName) {
			// The value is not shown: it may be the password itself.
			k.add(envKey, "is not a valid environment variable name",
				fmt.Sprintf("put the name of a variable here, e.g. CLAIMSD_%s_PASSWORD, not the password itself", upper))
			return "", envName, ""
		}
		v, ok := k.env(envName)
		switch {
		case !ok:
			k.add(envKey, fmt.Sprintf("environment variable %s is not set", envName), "export it or use "+fileKey)
		case v == "":
			k.add(envKey, fmt.Sprintf("environment variable %s is empty", envName), "put the password in it or use "+fileKey)
		}
		return v, envName, ""
	}
	data, err := k.readFile(file)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			k.add(fileKey, fmt.Sprintf("file %s does not exist", file),
				fmt.Sprintf("create it containing only the password, readable by the user claimsd runs as, or use %s", envKey))
		case errors.Is(err, fs.ErrPermission):
			k.add(fileKey, fmt.Sprintf("cannot read %s: permission denied", file),
				"make it readable by the user claimsd runs as, e.g. chown claimsd and chmod 600")
		default:
			k.add(fileKey, fmt.Sprintf("cannot read %s: %v", file, err),
				fmt.Sprintf("make it a readable file containing only the password, or use %s", envKey))
		}
		return "", "", file
	}
	pw := strings.TrimRight(string(data), "\r\n")
	switch {
	case pw == "":
		k.add(fileKey, fmt.Sprintf("file %s is empty", file), "write the password into it")
		return "", "", file
	case strings.ContainsAny(pw, "\r\n"):
		k.add(fileKey, fmt.Sprintf("file %s has more than one line", file), "put only the password in it, on one line")
		return "", "", file
	}
	return pw, "", file
}

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// hasControl reports whether s holds control characters.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// atomProblem describes why s is not a valid IMAP atom (RFC 3501
// atom-char: printable ASCII except ( ) { space % * " \ ]), or returns "".
func atomProblem(s string) string {
	if s == "" {
		return "it is empty"
	}
	for _, r := range s {
		switch {
		case r == ' ':
			return "spaces are not allowed"
		case r >= utf8.RuneSelf:
			return fmt.Sprintf("non-ASCII character %q is not allowed", r)
		case r < 0x20 || r == 0x7f:
			return "control characters are not allowed"
		case strings.ContainsRune(`(){%*"\]`, r):
			return fmt.Sprintf("%q is not allowed", r)
		}
	}
	return ""
}

// staff checks the staff list: names, unique lower-case addresses that are
// not our own, and roles.
func (k *checker) staff(c *Config, own map[string]string) {
	seen := map[string]int{}
	for i := range c.Staff {
		s := &c.Staff[i]
		key := fmt.Sprintf("staff[%d]", i)
		s.Name = strings.TrimSpace(s.Name)
		if s.Name == "" {
			k.add(key+".name", "is required", "set the person's name, e.g. Anna Nowak")
		}
		if strings.TrimSpace(s.Email) == "" {
			k.add(key+".email", "is required", "set the address the person writes from, e.g. anna.nowak@example.com")
		} else if a, ok := k.bareAddress(key+".email", s.Email, "anna.nowak@example.com"); ok {
			s.Email = a
			if j, dup := seen[a]; dup {
				k.add(key+".email", fmt.Sprintf("%s is already listed as staff[%d].email", a, j), "list each person once")
			} else {
				seen[a] = i
			}
			if ownKey, isOwn := own[a]; isOwn {
				k.add(key+".email", fmt.Sprintf("%s is one of claimsd's own addresses (%s)", a, ownKey),
					"use the person's own mailbox address")
			}
		}
		s.Role = strings.ToLower(strings.TrimSpace(s.Role))
		switch s.Role {
		case RoleSpecialist, RoleSupervisor:
		case "":
			k.add(key+".role", "is required", "set specialist or supervisor")
		default:
			k.add(key+".role", fmt.Sprintf("%q is not a role", s.Role), "use specialist or supervisor")
		}
	}
}

// threading defaults and checks the threading section.
func (k *checker) threading(t *Threading) {
	if !k.present["threading.subject_window"] {
		t.SubjectWindow.Duration = DefaultSubjectWindow
	} else if t.SubjectWindow.Duration <= 0 {
		k.add("threading.subject_window", "must be longer than zero, got "+formatDuration(t.SubjectWindow.Duration),
			"use a duration such as 720h or 30d")
	}
}

func (k *checker) organization(o *Organization) {
	o.Name = strings.TrimSpace(o.Name)
	if hasControl(o.Name) {
		k.add("organization.name", "contains control characters", "write the name on one line")
	}
	o.PrivacyURL = strings.TrimSpace(o.PrivacyURL)
	if o.PrivacyURL != "" {
		u, err := url.Parse(o.PrivacyURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			k.add("organization.privacy_url", fmt.Sprintf("%q is not an http(s) URL", o.PrivacyURL),
				"write a full address, e.g. https://example.com/privacy, or leave it empty")
		}
	}
}

// Known case categories (the classifier's stable values).
var categories = []string{"non_conformity", "guarantee", "withdrawal", "repair", "transport_damage", "missing_item", "billing", "other"}

func (k *checker) days(key string, v *int, present bool) {
	if !present {
		*v = DefaultAnswerDays
		return
	}
	if *v < 1 || *v > 366 {
		k.add(key, fmt.Sprintf("must be between 1 and 366 days, got %d", *v), "use the number of calendar days, e.g. 14")
	}
}

func (k *checker) deadlines(d *Deadlines) {
	k.days("deadlines.answer_days", &d.AnswerDays, k.present["deadlines.answer_days"])
	seen := map[string]bool{}
	for i := range d.ByCategory {
		key := fmt.Sprintf("deadlines.by_category[%d]", i)
		c := &d.ByCategory[i]
		switch {
		case !contains(categories, c.Category):
			k.add(key+".category", fmt.Sprintf("%q is not a case category", c.Category), "use one of "+strings.Join(categories, ", "))
		case seen[c.Category]:
			k.add(key+".category", fmt.Sprintf("%q is listed twice", c.Category), "keep one entry per category")
		}
		seen[c.Category] = true
		k.days(key+".days", &c.Days, k.present[key+".days"])
	}
	k.dates("deadlines.extra_holidays", d.ExtraHolidays)
	k.dates("deadlines.closed_days", d.ClosedDays)
}

func (k *checker) dates(key string, ds []string) {
	for i, s := range ds {
		if _, err := time.Parse(time.DateOnly, strings.TrimSpace(s)); err != nil {
			k.add(fmt.Sprintf("%s[%d]", key, i), fmt.Sprintf("%q is not a date", s), "write dates as YYYY-MM-DD, e.g. 2026-12-31")
		}
		ds[i] = strings.TrimSpace(s)
	}
}

func (k *checker) templates(t *Templates) {
	t.Dir = strings.TrimSpace(t.Dir)
	if t.Dir != "" {
		// Whether the directory exists and its templates work is checked
		// when they are loaded (daemon start and `config check`).
		if k.baseDir != "" && !filepath.IsAbs(t.Dir) {
			t.Dir = filepath.Join(k.baseDir, t.Dir)
		}
	}
	t.DefaultLanguage = strings.ToLower(strings.TrimSpace(t.DefaultLanguage))
	if t.DefaultLanguage == "" {
		t.DefaultLanguage = DefaultLanguage
	} else if len(t.DefaultLanguage) != 2 || strings.Trim(t.DefaultLanguage, "abcdefghijklmnopqrstuvwxyz") != "" {
		k.add("templates.default_language", fmt.Sprintf("%q is not a two-letter language code", t.DefaultLanguage), "use pl or en")
	}
}

func (k *checker) positive(key string, v *int, def int) {
	if !k.present[key] {
		*v = def
	} else if *v < 1 {
		k.add(key, fmt.Sprintf("must be at least 1, got %d", *v), fmt.Sprintf("use a small number such as %d; turn acknowledgements off with auto_mail.acknowledge: false", def))
	}
}

func (k *checker) duration(key string, d *Duration, def, min time.Duration) {
	if !k.present[key] {
		d.Duration = def
	} else if d.Duration < min {
		k.add(key, fmt.Sprintf("must be at least %s, got %s", formatDuration(min), formatDuration(d.Duration)), "use a duration such as "+formatDuration(def))
	}
}

func (k *checker) autoMail(a *AutoMail) {
	k.positive("auto_mail.max_per_recipient", &a.MaxPerRecipient, DefaultMaxPerRecipient)
	k.positive("auto_mail.max_per_case", &a.MaxPerCase, DefaultMaxPerCase)
	k.duration("auto_mail.window", &a.Window, DefaultAutoMailWindow, time.Minute)
	if a.MaxAge == nil {
		a.MaxAge = &Duration{DefaultAckMaxAge}
	} else if a.MaxAge.Duration < 0 {
		k.add("auto_mail.max_age", "must not be negative", "use a duration such as 72h, or 0 for no limit")
	}
}

func (k *checker) outbox(o *Outbox) {
	k.duration("outbox.retry_initial", &o.RetryInitial, DefaultRetryInitial, time.Second)
	k.duration("outbox.retry_max", &o.RetryMax, DefaultRetryMax, time.Second)
	k.duration("outbox.give_up_after", &o.GiveUpAfter, DefaultGiveUpAfter, time.Minute)
	if o.RetryMax.Duration < o.RetryInitial.Duration {
		k.add("outbox.retry_max", fmt.Sprintf("%s is shorter than outbox.retry_initial (%s)", formatDuration(o.RetryMax.Duration), formatDuration(o.RetryInitial.Duration)),
			"make retry_max at least retry_initial")
	}
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func clockMinutes(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, true
		}
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func (k *checker) workingHours(w *WorkingHours) {
	if w.Start == "" {
		w.Start = "08:00"
	}
	if w.End == "" {
		w.End = "16:00"
	}
	start, okS := clockMinutes(w.Start)
	end, okE := clockMinutes(w.End)
	if !okS {
		k.add("working_hours.start", fmt.Sprintf("%q is not a time of day", w.Start), "write HH:MM, e.g. 08:00")
	}
	if !okE {
		k.add("working_hours.end", fmt.Sprintf("%q is not a time of day", w.End), "write HH:MM, e.g. 16:00")
	}
	if okS && okE && end <= start {
		k.add("working_hours.end", fmt.Sprintf("%s is not after working_hours.start %s", w.End, w.Start), "make end later than start, e.g. 08:00 to 16:00")
	}
	if !k.present["working_hours.days"] {
		w.Days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	if len(w.Days) == 0 {
		k.add("working_hours.days", "lists no day", "list the working weekdays, e.g. [mon, tue, wed, thu, fri]")
	}
	for i, d := range w.Days {
		w.Days[i] = strings.ToLower(strings.TrimSpace(d))
		if !contains(weekdays, w.Days[i]) {
			k.add(fmt.Sprintf("working_hours.days[%d]", i), fmt.Sprintf("%q is not a weekday", d), "use mon, tue, wed, thu, fri, sat or sun")
		}
	}
}

var priorities = []string{"urgent", "high", "normal"}

func (k *checker) serviceLevel(s *ServiceLevel) {
	k.duration("service_level.first_answer", &s.FirstAnswer, DefaultFirstAnswer, time.Minute)
	for i := range s.ByCategory {
		key := fmt.Sprintf("service_level.by_category[%d]", i)
		if !contains(categories, s.ByCategory[i].Category) {
			k.add(key+".category", fmt.Sprintf("%q is not a case category", s.ByCategory[i].Category), "use one of "+strings.Join(categories, ", "))
		}
		k.duration(key+".first_answer", &s.ByCategory[i].FirstAnswer, DefaultFirstAnswer, time.Minute)
	}
	for i := range s.ByPriority {
		key := fmt.Sprintf("service_level.by_priority[%d]", i)
		if !contains(priorities, s.ByPriority[i].Priority) {
			k.add(key+".priority", fmt.Sprintf("%q is not a priority", s.ByPriority[i].Priority), "use urgent, high or normal")
		}
		k.duration(key+".first_answer", &s.ByPriority[i].FirstAnswer, DefaultFirstAnswer, time.Minute)
	}
}

func (k *checker) reminders(r *Reminders) {
	if !k.present["reminders.legal_before"] {
		r.LegalBefore = []Duration{{72 * time.Hour}, {24 * time.Hour}}
	}
	for i, d := range r.LegalBefore {
		if d.Duration <= 0 {
			k.add(fmt.Sprintf("reminders.legal_before[%d]", i), "must be longer than zero", "use a duration such as 72h or 1d")
		}
	}
	if !k.present["reminders.first_answer_before"] {
		r.FirstAnswerBefore = []Duration{{2 * time.Hour}}
	}
	for i, d := range r.FirstAnswerBefore {
		if d.Duration <= 0 {
			k.add(fmt.Sprintf("reminders.first_answer_before[%d]", i), "must be longer than zero", "use a working-time duration such as 2h")
		}
	}
	if r.TeamAddress != "" {
		if a, ok := k.bareAddress("reminders.team_address", r.TeamAddress, "zespol@example.com"); ok {
			r.TeamAddress = a
		}
	}
	if r.CustomerAfter == nil {
		r.CustomerAfter = &Duration{DefaultCustomerAfter}
	} else if r.CustomerAfter.Duration < 0 {
		k.add("reminders.customer_after", "must not be negative", "use a duration such as 7d, or 0 to turn customer reminders off")
	}
	if r.CloseAfter.Duration < 0 {
		k.add("reminders.close_after", "must not be negative", "use a duration such as 14d, or 0 to never close automatically")
	}
	if r.CloseAfter.Duration > 0 && r.CustomerAfter.Duration == 0 {
		k.add("reminders.close_after", "is set but reminders.customer_after is 0", "closing follows the customer reminder: set customer_after too")
	}
}

func (k *checker) escalation(e *Escalation) {
	if e.AtRiskBusinessDays == nil {
		n := DefaultAtRiskDays
		e.AtRiskBusinessDays = &n
	} else if *e.AtRiskBusinessDays < 0 || *e.AtRiskBusinessDays > 30 {
		k.add("escalation.at_risk_business_days", fmt.Sprintf("must be between 0 and 30, got %d", *e.AtRiskBusinessDays), "use 1 or 2; 0 escalates on the due day itself")
	}
	if e.DigestSchedule == nil {
		s := DefaultDigestSchedule
		e.DigestSchedule = &s
	}
	spec := strings.TrimSpace(*e.DigestSchedule)
	*e.DigestSchedule = spec
	if spec != "" {
		if _, err := cron.ParseStandard(spec); err != nil || strings.Contains(spec, "TZ=") {
			k.add("escalation.digest_schedule", fmt.Sprintf("%q is not a cron schedule", spec),
				"write five fields: minute hour day-of-month month day-of-week, e.g. \"0 8 * * 1-5\" (the configured timezone applies), or \"\" to turn the digest off")
		}
	}
}

func (k *checker) staffAuth(c *Config) {
	a := &c.StaffAuth
	for i, id := range a.AuthservIDs {
		a.AuthservIDs[i] = strings.ToLower(strings.TrimSpace(id))
		if a.AuthservIDs[i] == "" || strings.ContainsAny(a.AuthservIDs[i], " ;()") {
			k.add(fmt.Sprintf("staff_auth.authserv_ids[%d]", i), fmt.Sprintf("%q is not an authserv-id", id),
				"copy the first word of the Authentication-Results header your server adds, e.g. mx.example.com")
		}
	}
	if len(a.Domains) == 0 && c.ClaimsAddress != "" {
		if _, d, ok := strings.Cut(c.ClaimsAddress, "@"); ok {
			a.Domains = []string{d}
		}
	}
	for i, d := range a.Domains {
		a.Domains[i] = strings.ToLower(strings.TrimSpace(d))
		if !validHost(a.Domains[i]) {
			k.add(fmt.Sprintf("staff_auth.domains[%d]", i), fmt.Sprintf("%q is not a domain", d), "write the company's mail domain, e.g. example.com")
		}
	}
	if a.Methods == nil {
		a.Methods = []string{"dmarc", "dkim"}
	}
	for i, m := range a.Methods {
		a.Methods[i] = strings.ToLower(strings.TrimSpace(m))
		if a.Methods[i] != "dmarc" && a.Methods[i] != "dkim" {
			k.add(fmt.Sprintf("staff_auth.methods[%d]", i), fmt.Sprintf("%q is not a method", m), "use dmarc or dkim")
		}
	}
}

func (k *checker) assignment(c *Config) {
	staff := map[string]bool{}
	for _, s := range c.Staff {
		staff[s.Email] = true
	}
	teams := map[string]bool{}
	for i := range c.Assignment.Teams {
		t := &c.Assignment.Teams[i]
		key := fmt.Sprintf("assignment.teams[%d]", i)
		if t.Name = strings.TrimSpace(t.Name); t.Name == "" {
			k.add(key+".name", "is required", "name the team, e.g. logistyka")
		}
		teams[t.Name] = true
		if len(t.Members) == 0 {
			k.add(key+".members", "lists nobody", "list the staff e-mails of its members")
		}
		for j, m := range t.Members {
			t.Members[j] = strings.ToLower(strings.TrimSpace(m))
			if !staff[t.Members[j]] {
				k.add(fmt.Sprintf("%s.members[%d]", key, j), fmt.Sprintf("%q is not in staff", m), "add the person to staff or remove them here")
			}
		}
	}
	for i := range c.Assignment.Rules {
		r := &c.Assignment.Rules[i]
		key := fmt.Sprintf("assignment.rules[%d]", i)
		r.Assignee = strings.ToLower(strings.TrimSpace(r.Assignee))
		switch {
		case (r.Assignee == "") == (r.Team == ""):
			k.add(key, "needs exactly one of assignee and team", "set assignee: a staff e-mail, or team: a team name")
		case r.Assignee != "" && !staff[r.Assignee]:
			k.add(key+".assignee", fmt.Sprintf("%q is not in staff", r.Assignee), "use the e-mail of a staff member")
		case r.Team != "" && !teams[r.Team]:
			k.add(key+".team", fmt.Sprintf("%q is not a team", r.Team), "use a name from assignment.teams")
		}
		if r.Category != "" && !contains(categories, r.Category) {
			k.add(key+".category", fmt.Sprintf("%q is not a case category", r.Category), "use one of "+strings.Join(categories, ", "))
		}
	}
}
