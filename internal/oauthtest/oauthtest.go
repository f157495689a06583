// Package oauthtest runs, in-process on loopback, what logging in with
// OAuth2 involves, for tests: a token endpoint that issues access tokens
// for a refresh token, can rotate the refresh token and can be told to
// refuse it (revoked, as Microsoft and Google answer it), and IMAP and
// SMTP servers that accept only SASL XOAUTH2 with an access token that
// endpoint issued and still honours. Everything is torn down when the
// test ends.
package oauthtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TokenServer is an OAuth2 token endpoint (RFC 6749 §6, refresh only).
type TokenServer struct {
	// URL is the token endpoint, plain http on 127.0.0.1.
	URL string
	// ClientID and ClientSecret are the only client it knows.
	ClientID, ClientSecret string

	mu        sync.Mutex
	refresh   string          // the refresh token it takes; "" once revoked
	access    map[string]bool // access tokens issued and still honoured
	rotate    bool
	down      bool
	n         int
	refreshes int
	lastScope string
}

// Revoked is the error_description of a refused refresh token, as
// Microsoft words it.
const Revoked = "AADSTS70000: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password."

// NewTokenServer starts a token endpoint for one client. Grant gives its
// first refresh token.
func NewTokenServer(tb testing.TB, clientID, clientSecret string) *TokenServer {
	s := &TokenServer{ClientID: clientID, ClientSecret: clientSecret, access: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL + "/token"
	return s
}

// Grant authorises the client anew, as an administrator does: it returns
// a new refresh token, and the previous one is refused from now on.
func (s *TokenServer) Grant() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.refresh = fmt.Sprintf("1//refresh-%d", s.n)
	return s.refresh
}

// Revoke refuses the refresh token and every access token issued for it,
// as a password change or a removed consent does.
func (s *TokenServer) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh = ""
	clear(s.access)
}

// ExpireAccessTokens stops honouring the access tokens issued so far, as
// if they had expired; the refresh token still works.
func (s *TokenServer) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// SetRotate makes every refresh issue a new refresh token and refuse the
// old one, as Microsoft's rotation can.
func (s *TokenServer) SetRotate(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate = on
}

// SetDown makes the endpoint answer 503, an outage that passes.
func (s *TokenServer) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// RefreshToken is the refresh token the endpoint takes now.
func (s *TokenServer) RefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refresh
}

// Refreshes counts the refresh requests answered with a token.
func (s *TokenServer) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// LastScope is the scope parameter of the last refresh request.
func (s *TokenServer) LastScope() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastScope
}

// Valid reports whether token is an access token the endpoint issued and
// still honours.
func (s *TokenServer) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.access[token]
}

func (s *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "POST a form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastScope = r.PostForm.Get("scope")
	switch {
	case s.down:
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	case r.PostForm.Get("grant_type") != "refresh_token":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only refresh_token")
	case r.PostForm.Get("client_id") != s.ClientID || r.PostForm.Get("client_secret") != s.ClientSecret:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
	case s.refresh == "" || r.PostForm.Get("refresh_token") != s.refresh:
		oauthError(w, http.StatusBadRequest, "invalid_grant", Revoked)
	default:
		s.n++
		s.refreshes++
		resp := map[string]any{
			"access_token": fmt.Sprintf("ya29.access-%d", s.n),
			"token_type":   "Bearer",
			"expires_in":   3600,
		}
		s.access[resp["access_token"].(string)] = true
		if s.rotate {
			s.refresh = fmt.Sprintf("1//refresh-%d", s.n)
			resp["refresh_token"] = s.refresh
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	}
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// xoauth2Server is the server side of SASL XOAUTH2
// (https://developers.google.com/workspace/gmail/imap/xoauth2-protocol):
// the client sends "user=U^Aauth=Bearer TOKEN^A^A"; a refused token gets
// a JSON error challenge, and the exchange fails after the client's
// (empty) answer to it, as at Gmail.
type xoauth2Server struct {
	user    string
	tokens  *TokenServer
	refused func() error // the protocol's failure reply
	ok      func()       // called on success
	failed  bool
}

func (s *xoauth2Server) Next(resp []byte) (challenge []byte, done bool, err error) {
	switch {
	case s.failed:
		return nil, false, s.refused()
	case resp == nil:
		return []byte{}, false, nil // ask for the initial response
	}
	fields := bytes.Split(resp, []byte{1})
	if len(fields) != 4 || len(fields[2]) != 0 || len(fields[3]) != 0 {
		return nil, false, s.refused()
	}
	user, hasUser := bytes.CutPrefix(fields[0], []byte("user="))
	token, hasToken := bytes.CutPrefix(fields[1], []byte("auth=Bearer "))
	if !hasUser || !hasToken || string(user) != s.user || !s.tokens.Valid(string(token)) {
		s.failed = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	s.ok()
	return nil, true, nil
}

// serveLoopback has serve serve on a new listener on 127.0.0.1 until the
// test ends; then stop closes the server and the cleanup waits for serve
// to return. It returns the listener's host:port.
func serveLoopback(tb testing.TB, serve func(net.Listener), stop func() error) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(ln)
	}()
	tb.Cleanup(func() {
		stop()
		<-done
	})
	return ln.Addr().String()
}
