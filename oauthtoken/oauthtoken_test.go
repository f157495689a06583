package oauthtoken

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/oauthtest"
)

// clock is a settable clock for access token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const clientID, clientSecret = "claimsd-test", "Client-Secret-Value"

// setup starts a token endpoint, writes its refresh token to a file and
// returns a Source for it on a settable clock.
func setup(t *testing.T) (*oauthtest.TokenServer, *Source, string, *clock) {
	t.Helper()
	ts := oauthtest.NewTokenServer(t, clientID, clientSecret)
	file := filepath.Join(t.TempDir(), "refresh-token")
	writeToken(t, file, ts.Grant())
	clk := &clock{t: time.Now()}
	src := New(Config{
		TokenURL: ts.URL, ClientID: clientID, ClientSecret: clientSecret,
		Scopes:           []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"},
		RefreshTokenFile: file, Now: clk.now,
	})
	return ts, src, file, clk
}

func writeToken(t *testing.T, file, token string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustToken(t *testing.T, src *Source) string {
	t.Helper()
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// TestTokenCachedUntilExpiry: a fresh token is fetched with the scopes,
// handed out again while valid, and refreshed once it is about to expire.
func TestTokenCachedUntilExpiry(t *testing.T) {
	ts, src, _, clk := setup(t)
	first := mustToken(t, src)
	if !ts.Valid(first) || ts.Refreshes() != 1 {
		t.Fatalf("first token %q valid %v after %d refreshes", first, ts.Valid(first), ts.Refreshes())
	}
	if got, want := ts.LastScope(), "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"; got != want {
		t.Errorf("scope sent %q, want %q", got, want)
	}
	if again := mustToken(t, src); again != first || ts.Refreshes() != 1 {
		t.Errorf("second Token %q after %d refreshes, want the cached %q", again, ts.Refreshes(), first)
	}
	clk.advance(time.Hour - expiryMargin/2) // the endpoint issues tokens for an hour
	ts.ExpireAccessTokens()
	renewed := mustToken(t, src)
	if renewed == first || !ts.Valid(renewed) || ts.Refreshes() != 2 {
		t.Errorf("token near expiry not refreshed: %q (first %q), %d refreshes", renewed, first, ts.Refreshes())
	}
}

// TestRejectRefreshes: a token a server refused is not handed out again;
// rejecting a token that is no longer current changes nothing.
func TestRejectRefreshes(t *testing.T) {
	ts, src, _, _ := setup(t)
	first := mustToken(t, src)
	src.Reject("some-older-token")
	if mustToken(t, src) != first {
		t.Fatal("rejecting another token dropped the current one")
	}
	src.Reject(first)
	if second := mustToken(t, src); second == first || ts.Refreshes() != 2 {
		t.Errorf("after Reject: %q, %d refreshes", second, ts.Refreshes())
	}
}

// TestRotatedRefreshTokenSaved: a rotated refresh token replaces the file
// (mode 0600, no temporary file left), so that a restarted source, and the
// endpoint that now refuses the old token, go on working.
func TestRotatedRefreshTokenSaved(t *testing.T) {
	ts, src, file, _ := setup(t)
	ts.SetRotate(true)
	old := ts.RefreshToken()
	mustToken(t, src)
	rotated := ts.RefreshToken()
	if rotated == old {
		t.Fatal("the endpoint did not rotate")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(data)) != rotated {
		t.Errorf("file holds %q, want the rotated %q", data, rotated)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the token file", len(entries))
	}
	restarted := New(Config{TokenURL: ts.URL, ClientID: clientID, ClientSecret: clientSecret, RefreshTokenFile: file})
	if _, err := restarted.Token(context.Background()); err != nil {
		t.Errorf("a new source on the saved token: %v", err)
	}
}

// TestNewGrantWithoutRestart: after a revocation, a refresh token written
// into the file by an administrator is used at the next refresh.
func TestNewGrantWithoutRestart(t *testing.T) {
	ts, src, file, _ := setup(t)
	first := mustToken(t, src)
	ts.Revoke()
	src.Reject(first)
	if _, err := src.Token(context.Background()); !Refused(err) {
		t.Fatalf("revoked: %v, want a refused credential", err)
	}
	writeToken(t, file, ts.Grant())
	if tok := mustToken(t, src); !ts.Valid(tok) {
		t.Errorf("token %q after the new grant is not valid", tok)
	}
}

// TestErrors: what the endpoint or the file says is classified as a
// refused credential (someone must act) or as passing, and no secret is
// ever part of the message.
func TestErrors(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + closed.Addr().String() + "/token"
	closed.Close()

	tests := []struct {
		name        string
		prepare     func(ts *oauthtest.TokenServer, cfg *Config)
		ctx         func() context.Context
		refused     bool
		code        string
		wantMessage string
	}{
		{name: "revoked", prepare: func(ts *oauthtest.TokenServer, _ *Config) { ts.Revoke() },
			refused: true, code: "invalid_grant", wantMessage: "invalid_grant: AADSTS70000: The provided grant has expired due to it being revoked"},
		{name: "client secret wrong", prepare: func(_ *oauthtest.TokenServer, c *Config) { c.ClientSecret = "Expired-Secret-Value" },
			refused: true, code: "invalid_client", wantMessage: "invalid_client: AADSTS7000215: Invalid client secret provided."},
		{name: "endpoint down", prepare: func(ts *oauthtest.TokenServer, _ *Config) { ts.SetDown(true) },
			wantMessage: "HTTP status 503: down for maintenance"},
		{name: "nobody listening", prepare: func(_ *oauthtest.TokenServer, c *Config) { c.TokenURL = deadURL },
			wantMessage: "connection refused"},
		{name: "cancelled", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, wantMessage: "context canceled"},
		{name: "file missing", prepare: func(_ *oauthtest.TokenServer, c *Config) { c.RefreshTokenFile += ".missing" },
			refused: true, wantMessage: "reading the refresh token: open "},
		{name: "file empty", prepare: func(_ *oauthtest.TokenServer, c *Config) { os.WriteFile(c.RefreshTokenFile, []byte("\n"), 0o600) },
			refused: true, wantMessage: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := oauthtest.NewTokenServer(t, clientID, clientSecret)
			file := filepath.Join(t.TempDir(), "refresh-token")
			refresh := ts.Grant()
			writeToken(t, file, refresh)
			cfg := Config{TokenURL: ts.URL, ClientID: clientID, ClientSecret: clientSecret, RefreshTokenFile: file}
			if tt.prepare != nil {
				tt.prepare(ts, &cfg)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			_, err := New(cfg).Token(ctx)
			if err == nil {
				t.Fatal("Token succeeded")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if Refused(err) != tt.refused || e.Temporary() == tt.refused || e.Code != tt.code {
				t.Errorf("Refused %v, Temporary %v, Code %q; want refused %v, code %q: %v", Refused(err), e.Temporary(), e.Code, tt.refused, tt.code, err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q lacks %q", err, tt.wantMessage)
			}
			for _, secret := range []string{refresh, clientSecret, cfg.ClientSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret %q: %v", secret, err)
				}
			}
		})
	}
}

// TestConcurrentCallersShareOneRefresh: callers arriving together get the
// same token from one refresh.
func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	ts, src, _, _ := setup(t)
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() { tokens[i], _ = src.Token(context.Background()) })
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok != tokens[0] || tok == "" {
			t.Fatalf("tokens differ: %q", tokens)
		}
	}
	if ts.Refreshes() != 1 {
		t.Errorf("%d refreshes, want 1", ts.Refreshes())
	}
}
