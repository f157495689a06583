package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
)

// How claimsd logs in to a mail server (imap.auth, smtp.auth).
const (
	// AuthPassword logs in with a password (SASL PLAIN, LOGIN).
	AuthPassword = "password"
	// AuthXOAUTH2 logs in with an OAuth2 access token (SASL XOAUTH2),
	// as Gmail and Microsoft 365 require once basic authentication is
	// off. The token is refreshed with the refresh token in
	// oauth2.refresh_token_file.
	AuthXOAUTH2 = "xoauth2"
)

// OAuth2 providers whose token endpoint and scopes claimsd knows.
const (
	ProviderGoogle    = "google"
	ProviderMicrosoft = "microsoft"
)

// Token endpoints and scopes of the providers. Microsoft's scopes cover
// both IMAP and SMTP, so that one consent and one refresh token can serve
// both sections.
const (
	googleTokenURL    = "https://oauth2.googleapis.com/token"
	microsoftTokenURL = "https://login.microsoftonline.com/%s/oauth2/v2.0/token"
)

var (
	googleScopes    = []string{"https://mail.google.com/"}
	microsoftScopes = []string{
		"https://outlook.office.com/IMAP.AccessAsUser.All",
		"https://outlook.office.com/SMTP.Send",
		"offline_access",
	}
)

// OAuth2 says how to get the access tokens XOAUTH2 logs in with: an
// application registered with the mail provider (client id and secret)
// and a refresh token obtained once, when an administrator authorised
// that application for the mailbox. Used only with auth: xoauth2.
type OAuth2 struct {
	// Provider is google, microsoft or "" (any other OAuth2 server). A
	// provider fills in TokenURL and Scopes when they are not set.
	Provider string `yaml:"provider"`
	// Tenant is the Microsoft Entra directory the application is
	// registered in: its id, a domain such as example.onmicrosoft.com, or
	// "organizations" for a multi-tenant application. Required with
	// provider microsoft, not allowed otherwise.
	Tenant string `yaml:"tenant"`
	// TokenURL is the token endpoint; https, or http to a loopback host
	// (test servers). Required without a provider.
	TokenURL string `yaml:"token_url"`
	// Scopes are asked for at every refresh.
	Scopes []string `yaml:"scopes"`
	// ClientID identifies the registered application. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecretEnv names the environment variable holding the client
	// secret; ClientSecretFile is a file holding only it. At most one;
	// Google requires one, a Microsoft public client (mobile and desktop
	// flows) has none.
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// ClientSecret is the resolved secret. It is never printed.
	ClientSecret string `yaml:"-"`
	// RefreshTokenFile holds the refresh token, on one line. claimsd reads
	// it at every refresh, so a new token written there is used without a
	// restart, and writes the new token there when the provider rotates it
	// (Microsoft does): the directory must be writable by claimsd. A
	// relative path is resolved like DataDir. Required.
	RefreshTokenFile string `yaml:"refresh_token_file"`
}

// String prints the subsection like %+v, with the client secret redacted.
func (o OAuth2) String() string {
	type plain OAuth2 // without this String method
	p := plain(o)
	p.ClientSecret = redact(p.ClientSecret)
	return fmt.Sprintf("%+v", p)
}

// GoString prints the subsection with the client secret redacted, for %#v.
func (o OAuth2) GoString() string { return "config.OAuth2" + o.String() }

// auth defaults and checks section.auth and returns it, or "" when it is
// invalid.
func (k *checker) auth(section string, auth *string) string {
	a := strings.ToLower(strings.TrimSpace(*auth))
	if a == "" {
		a = AuthPassword
	}
	*auth = a
	switch a {
	case AuthPassword, AuthXOAUTH2:
		return a
	}
	k.add(section+".auth", fmt.Sprintf("%q is not a login method", a),
		"use password, or xoauth2 for an OAuth2 access token (Gmail, Microsoft 365)")
	return ""
}

// oauth2 defaults and checks section.oauth2 for auth: xoauth2: the
// provider's presets, the endpoint, the client and its secret, and that
// the refresh token file can be read. The refresh token itself is not
// kept: it may change while claimsd runs.
func (k *checker) oauth2(section string, o *OAuth2) {
	key := section + ".oauth2"
	o.Provider = strings.ToLower(strings.TrimSpace(o.Provider))
	o.Tenant = strings.TrimSpace(o.Tenant)
	o.TokenURL = strings.TrimSpace(o.TokenURL)
	switch o.Provider {
	case ProviderGoogle:
		if o.TokenURL == "" {
			o.TokenURL = googleTokenURL
		}
		if len(o.Scopes) == 0 {
			o.Scopes = append([]string(nil), googleScopes...)
		}
	case ProviderMicrosoft:
		// The tenant is part of the token endpoint's address; an explicit
		// token_url (a national cloud) needs none.
		switch {
		case o.TokenURL != "":
		case o.Tenant == "":
			k.add(key+".tenant", "is required with provider microsoft",
				"set the directory (tenant) id or domain the application is registered in, e.g. example.onmicrosoft.com, or organizations for a multi-tenant application")
		case strings.Trim(strings.ToLower(o.Tenant), "abcdefghijklmnopqrstuvwxyz0123456789.-") != "":
			k.add(key+".tenant", fmt.Sprintf("%q is not a tenant id or domain", o.Tenant),
				"copy the Directory (tenant) ID from the application's overview in the Entra admin center, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47")
		default:
			o.TokenURL = fmt.Sprintf(microsoftTokenURL, o.Tenant)
		}
		if len(o.Scopes) == 0 {
			o.Scopes = append([]string(nil), microsoftScopes...)
		}
	case "":
		if o.TokenURL == "" {
			k.add(key+".token_url", "is required without a provider",
				"set provider: google or provider: microsoft, or the token endpoint of your OAuth2 server, e.g. https://auth.example.com/oauth2/token")
		}
	default:
		k.add(key+".provider", fmt.Sprintf("%q is not a known provider", o.Provider),
			"use google, microsoft, or \"\" and set token_url and scopes")
	}
	if o.Tenant != "" && o.Provider != ProviderMicrosoft {
		k.add(key+".tenant", "is set but provider is not microsoft", "remove it, or set provider: microsoft")
	}
	if o.TokenURL != "" {
		k.tokenURL(key+".token_url", o.TokenURL)
	}
	for i, s := range o.Scopes {
		o.Scopes[i] = strings.TrimSpace(s)
		switch {
		case o.Scopes[i] == "":
			k.add(fmt.Sprintf("%s.scopes[%d]", key, i), "is empty", "write a scope or remove the entry")
		case strings.ContainsAny(o.Scopes[i], " \t\r\n\"\\"):
			k.add(fmt.Sprintf("%s.scopes[%d]", key, i), fmt.Sprintf("%q is not one scope", o.Scopes[i]),
				"write each scope as its own list entry, e.g. [https://mail.google.com/]")
		}
	}
	o.ClientID = strings.TrimSpace(o.ClientID)
	if o.ClientID == "" {
		k.add(key+".client_id", "is required",
			"copy the client (application) id of the application registered with the mail provider")
	}
	o.ClientSecret, o.ClientSecretEnv, o.ClientSecretFile = k.clientSecret(key, o.ClientSecretEnv, o.ClientSecretFile, o.Provider == ProviderGoogle)
	o.RefreshTokenFile = k.refreshTokenFile(key+".refresh_token_file", o.RefreshTokenFile)
}

// tokenURL checks a token endpoint: https, or http only to a loopback
// host, where nobody can read the client secret and refresh token on the
// way.
func (k *checker) tokenURL(key, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		k.add(key, fmt.Sprintf("%q is not an http(s) URL", s),
			"write the full address of the token endpoint, e.g. https://auth.example.com/oauth2/token")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		k.add(key, fmt.Sprintf("%q would send the client secret and refresh token unencrypted", s),
			"use https (http is allowed only for a loopback host)")
	}
}

// clientSecret resolves the client secret from at most one of
// client_secret_env and client_secret_file, like a password (secret).
// required makes a missing source a problem. Secrets never appear in
// problems.
func (k *checker) clientSecret(key, envName, file string, required bool) (secret, env, path string) {
	envKey, fileKey := key+".client_secret_env", key+".client_secret_file"
	envName, file = strings.TrimSpace(envName), strings.TrimSpace(file)
	if file != "" && k.baseDir != "" && !filepath.IsAbs(file) {
		file = filepath.Join(k.baseDir, file)
	}
	switch {
	case envName != "" && file != "":
		k.add(envKey, "both client_secret_env and client_secret_file are set",
			fmt.Sprintf("keep only one of %s and %s", envKey, fileKey))
		return "", envName, file
	case envName == "" && file == "":
		if required {
			k.add(envKey, "no client secret source is set; Google requires the client secret",
				fmt.Sprintf("set %s to the name of an environment variable holding it, e.g. CLAIMSD_OAUTH2_CLIENT_SECRET, or %s to a file containing only it", envKey, fileKey))
		}
		return "", "", ""
	case envName != "":
		if !validEnvName(envName) {
			// The value is not shown: it may be the secret itself.
			k.add(envKey, "is not a valid environment variable name",
				"put the name of a variable here, e.g. CLAIMSD_OAUTH2_CLIENT_SECRET, not the secret itself")
			return "", envName, ""
		}
		v, ok := k.env(envName)
		switch {
		case !ok:
			k.add(envKey, fmt.Sprintf("environment variable %s is not set", envName), "export it or use "+fileKey)
		case v == "":
			k.add(envKey, fmt.Sprintf("environment variable %s is empty", envName), "put the client secret in it or use "+fileKey)
		}
		return v, envName, ""
	}
	v, ok := k.oneLineFile(fileKey, file, "the client secret", envKey)
	if !ok {
		return "", "", file
	}
	return v, "", file
}

// refreshTokenFile requires the refresh token file and checks that it
// holds one line; it returns the path resolved against baseDir.
func (k *checker) refreshTokenFile(key, file string) string {
	file = strings.TrimSpace(file)
	if file == "" {
		k.add(key, "is required",
			"authorise claimsd for the mailbox once, write the refresh token into a file in a directory claimsd may write to, e.g. /var/lib/claimsd/imap-refresh-token, and name it here")
		return ""
	}
	if k.baseDir != "" && !filepath.IsAbs(file) {
		file = filepath.Join(k.baseDir, file)
	}
	k.oneLineFile(key, file, "the refresh token", "")
	return file
}

// oneLineFile reads a file that must hold one secret on one line (a
// trailing newline is ignored). other names the alternative key to
// suggest, if any. The content never appears in problems.
func (k *checker) oneLineFile(key, file, what, other string) (string, bool) {
	data, err := k.readFile(file)
	if err != nil {
		orOther := ""
		if other != "" {
			orOther = ", or use " + other
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			k.add(key, fmt.Sprintf("file %s does not exist", file),
				fmt.Sprintf("create it containing only %s, readable by the user claimsd runs as%s", what, orOther))
		case errors.Is(err, fs.ErrPermission):
			k.add(key, fmt.Sprintf("cannot read %s: permission denied", file),
				"make it readable by the user claimsd runs as, e.g. chown claimsd and chmod 600")
		default:
			k.add(key, fmt.Sprintf("cannot read %s: %v", file, err),
				fmt.Sprintf("make it a readable file containing only %s%s", what, orOther))
		}
		return "", false
	}
	v := strings.TrimRight(string(data), "\r\n")
	switch {
	case strings.TrimSpace(v) == "":
		k.add(key, fmt.Sprintf("file %s is empty", file), "write "+what+" into it")
		return "", false
	case strings.ContainsAny(v, "\r\n"):
		k.add(key, fmt.Sprintf("file %s has more than one line", file), "put only "+what+" in it, on one line")
		return "", false
	}
	return v, true
}
