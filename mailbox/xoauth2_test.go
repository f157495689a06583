package mailbox

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/devmail"
	"github.com/claimsd/claimsd/internal/oauthtest"
	"github.com/claimsd/claimsd/oauthtoken"
)

// TestXOAUTH2 logs in with access tokens against a server that takes only
// XOAUTH2 and checks each token with the endpoint that issued it: a fresh
// token, the cached one, a cached one the server stopped taking (replaced
// on the same connection), and a revoked grant, which fails as a refused
// credential. Each step runs the watcher once on the same source.
func TestXOAUTH2(t *testing.T) {
	ts := oauthtest.NewTokenServer(t, "claimsd", "client-Secret")
	srv := oauthtest.StartIMAP(t, testUser, ts)
	srv.Append(t, rawMessage(1), time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	file := filepath.Join(t.TempDir(), "refresh-token")
	if err := os.WriteFile(file, []byte(ts.Grant()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens := oauthtoken.New(oauthtoken.Config{TokenURL: ts.URL, ClientID: "claimsd", ClientSecret: "client-Secret", RefreshTokenFile: file})
	opts := xoauth2Options(t, srv.Addr, tokens)

	steps := []struct {
		name    string
		before  func()
		wantErr string // "" for success
		refused bool   // the error is a refused credential
		// What the endpoint and the server counted after the step.
		refreshes, logins, refusedTokens int
	}{
		{name: "fresh token", refreshes: 1, logins: 1},
		{name: "cached token", refreshes: 1, logins: 2},
		{name: "cached token no longer taken", before: ts.ExpireAccessTokens, refreshes: 2, logins: 3, refusedTokens: 1},
		{name: "grant revoked", before: ts.Revoke, refreshes: 2, logins: 3, refusedTokens: 2,
			wantErr: `log in as "claims@example.com": getting an OAuth2 access token: refreshing the access token at ` + ts.URL + ": invalid_grant: AADSTS70000", refused: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			w, logs := newTestWatcher(t, opts, newFakeSink())
			_, err := w.RunOnce(context.Background())
			switch {
			case st.wantErr == "" && err != nil:
				t.Fatalf("RunOnce: %v", err)
			case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
				t.Fatalf("RunOnce error %v, want one containing %q", err, st.wantErr)
			}
			if oauthtoken.Refused(err) != st.refused {
				t.Errorf("Refused(%v) = %v, want %v", err, oauthtoken.Refused(err), st.refused)
			}
			if ts.Refreshes() != st.refreshes || srv.Logins() != st.logins || srv.Refused() != st.refusedTokens {
				t.Errorf("refreshes %d, logins %d, refused tokens %d; want %d, %d, %d",
					ts.Refreshes(), srv.Logins(), srv.Refused(), st.refreshes, st.logins, st.refusedTokens)
			}
			if strings.Contains(logs.String(), "ya29.") || (err != nil && strings.Contains(err.Error(), "ya29.")) {
				t.Error("an access token leaked into an error or the log")
			}
		})
	}
}

// TestXOAUTH2NotOffered: a server without AUTH=XOAUTH2 is told apart from
// a refused token, and no token is asked for.
func TestXOAUTH2NotOffered(t *testing.T) {
	srv := startServer(t, devmail.IMAPConfig{})
	ts := oauthtest.NewTokenServer(t, "claimsd", "client-Secret")
	tokens := oauthtoken.New(oauthtoken.Config{TokenURL: ts.URL, ClientID: "claimsd", RefreshTokenFile: "/nonexistent"})
	w, _ := newTestWatcher(t, xoauth2Options(t, srv.Addr, tokens), newFakeSink())
	_, err := w.RunOnce(context.Background())
	want := `log in as "claims@example.com": the server does not offer AUTH=XOAUTH2 (it offers PLAIN)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("RunOnce = %v, want %q", err, want)
	}
	if oauthtoken.Refused(err) {
		t.Errorf("a missing mechanism reported as a refused credential")
	}
}

// TestXOAUTH2ClientDetail: the server's error challenge is kept for the
// error message.
func TestXOAUTH2ClientDetail(t *testing.T) {
	tests := []struct{ challenge, want string }{
		{`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`, " (token refused with status 401, scope needed: https://mail.google.com/)"},
		{`{"status":"400"}`, " (token refused with status 400)"},
		{`not json`, ""},
		{"", ""},
	}
	for _, tt := range tests {
		c := &xoauth2Client{user: "u", token: "t"}
		if tt.challenge != "" {
			if resp, err := c.Next([]byte(tt.challenge)); err != nil || len(resp) != 0 {
				t.Errorf("Next(%q) = %q, %v; want an empty response", tt.challenge, resp, err)
			}
		}
		if got := c.detail(); got != tt.want {
			t.Errorf("detail after %q = %q, want %q", tt.challenge, got, tt.want)
		}
	}
	mech, ir, _ := (&xoauth2Client{user: "a@example.com", token: "ya29.x"}).Start()
	if mech != "XOAUTH2" || string(ir) != "user=a@example.com\x01auth=Bearer ya29.x\x01\x01" {
		t.Errorf("Start = %s %q", mech, ir)
	}
}

// xoauth2Options are plain-text options for a loopback server at addr,
// logging in with tokens.
func xoauth2Options(t *testing.T, addr string, tokens TokenSource) Options {
	t.Helper()
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Host: host, Port: port, Security: SecurityNone,
		Username: testUser, Tokens: tokens,
		Mailbox: "INBOX", PollInterval: time.Hour,
	}
}
