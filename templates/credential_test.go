package templates

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// credentialFixture is the mail the golden files show. The reason carries
// markup so that the HTML goldens document the escaping of what the
// provider says.
func credentialFixture(t *testing.T, server string) CredentialData {
	t.Helper()
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	return CredentialData{
		Server:           server,
		Account:          "reklamacje@sklep.example.com",
		Provider:         "microsoft",
		Since:            time.Date(2025, time.December, 12, 10, 15, 0, 0, warsaw),
		Reason:           `invalid_grant: AADSTS70000: The provided grant has expired due to it being revoked <b>&</b>`,
		RefreshTokenFile: "/var/lib/claimsd/" + server + "-refresh-token",
		Organization:     "Sklep Przykład sp. z o.o.",
	}
}

// credentialMinimal has nothing optional: no provider, reason, file or
// organization.
func credentialMinimal(t *testing.T, server string) CredentialData {
	d := credentialFixture(t, server)
	d.Provider, d.Reason, d.RefreshTokenFile, d.Organization = "", "", "", ""
	return d
}

func TestCredentialGolden(t *testing.T) {
	s := loadDefaults(t)
	for _, lang := range []string{"pl", "en"} {
		for _, server := range []string{ServerIMAP, ServerSMTP} {
			for variant, data := range map[string]func(*testing.T, string) CredentialData{"": credentialFixture, ".minimal": credentialMinimal} {
				prefix := "credential." + server + "." + lang + variant
				t.Run(prefix, func(t *testing.T) {
					r, used, err := s.Credential(lang, data(t, server))
					if err != nil {
						t.Fatal(err)
					}
					if used != lang {
						t.Errorf("language used = %q, want %q", used, lang)
					}
					golden(t, prefix+".txt.golden", r.Text)
					golden(t, prefix+".html.golden", r.HTML)
				})
			}
		}
	}
}

// TestCredentialContent checks what each mail must tell supervisors: what
// stops, that the SMTP mail itself waits in the outbox, what to do, and
// that it comes once.
func TestCredentialContent(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		lang, server string
		subject      string
		want         []string
	}{
		{"en", ServerIMAP, "claimsd cannot read the claims mailbox: authorisation expired or revoked",
			[]string{"since 12 december 2025 at 10:15", "new complaints are not read", "legal answer deadline still runs",
				"microsoft 365 no longer accepts", "/var/lib/claimsd/imap-refresh-token", "no restart is needed", "you get this message once"}},
		{"en", ServerSMTP, "claimsd cannot send mail: authorisation expired or revoked",
			[]string{"cannot send mail as", "no mail goes out", "this message waits there too",
				"claimsd outbox list", "/var/lib/claimsd/smtp-refresh-token"}},
		{"pl", ServerIMAP, "claimsd nie może odczytać skrzynki reklamacji: autoryzacja wygasła lub została cofnięta",
			[]string{"od 12 grudnia 2025 r., godz. 10:15", "nowe reklamacje nie są odczytywane", "ustawowy termin odpowiedzi biegnie",
				"ponowne uruchomienie nie jest potrzebne", "ta wiadomość przychodzi raz"}},
		{"pl", ServerSMTP, "claimsd nie może wysyłać poczty: autoryzacja wygasła lub została cofnięta",
			[]string{"żadna wiadomość nie wychodzi", "ta wiadomość również tam czeka", "claimsd outbox list"}},
	}
	for _, tt := range tests {
		r, _, err := s.Credential(tt.lang, credentialFixture(t, tt.server))
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != tt.subject {
			t.Errorf("%s %s: Subject = %q, want %q", tt.lang, tt.server, r.Subject, tt.subject)
		}
		for _, part := range []string{r.Text, r.HTML} {
			for _, w := range tt.want {
				if !strings.Contains(flatten(part), w) {
					t.Errorf("%s %s: a part lacks %q:\n%s", tt.lang, tt.server, w, part)
				}
			}
		}
		if strings.Contains(r.HTML, "<b>&</b>") || !strings.Contains(r.HTML, "&lt;b&gt;&amp;&lt;/b&gt;") {
			t.Errorf("%s %s: the provider's text is not escaped in HTML", tt.lang, tt.server)
		}
		min, _, err := s.Credential(tt.lang, credentialMinimal(t, tt.server))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(min.Text, tt.server+".oauth2.refresh_token_file") {
			t.Errorf("%s %s: without a file the mail does not name the key:\n%s", tt.lang, tt.server, min.Text)
		}
	}
}

// TestCredentialTextWidth keeps the wording within 76 characters a line;
// lines with the provider's text, the account, a path or the organization
// may be longer.
func TestCredentialTextWidth(t *testing.T) {
	s := loadDefaults(t)
	for _, lang := range s.Languages() {
		for _, server := range []string{ServerIMAP, ServerSMTP} {
			for _, d := range []CredentialData{credentialFixture(t, server), credentialMinimal(t, server)} {
				r, _, err := s.Credential(lang, d)
				if err != nil {
					t.Fatal(err)
				}
				for i, line := range strings.Split(strings.ReplaceAll(r.Text, "grudnia", "października"), "\n") {
					if strings.ContainsAny(line, "@/") || strings.Contains(line, "AADSTS") || strings.Contains(line, "Sklep Przykład") {
						continue
					}
					if n := utf8.RuneCountInString(line); n > 76 {
						t.Errorf("%s %s line %d has %d characters: %q", lang, server, i+1, n, line)
					}
				}
			}
		}
	}
}

func TestCredentialRejectsIncompleteData(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		name   string
		change func(*CredentialData)
		want   string
	}{
		{"unknown server", func(d *CredentialData) { d.Server = "pop3" }, `Server "pop3" is neither`},
		{"no account", func(d *CredentialData) { d.Account = "" }, "empty Account"},
		{"no time", func(d *CredentialData) { d.Since = time.Time{} }, "zero Since"},
	}
	for _, tt := range tests {
		d := credentialFixture(t, ServerIMAP)
		tt.change(&d)
		if _, _, err := s.Credential("pl", d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
