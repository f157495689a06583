// Package oauthtoken owns the OAuth2 credential claimsd logs in to mail
// servers with (SASL XOAUTH2: Gmail, Microsoft 365). It turns the refresh
// token kept in a file into access tokens with golang.org/x/oauth2, keeps
// an access token until shortly before it expires, writes a refresh token
// the provider rotated back to its file atomically, and tells a refused
// credential (revoked or expired: someone must authorise claimsd again)
// from a failure that passes by itself (the network, the provider).
//
// It is its own package because the credential is shared: the IMAP and
// SMTP adapters use its tokens, and the daemon reports its health.
package oauthtoken

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Defaults of Config fields left zero.
const (
	// DefaultTimeout bounds one token request.
	DefaultTimeout = 30 * time.Second
	// expiryMargin: a token this close to its expiry is refreshed first,
	// so that it does not expire between being handed out and the
	// server checking it.
	expiryMargin = time.Minute
)

// Config says where the credential is.
type Config struct {
	// TokenURL is the provider's token endpoint.
	TokenURL string
	// ClientID and ClientSecret identify the application; the secret is
	// empty for a public client.
	ClientID, ClientSecret string
	// Scopes are asked for at every refresh.
	Scopes []string
	// RefreshTokenFile holds the refresh token on one line. It is read at
	// every refresh and rewritten when the provider rotates the token.
	RefreshTokenFile string
	// HTTPClient makes the token requests; nil means one with
	// DefaultTimeout. A client without a timeout gets DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock access tokens expire by; nil means time.Now.
	Now func() time.Time
	// Log records rotations; nil discards. Tokens are never logged.
	Log *slog.Logger
}

// Source hands out access tokens. It is safe for concurrent use: one
// refresh runs at a time and the others wait for its token.
type Source struct {
	oauth  oauth2.Config
	file   string
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu    sync.Mutex
	token *oauth2.Token // the current access token; nil before the first refresh and after Reject
	// unsaved is a rotated refresh token that could not be written to
	// file; it is used as long as the file still holds unsavedOver, the
	// token it replaced, so that a failed write costs nothing until a
	// restart.
	unsaved, unsavedOver string
}

// New returns a Source. Nothing is read or requested until Token.
func New(c Config) *Source {
	client := &http.Client{Timeout: DefaultTimeout}
	if c.HTTPClient != nil {
		cp := *c.HTTPClient
		client = &cp
		if client.Timeout == 0 {
			client.Timeout = DefaultTimeout
		}
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = scopeTransport{base: base, tokenURL: c.TokenURL, scope: strings.Join(c.Scopes, " ")}
	now, log := c.Now, c.Log
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{
		oauth: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Scopes:       slices.Clone(c.Scopes),
			// Credentials in the form (RFC 6749 §2.3.1): Google and
			// Microsoft take them there, and a public client has no
			// secret to put in a Basic header.
			Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		file:   c.RefreshTokenFile,
		client: client,
		now:    now,
		log:    log,
	}
}

// Token returns an access token valid for at least another minute,
// refreshing it with the refresh token when needed. Its errors are
// *Error: Refused tells whether someone must act.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && (s.token.Expiry.IsZero() || s.now().Add(expiryMargin).Before(s.token.Expiry)) {
		return s.token.AccessToken, nil
	}
	tok, err := s.refresh(ctx)
	if err != nil {
		return "", err
	}
	s.token = tok
	return tok.AccessToken, nil
}

// Reject tells the source that a server refused token, so that the next
// Token refreshes instead of handing it out again: a provider revokes the
// access tokens with the grant, before they expire.
func (s *Source) Reject(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && s.token.AccessToken == token {
		s.token = nil
	}
}

// refresh gets a new access token for the refresh token in the file and
// saves a rotated refresh token.
func (s *Source) refresh(ctx context.Context) (*oauth2.Token, error) {
	rt, err := s.refreshToken()
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	tok, err := s.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		return nil, classify(s.oauth.Endpoint.TokenURL, err)
	}
	// x/oauth2 keeps the old refresh token when the answer has none, so
	// a different one is a rotation (Microsoft rotates at every refresh).
	if tok.RefreshToken != "" && tok.RefreshToken != rt {
		s.save(rt, tok.RefreshToken)
	}
	return tok, nil
}

// refreshToken reads the refresh token from its file, or the rotated one
// that could not be saved over it.
func (s *Source) refreshToken() (string, error) {
	data, err := os.ReadFile(s.file)
	if err != nil {
		return "", &Error{Err: fmt.Errorf("reading the refresh token: %w", err), refused: true}
	}
	rt := strings.TrimSpace(string(data))
	if rt == "" {
		return "", &Error{Err: fmt.Errorf("the refresh token file %s is empty", s.file), refused: true}
	}
	if s.unsaved != "" && rt == s.unsavedOver {
		return s.unsaved, nil
	}
	return rt, nil
}

// save writes a rotated refresh token to the file. When that fails the
// token is kept in memory: the old one may already be void.
func (s *Source) save(old, rotated string) {
	if err := writeFileAtomic(s.file, []byte(rotated+"\n")); err != nil {
		s.unsaved, s.unsavedOver = rotated, old
		s.log.Error("oauth2: the provider rotated the refresh token, but it cannot be saved; it is kept in memory until a restart",
			"file", s.file, "err", err)
		return
	}
	s.unsaved, s.unsavedOver = "", ""
	s.log.Debug("oauth2: rotated refresh token saved", "file", s.file)
}

// writeFileAtomic replaces path with data, mode 0600: a temporary file in
// the same directory, synced, renamed over path, and the directory synced,
// so that a crash leaves the old token or the new one, never half of one.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Error is a failure to get an access token.
type Error struct {
	// Code is the token endpoint's error code (RFC 6749 §5.2), e.g.
	// invalid_grant; empty when it sent none.
	Code string
	// Description is its error_description on one line; Microsoft's
	// starts with an AADSTS number that says why.
	Description string
	Err         error
	refused     bool
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later may help, the convention
// net.Error started.
func (e *Error) Temporary() bool { return !e.refused }

// Refused reports whether err says that the credential itself was refused
// (the refresh token revoked or expired, the client unknown or its secret
// expired) or cannot be read: no retry helps until someone authorises
// claimsd again or fixes the configuration.
func Refused(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.refused
}

// classify turns x/oauth2's error into an *Error.
func classify(tokenURL string, err error) *Error {
	op := "refreshing the access token at " + tokenURL
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// The network, a timeout, a cancelled context: nothing was
		// refused.
		return &Error{Err: fmt.Errorf("%s: %w", op, err)}
	}
	e := &Error{Code: re.ErrorCode, Description: oneLine(re.ErrorDescription, 400)}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch {
	case re.ErrorCode == "temporarily_unavailable", status >= 500, status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		e.refused = false
	default:
		// invalid_grant (revoked, expired, password changed),
		// invalid_client (unknown client, expired secret),
		// unauthorized_client, invalid_scope, and any other refusal:
		// the same request will be refused again.
		e.refused = true
	}
	switch {
	case e.Code != "" && e.Description != "":
		e.Err = fmt.Errorf("%s: %s: %s", op, e.Code, e.Description)
	case e.Code != "":
		e.Err = fmt.Errorf("%s: %s", op, e.Code)
	default:
		e.Err = fmt.Errorf("%s: HTTP status %d: %s", op, status, oneLine(string(re.Body), 200))
	}
	return e
}

// oneLine puts s on one line and cuts it to at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

// scopeTransport adds the scopes to refresh requests. x/oauth2 sends none
// when refreshing (golang/oauth2#447), but the Microsoft identity platform
// documents scope as required there and otherwise may issue a token for
// less than the IMAP and SMTP scopes; Google accepts it.
type scopeTransport struct {
	base     http.RoundTripper
	tokenURL string
	scope    string
}

func (t scopeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.scope == "" || req.Method != http.MethodPost || req.Body == nil || req.URL.String() != t.tokenURL {
		return t.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("grant_type") != "refresh_token" || form.Has("scope") {
		return t.base.RoundTrip(withBody(req, string(body)))
	}
	form.Set("scope", t.scope)
	return t.base.RoundTrip(withBody(req, form.Encode()))
}

// withBody is a copy of req with body, as a RoundTripper must not change
// the request it was given.
func withBody(req *http.Request, body string) *http.Request {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return r
}
