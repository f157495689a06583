package oauthtest

import (
	"bytes"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// IMAPServer is an in-memory IMAP server (go-imap's imapmemserver) on
// 127.0.0.1 that offers only AUTHENTICATE XOAUTH2, over plain text.
type IMAPServer struct {
	// Addr is host:port to connect to.
	Addr string

	username string
	user     *imapmemserver.User
	tokens   *TokenServer
	logins   atomic.Int64
	refused  atomic.Int64
}

// StartIMAP starts a server with one user owning INBOX, who logs in with
// an access token tokens issued.
func StartIMAP(tb testing.TB, username string, tokens *TokenServer) *IMAPServer {
	tb.Helper()
	// The password is never used: LOGIN is refused below.
	user := imapmemserver.NewUser(username, "")
	if err := user.Create("INBOX", nil); err != nil {
		tb.Fatal(err)
	}
	s := &IMAPServer{username: username, user: user, tokens: tokens}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{srv: s}, nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		// Loopback only: nobody can read the token on the way.
		InsecureAuth: true,
	})
	s.Addr = serveLoopback(tb, func(ln net.Listener) { srv.Serve(ln) }, srv.Close)
	return s
}

// Append stores raw in INBOX as if delivered at date.
func (s *IMAPServer) Append(tb testing.TB, raw []byte, date time.Time) {
	tb.Helper()
	if _, err := s.user.Append("INBOX", bytes.NewReader(bytes.Clone(raw)), &imap.AppendOptions{Time: date}); err != nil {
		tb.Fatal(err)
	}
}

// Logins counts successful logins; Refused counts refused tokens.
func (s *IMAPServer) Logins() int  { return int(s.logins.Load()) }
func (s *IMAPServer) Refused() int { return int(s.refused.Load()) }

// imapSession is imapmemserver's session for the user once XOAUTH2 has
// succeeded; before that the embedded session is nil, which imapserver
// never calls on in the not-authenticated state.
type imapSession struct {
	*imapmemserver.UserSession
	srv *IMAPServer
}

var _ imapserver.SessionSASL = (*imapSession)(nil)

func (s *imapSession) Login(string, string) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Use AUTHENTICATE XOAUTH2"}
}

func (s *imapSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s *imapSession) Authenticate(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, errors.New("unsupported mechanism")
	}
	return &xoauth2Server{
		user:   s.srv.username,
		tokens: s.srv.tokens,
		refused: func() error {
			s.srv.refused.Add(1)
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid credentials (Failure)"}
		},
		ok: func() {
			s.srv.logins.Add(1)
			s.UserSession = imapmemserver.NewUserSession(s.srv.user)
		},
	}, nil
}
