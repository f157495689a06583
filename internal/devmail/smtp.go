package devmail

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SinkMessage is one message the SMTP sink accepted.
type SinkMessage struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// SMTPSink is an SMTP server on 127.0.0.1 that accepts every message (and
// any AUTH PLAIN credentials, or none) and keeps it in memory.
type SMTPSink struct {
	// Addr is host:port to connect to.
	Addr string

	log    *slog.Logger
	server *smtp.Server
	ln     *trackingListener
	served chan struct{} // closed when Serve has returned

	mu   sync.Mutex
	msgs []SinkMessage
}

// maxSinkMessage bounds one message, so a runaway client cannot exhaust
// memory.
const maxSinkMessage = 64 << 20

// StartSMTPSink starts the sink on a free port.
func StartSMTPSink(log *slog.Logger) (*SMTPSink, error) {
	return StartSMTPSinkAt("127.0.0.1:0", log)
}

// StartSMTPSinkAt starts the sink on addr, e.g. the address of a sink
// that was closed, to simulate a server coming back after an outage.
func StartSMTPSinkAt(addr string, log *slog.Logger) (*SMTPSink, error) {
	log = orDiscard(log)
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ln := &trackingListener{Listener: tcp, conns: make(map[*trackedConn]struct{})}
	s := &SMTPSink{
		Addr:   tcp.Addr().String(),
		log:    log,
		ln:     ln,
		served: make(chan struct{}),
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{sink: s}, nil
	}))
	srv.Domain = "localhost"
	// Loopback only: nobody can sniff the password.
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = maxSinkMessage
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = printfLogger{log}
	s.server = srv

	go func() {
		defer close(s.served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			log.Error("smtp sink stopped", "err", err)
		}
	}()
	log.Debug("smtp sink listening", "addr", s.Addr)
	return s, nil
}

// Messages returns a copy of every message received so far, oldest first.
func (s *SMTPSink) Messages() []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SinkMessage, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = SinkMessage{From: m.From, To: slices.Clone(m.To), Data: bytes.Clone(m.Data), At: m.At}
	}
	return out
}

// Close stops the sink and closes every connection.
func (s *SMTPSink) Close() error {
	err := s.server.Close()
	<-s.served
	// go-smtp registers a connection only once its goroutine runs, so one
	// accepted just before Close could outlive it.
	s.ln.dropAll()
	return err
}

func (s *SMTPSink) record(m SinkMessage) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	s.log.Debug("smtp sink received message", "from", m.From, "to", m.To, "bytes", len(m.Data))
}

// smtpSession collects one transaction at a time.
type smtpSession struct {
	sink *SMTPSink
	from string
	to   []string
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		return nil // any credentials will do: this is a sink
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.record(SinkMessage{From: s.from, To: s.to, Data: data, At: time.Now()})
	s.Reset()
	return nil
}

func (s *smtpSession) Reset() {
	s.from, s.to = "", nil
}

func (s *smtpSession) Logout() error { return nil }
