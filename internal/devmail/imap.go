package devmail

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// idlePollInterval is how often an IDLE-ing connection looks for mailbox
// changes; see session.Idle.
const idlePollInterval = 50 * time.Millisecond

// IMAPConfig configures StartIMAPWith.
type IMAPConfig struct {
	Username string
	Password string
	// Mailboxes are created besides INBOX.
	Mailboxes []string
	// Caps are the capabilities advertised. Nil means IMAP4rev1 plus
	// IMAP4rev2, which implies IDLE, MOVE and UIDPLUS. With only IMAP4rev1
	// the server still offers IDLE but neither MOVE nor UIDPLUS unless
	// they are listed.
	Caps imap.CapSet
	// TLSConfig, when set, makes the server offer STARTTLS, or with
	// ImplicitTLS speak TLS from the first byte.
	TLSConfig   *tls.Config
	ImplicitTLS bool
}

// IMAPServer is an in-memory IMAP server listening on 127.0.0.1.
type IMAPServer struct {
	// Addr is host:port to connect to.
	Addr string

	log    *slog.Logger
	user   *imapmemserver.User
	server *imapserver.Server
	ln     *trackingListener
	served chan struct{} // closed when Serve has returned
}

// StartIMAP starts a server with one user owning INBOX and mailboxes. It
// advertises IMAP4rev1 and IMAP4rev2 (so IDLE, MOVE and UIDPLUS) and lets
// the user log in without TLS.
func StartIMAP(log *slog.Logger, username, password string, mailboxes ...string) (*IMAPServer, error) {
	return StartIMAPWith(log, IMAPConfig{Username: username, Password: password, Mailboxes: mailboxes})
}

// StartIMAPWith starts a server as configured by cfg.
func StartIMAPWith(log *slog.Logger, cfg IMAPConfig) (*IMAPServer, error) {
	log = orDiscard(log)
	caps := cfg.Caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}

	user := imapmemserver.NewUser(cfg.Username, cfg.Password)
	for _, name := range append([]string{"INBOX"}, cfg.Mailboxes...) {
		if err := user.Create(name, nil); err != nil {
			return nil, fmt.Errorf("create mailbox %q: %w", name, err)
		}
	}
	mem := imapmemserver.New()
	mem.AddUser(user)

	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			// imapmemserver sessions implement every optional interface
			// (MOVE, NAMESPACE); the wrapper must keep them visible.
			inner, ok := mem.NewSession().(imapserver.SessionIMAP4rev2)
			if !ok {
				return nil, nil, errors.New("imapmemserver session lacks IMAP4rev2 support")
			}
			return session{inner}, nil, nil
		},
		Caps:   caps,
		Logger: printfLogger{log},
		// Loopback only: nobody can sniff the password.
		InsecureAuth: true,
	}
	if cfg.TLSConfig != nil && !cfg.ImplicitTLS {
		opts.TLSConfig = cfg.TLSConfig
	}

	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tracked := &trackingListener{Listener: tcp, conns: make(map[*trackedConn]struct{})}
	var ln net.Listener = tracked
	if cfg.TLSConfig != nil && cfg.ImplicitTLS {
		ln = tls.NewListener(tracked, cfg.TLSConfig)
	}

	s := &IMAPServer{
		Addr:   tcp.Addr().String(),
		log:    log,
		user:   user,
		server: imapserver.New(opts),
		ln:     tracked,
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := s.server.Serve(ln); err != nil {
			log.Error("imap server stopped", "err", err)
		}
	}()
	log.Debug("imap server listening", "addr", s.Addr)
	return s, nil
}

// Append stores raw as a new message in mailbox, as if delivered at
// internalDate (the zero time means now). Sessions that have the mailbox
// selected learn of it like of any other new mail.
func (s *IMAPServer) Append(mailbox string, raw []byte, internalDate time.Time) error {
	// The memory server keeps the slice; a copy shields it from callers
	// reusing their buffer.
	buf := bytes.Clone(raw)
	if _, err := s.user.Append(mailbox, bytes.NewReader(buf), &imap.AppendOptions{Time: internalDate}); err != nil {
		return fmt.Errorf("append to %q: %w", mailbox, err)
	}
	return nil
}

// DropConnections closes every client connection at once, as a server
// restart or a network failure would, and keeps accepting new ones. It
// returns how many connections it closed.
func (s *IMAPServer) DropConnections() int {
	return s.ln.dropAll()
}

// Close stops the server and closes every connection.
func (s *IMAPServer) Close() error {
	err := s.server.Close()
	<-s.served
	// imapserver registers a connection only once its goroutine runs, so
	// one accepted just before Close could outlive it.
	s.ln.dropAll()
	return err
}

// session fixes one gap of imapmemserver: its IDLE only announces changes
// that happen after IDLE began, so mail appended between a client's last
// command and its IDLE would stay unannounced until the next change.
// Polling the session's queue of updates instead loses nothing.
type session struct {
	imapserver.SessionIMAP4rev2
}

func (s session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(idlePollInterval)
	defer t.Stop()
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}

// trackingListener remembers the connections it accepted, so they can be
// dropped without stopping the server.
type trackingListener struct {
	net.Listener

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

func (l *trackingListener) dropAll() int {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
