package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// Defaults for Options fields left zero.
const (
	DefaultProcessedKeyword = "$ClaimsdProcessed"
	DefaultBatchSize        = 500
	DefaultPollInterval     = time.Minute
)

// Timeouts the watcher applies itself; see conn.within for why.
const (
	defaultDialTimeout = 30 * time.Second // TCP connect, TLS, greeting and login
	defaultCmdTimeout  = 2 * time.Minute  // one reply from the server
	logoutTimeout      = 5 * time.Second
)

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Mailbox == "" {
		o.Mailbox = "INBOX"
	}
	if o.ProcessedKeyword == "" {
		o.ProcessedKeyword = DefaultProcessedKeyword
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Port == 0 {
		o.Port = 143
		if o.Security == SecurityTLS {
			o.Port = 993
		}
	}
	return o
}

// validate reports settings no retry can fix.
func (o *Options) validate() error {
	if o.Host == "" {
		return errors.New("mailbox: no host")
	}
	if err := checkTransport(o); err != nil {
		return err
	}
	if !validKeyword(o.ProcessedKeyword) {
		return fmt.Errorf("mailbox: processed keyword %q is not an IMAP atom", o.ProcessedKeyword)
	}
	if o.MoveTo != "" && o.MoveTo == o.Mailbox {
		return fmt.Errorf("mailbox: move_to is the watched mailbox %q", o.Mailbox)
	}
	return nil
}

// checkTransport refuses to send a password in the clear anywhere but to
// this machine. The configuration enforces the same; this is the last line.
func checkTransport(o *Options) error {
	switch o.Security {
	case SecurityTLS, SecuritySTARTTLS:
		return nil
	case SecurityNone:
		if isLoopback(o.Host) {
			return nil
		}
		return fmt.Errorf("mailbox: refusing to log in to %s without TLS: security %q is only allowed for loopback hosts", o.Host, o.Security)
	default:
		return fmt.Errorf("mailbox: unknown security %q", o.Security)
	}
}

// isLoopback reports whether host names this machine. It does not resolve
// names other than "localhost": a resolver must not be able to talk us
// into sending a password in the clear.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// validKeyword reports whether kw can be sent as a flag keyword (an atom,
// RFC 3501 section 9) rather than a system flag.
func validKeyword(kw string) bool {
	if kw == "" {
		return false
	}
	for i := 0; i < len(kw); i++ {
		c := kw[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// conn is one logged-in IMAP connection. raw is the TCP socket under
// client: closing it is the one way to interrupt whatever go-imap is
// blocked on, without waiting for it (Client.Close waits for its reader).
type conn struct {
	c        *imapclient.Client
	raw      net.Conn
	caps     imap.CapSet
	timedOut atomic.Bool
}

// kill closes the socket. Blocked commands fail at once; Client.Close must
// still be called to release the client.
func (cn *conn) kill() {
	cn.raw.Close()
}

// within runs f, closing the connection if f has not returned after d.
// go-imap puts no deadline on waiting for a reply (its read deadline is
// cleared between responses), so a server that goes silent would otherwise
// hang the watcher until TCP keepalive gives up.
func (cn *conn) within(d time.Duration, f func() error) error {
	stop := cn.watchdog(d)
	err := f()
	if !stop() && err != nil {
		err = fmt.Errorf("no reply within %v: %w", d, err)
	}
	return err
}

// watchdog closes the connection after d unless the returned stop is
// called first; stop reports false if the watchdog fired.
func (cn *conn) watchdog(d time.Duration) (stop func() bool) {
	t := time.AfterFunc(d, func() {
		cn.timedOut.Store(true)
		cn.kill()
	})
	return t.Stop
}

// close logs out when asked to (best effort, briefly) and releases the
// connection.
func (cn *conn) close(logout bool) {
	if logout {
		_ = cn.within(logoutTimeout, func() error { return cn.c.Logout().Wait() })
	}
	cn.kill()
	_ = cn.c.Close() // the socket is gone; only releasing matters
}

// dial connects, secures the link as o.Security says and logs in. It
// dials with a context itself instead of using imapclient.DialTLS,
// DialStartTLS or DialInsecure, which take none, and hands the socket to
// imapclient.New or NewStartTLS exactly as those helpers do.
func dial(ctx context.Context, o *Options, timeout time.Duration, h *imapclient.UnilateralDataHandler) (*conn, error) {
	if err := checkTransport(o); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	cn := &conn{raw: raw}

	// go-imap's greeting, STARTTLS and login take no context: closing the
	// socket is how cancellation reaches them.
	stop := context.AfterFunc(ctx, cn.kill)
	defer stop()
	err = cn.within(timeout, func() error { return cn.open(ctx, o, h) })
	if err != nil {
		cn.kill()
		if cn.c != nil {
			_ = cn.c.Close()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, ctx.Err())
		}
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return cn, nil
}

func (cn *conn) open(ctx context.Context, o *Options, h *imapclient.UnilateralDataHandler) error {
	tlsConfig := &tls.Config{
		ServerName:         o.Host,
		InsecureSkipVerify: o.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
	copts := &imapclient.Options{TLSConfig: tlsConfig, UnilateralDataHandler: h}
	switch o.Security {
	case SecurityTLS:
		cfg := tlsConfig.Clone()
		cfg.NextProtos = []string{"imap"} // as imapclient.DialTLS does
		tc := tls.Client(cn.raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		cn.c = imapclient.New(tc, copts)
	case SecuritySTARTTLS:
		// NewStartTLS sends STARTTLS without looking at the capabilities
		// (they cannot be trusted before TLS anyway); a server that does
		// not offer it answers NO or BAD and we stop here.
		c, err := imapclient.NewStartTLS(cn.raw, copts)
		if err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
		cn.c = c
	case SecurityNone:
		cn.c = imapclient.New(cn.raw, copts)
	}
	if err := cn.c.WaitGreeting(); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if cn.c.State() == imap.ConnStateNotAuthenticated {
		if err := cn.login(ctx, o); err != nil {
			return err
		}
	}
	cn.caps = cn.c.Caps()
	if cn.caps == nil {
		return errors.New("no CAPABILITY after login")
	}
	return nil
}

// login prefers AUTHENTICATE PLAIN and falls back to LOGIN, or uses
// XOAUTH2 when o.Tokens is set. Errors name the user, never the password
// or token.
func (cn *conn) login(ctx context.Context, o *Options) error {
	caps := cn.c.Caps()
	if caps == nil {
		return errors.New("no CAPABILITY before login")
	}
	if o.Tokens != nil {
		return cn.loginXOAUTH2(ctx, o, caps)
	}
	var err error
	switch {
	case caps.Has(imap.AuthCap(sasl.Plain)):
		err = cn.c.Authenticate(sasl.NewPlainClient("", o.Username, o.Password))
	case caps.Has(imap.CapLoginDisabled):
		return errors.New("server offers neither AUTH=PLAIN nor LOGIN")
	default:
		err = cn.c.Login(o.Username, o.Password).Wait()
	}
	if err != nil {
		return fmt.Errorf("log in as %q: %w", o.Username, err)
	}
	return nil
}

// loginXOAUTH2 authenticates with an access token. A refused token is
// rejected and, once, replaced by a fresh one on the same connection: a
// cached token dies with its grant before it expires, and asking for a new
// one is what finds out whether the grant itself is gone, which the
// token's error then says.
func (cn *conn) loginXOAUTH2(ctx context.Context, o *Options, caps imap.CapSet) error {
	if !caps.Has(imap.AuthCap(mechXOAUTH2)) {
		return fmt.Errorf("log in as %q: the server does not offer AUTH=XOAUTH2 (it offers %s)", o.Username, offeredAuth(caps))
	}
	for retried := false; ; retried = true {
		token, err := o.Tokens.Token(ctx)
		if err != nil {
			return fmt.Errorf("log in as %q: getting an OAuth2 access token: %w", o.Username, err)
		}
		sc := &xoauth2Client{user: o.Username, token: token}
		err = cn.c.Authenticate(sc)
		if err == nil {
			return nil
		}
		var refused *imap.Error
		if !errors.As(err, &refused) {
			// The connection failed, not the token.
			return fmt.Errorf("log in as %q with XOAUTH2: %w", o.Username, err)
		}
		o.Tokens.Reject(token)
		if retried {
			return fmt.Errorf("log in as %q with XOAUTH2: %w%s", o.Username, err, sc.detail())
		}
	}
}
