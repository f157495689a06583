package outbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/internal/oauthtest"
	"github.com/claimsd/claimsd/oauthtoken"
)

// TestDeliverXOAUTH2 sends through a server that takes only AUTH XOAUTH2
// and checks each token with the endpoint that issued it. Steps share the
// transport: a fresh token, the cached one, a cached one the server
// stopped taking (replaced on a second connection), a revoked grant (a
// configuration error: the mail waits), an endpoint outage (temporary)
// and its end.
func TestDeliverXOAUTH2(t *testing.T) {
	const user = "reklamacje@sklep.example"
	ts := oauthtest.NewTokenServer(t, "claimsd", "client-Secret")
	srv := oauthtest.StartSMTP(t, user, ts)
	file := filepath.Join(t.TempDir(), "refresh-token")
	writeRefreshToken(t, file, ts.Grant())
	host, port := hostPort(t, srv.Addr)
	tr := NewSMTP(SMTPConfig{
		Host: host, Port: port, Security: SecurityNone, Username: user,
		Tokens: oauthtoken.New(oauthtoken.Config{TokenURL: ts.URL, ClientID: "claimsd", ClientSecret: "client-Secret", RefreshTokenFile: file}),
	})

	steps := []struct {
		name     string
		before   func()
		want     string // errClass of each item
		wantErr  string
		refused  bool // the error is a refused credential
		received int  // messages the server holds after the step
		// refreshes counts token requests answered with a token,
		// refusedTokens the tokens the server refused.
		refreshes, refusedTokens int
	}{
		{name: "fresh token", want: "delivered", received: 2, refreshes: 1},
		{name: "cached token", want: "delivered", received: 4, refreshes: 1},
		{name: "cached token no longer taken", before: ts.ExpireAccessTokens, want: "delivered", received: 6, refreshes: 2, refusedTokens: 1},
		{name: "grant revoked", before: ts.Revoke, want: "config", received: 6, refreshes: 2, refusedTokens: 2,
			wantErr: "getting an OAuth2 access token: refreshing the access token at " + ts.URL + ": invalid_grant: AADSTS70000", refused: true},
		{name: "endpoint down", before: func() { writeRefreshToken(t, file, ts.Grant()); ts.SetDown(true) }, want: "temporary", received: 6, refreshes: 2, refusedTokens: 2,
			wantErr: "HTTP status 503"},
		{name: "endpoint back", before: func() { ts.SetDown(false) }, want: "delivered", received: 8, refreshes: 3, refusedTokens: 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			errs := tr.Deliver(context.Background(), deliveryItems("a@example.net", "b@example.net"))
			for i, err := range errs {
				if got := errClass(err); got != st.want {
					t.Errorf("item %d: %s (%v), want %s", i, got, err, st.want)
				}
				if err != nil && !strings.Contains(err.Error(), st.wantErr) {
					t.Errorf("item %d: %v, want it to contain %q", i, err, st.wantErr)
				}
				if oauthtoken.Refused(err) != st.refused {
					t.Errorf("item %d: Refused = %v, want %v", i, oauthtoken.Refused(err), st.refused)
				}
				if err != nil && strings.Contains(err.Error(), "ya29.") {
					t.Errorf("item %d: the error shows the access token: %v", i, err)
				}
			}
			if got := len(srv.Messages()); got != st.received {
				t.Errorf("server holds %d messages, want %d", got, st.received)
			}
			if ts.Refreshes() != st.refreshes || srv.Refused() != st.refusedTokens {
				t.Errorf("%d refreshes, %d tokens refused; want %d, %d", ts.Refreshes(), srv.Refused(), st.refreshes, st.refusedTokens)
			}
		})
	}
	if s := tr.String(); !strings.Contains(s, "auth=xoauth2") {
		t.Errorf("transport described as %s", s)
	}
}

// writeRefreshToken puts a refresh token into its file, as an
// administrator does after authorising claimsd.
func writeRefreshToken(t *testing.T, file, token string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
