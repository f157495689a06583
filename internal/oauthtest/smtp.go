package oauthtest

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the SMTP server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// SMTPServer is an SMTP submission server on 127.0.0.1 that offers only
// AUTH XOAUTH2, over plain text, and keeps what it is sent.
type SMTPServer struct {
	// Addr is host:port to connect to.
	Addr string

	username string
	tokens   *TokenServer

	mu      sync.Mutex
	msgs    []Message
	refused int
}

// StartSMTP starts a server for one user, who logs in with an access
// token tokens issued.
func StartSMTP(tb testing.TB, username string, tokens *TokenServer) *SMTPServer {
	tb.Helper()
	s := &SMTPServer{username: username, tokens: tokens}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: s}, nil
	}))
	srv.Domain = "localhost"
	// Loopback only: nobody can read the token on the way.
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	s.Addr = serveLoopback(tb, func(ln net.Listener) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			tb.Errorf("smtp server: %v", err)
		}
	}, srv.Close)
	return s
}

// Messages returns what the server accepted, oldest first.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Refused counts refused tokens.
func (s *SMTPServer) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

type smtpSession struct {
	srv    *SMTPServer
	authed bool
	msg    Message
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) AuthMechanisms() []string { return []string{"XOAUTH2"} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Unrecognized authentication type"}
	}
	return &xoauth2Server{
		user:   s.srv.username,
		tokens: s.srv.tokens,
		refused: func() error {
			s.srv.mu.Lock()
			s.srv.refused++
			s.srv.mu.Unlock()
			// Gmail's answer (RFC 4954 §6: 535 invalid credentials).
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Username and Password not accepted"}
		},
		ok: func() { s.authed = true },
	}, nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication Required"}
	}
	s.msg = Message{From: from}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = data
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	s.msg = Message{}
	return nil
}

func (s *smtpSession) Reset()        { s.msg = Message{} }
func (s *smtpSession) Logout() error { return nil }
