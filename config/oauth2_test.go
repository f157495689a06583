package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestOAuth2Presets checks what each provider fills in, that explicit
// values win, and that secrets are resolved.
func TestOAuth2Presets(t *testing.T) {
	env := testEnv(map[string]string{"CLAIMSD_OAUTH2_SECRET": "Client-Secret-789"})
	files := testFiles(map[string]string{"/rt": "1//refresh\n", "/cs": "File-Secret-012\n"})
	tests := []struct {
		name, oauth  string
		wantURL      string
		wantScopes   []string
		wantSecret   string
		wantProvider string
	}{
		{"google", "provider: Google, client_id: app, client_secret_env: CLAIMSD_OAUTH2_SECRET",
			"https://oauth2.googleapis.com/token", []string{"https://mail.google.com/"}, "Client-Secret-789", "google"},
		{"microsoft", "provider: microsoft, tenant: contoso.onmicrosoft.com, client_id: app",
			"https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
			[]string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"}, "", "microsoft"},
		{"microsoft national cloud", "provider: microsoft, token_url: https://login.microsoftonline.us/t/oauth2/v2.0/token, scopes: [offline_access], client_id: app, client_secret_file: /cs",
			"https://login.microsoftonline.us/t/oauth2/v2.0/token", []string{"offline_access"}, "File-Secret-012", "microsoft"},
		{"other server on loopback", "token_url: http://127.0.0.1:8080/token, client_id: app",
			"http://127.0.0.1:8080/token", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := render(map[string]string{
				"imap.auth":   "XOAUTH2",
				"imap.oauth2": "{" + tt.oauth + ", refresh_token_file: /rt}",
				"smtp.host":   "localhost", "smtp.security": "none", "smtp.from": "reklamacje@example.com",
				"smtp.username": "reklamacje@example.com", "smtp.auth": "xoauth2",
				"smtp.oauth2": "{" + tt.oauth + ", refresh_token_file: /rt}",
			})
			c, err := Parse([]byte(yaml), env, files)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []struct {
				name, auth string
				o          OAuth2
			}{{"imap", c.IMAP.Auth, c.IMAP.OAuth2}, {"smtp", c.SMTP.Auth, c.SMTP.OAuth2}} {
				if s.auth != AuthXOAUTH2 || s.o.Provider != tt.wantProvider || s.o.TokenURL != tt.wantURL ||
					!reflect.DeepEqual(s.o.Scopes, tt.wantScopes) || s.o.ClientSecret != tt.wantSecret || s.o.RefreshTokenFile != "/rt" {
					t.Errorf("%s: auth %q, %#v", s.name, s.auth, s.o)
				}
			}
			if c.IMAP.Password != "" {
				t.Errorf("imap password resolved with auth xoauth2")
			}
		})
	}
}

// TestAuthDefaultsAndUnusedKeys checks that auth defaults to password, and
// that the keys of the method not chosen are neither checked nor resolved,
// so that switching is one key.
func TestAuthDefaultsAndUnusedKeys(t *testing.T) {
	c := mustParse(t, render(map[string]string{"imap.oauth2": "{provider: nonsense, client_secret_env: NOT_SET}"}))
	if c.IMAP.Auth != AuthPassword || c.IMAP.Password != "imap-Secret-123" || c.IMAP.OAuth2.ClientSecret != "" {
		t.Errorf("imap with auth password: %v", c.IMAP)
	}
	c, err := Parse([]byte(render(map[string]string{
		"imap.auth":         "xoauth2",
		"imap.password_env": "NOT_SET_ANYWHERE",
		"imap.oauth2":       "{provider: microsoft, tenant: organizations, client_id: app, refresh_token_file: /rt}",
	})), testEnv(nil), testFiles(map[string]string{"/rt": "t"}))
	if err != nil {
		t.Fatalf("password_env checked with auth xoauth2: %v", err)
	}
	if c.IMAP.Password != "" {
		t.Errorf("password resolved with auth xoauth2")
	}
	if c = mustParse(t, render(nil)); c.SMTP.Auth != "" {
		t.Errorf("smtp.auth defaulted without a host: %q", c.SMTP.Auth)
	}
}

// TestOAuth2RelativePaths checks that Load resolves the refresh token and
// client secret files against the configuration file's directory.
func TestOAuth2RelativePaths(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"imap-refresh-token": "1//refresh\n", "client-secret": "s\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "claimsd.yaml")
	yaml := render(map[string]string{
		"imap.auth":   "xoauth2",
		"imap.oauth2": "{provider: google, client_id: app, client_secret_file: client-secret, refresh_token_file: imap-refresh-token}",
	})
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := c.IMAP.OAuth2
	if o.RefreshTokenFile != filepath.Join(dir, "imap-refresh-token") || o.ClientSecretFile != filepath.Join(dir, "client-secret") || o.ClientSecret != "s" {
		t.Errorf("oauth2 = %#v", o)
	}
}

// TestOAuth2SecretNeverPrinted checks every way of printing the
// configuration and its sections for the resolved client secret, and that
// String's YAML still parses back to the same imap section.
func TestOAuth2SecretNeverPrinted(t *testing.T) {
	const secret = "GOCSPX-Very-Secret-Value"
	env := testEnv(map[string]string{"CLAIMSD_OAUTH2_SECRET": secret})
	files := testFiles(map[string]string{"/rt": "1//refresh\n"})
	yaml := render(map[string]string{
		"imap.auth":   "xoauth2",
		"imap.oauth2": "{provider: google, client_id: app, client_secret_env: CLAIMSD_OAUTH2_SECRET, refresh_token_file: /rt}",
	})
	c, err := Parse([]byte(yaml), env, files)
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.OAuth2.ClientSecret != secret {
		t.Fatalf("client secret not resolved")
	}
	outputs := map[string]string{
		"String":       c.String(),
		"%+v Config":   fmt.Sprintf("%+v", *c),
		"%#v Config":   fmt.Sprintf("%#v", *c),
		"%v IMAP":      fmt.Sprintf("%v", c.IMAP),
		"%#v IMAP":     fmt.Sprintf("%#v", c.IMAP),
		"%v OAuth2":    fmt.Sprintf("%v", c.IMAP.OAuth2),
		"%+v &OAuth2":  fmt.Sprintf("%+v", &c.IMAP.OAuth2),
		"%#v OAuth2":   fmt.Sprintf("%#v", c.IMAP.OAuth2),
		"%v []section": fmt.Sprint([]any{c.IMAP, c.IMAP.OAuth2}),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows the client secret:\n%s", name, out)
		}
	}
	if !strings.Contains(outputs["%v OAuth2"], "ClientSecret:REDACTED") || !strings.Contains(outputs["%v IMAP"], "RefreshTokenFile:/rt") {
		t.Errorf("OAuth2 printed as %s; IMAP as %s", outputs["%v OAuth2"], outputs["%v IMAP"])
	}
	again, err := Parse([]byte(c.String()), env, files)
	if err != nil {
		t.Fatalf("String() does not parse back: %v\n%s", err, c)
	}
	if !reflect.DeepEqual(c.IMAP, again.IMAP) {
		t.Errorf("imap round trip differs:\n%v\n%v", c.IMAP, again.IMAP)
	}
}
