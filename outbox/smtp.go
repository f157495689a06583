package outbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/claimsd/claimsd/store"
)

// SMTPConfig says how to reach the submission server.
type SMTPConfig struct {
	Host string
	// Port defaults to 465 for "tls", 587 for "starttls" and 25 for
	// "none".
	Port int
	// Security is "tls" (implicit TLS, RFC 8314 §3.3, port 465),
	// "starttls" (mandatory STARTTLS, RFC 3207) or "none" (plain; only for
	// loopback, checked by config). Empty means "starttls": never plain
	// text by accident.
	Security           string
	InsecureSkipVerify bool   // config allows it only for a loopback server
	Username, Password string // empty Username: no AUTH
	// Tokens, when set, authenticates Username with AUTH XOAUTH2 (Gmail,
	// Microsoft 365) and an access token from it instead of Password.
	Tokens   TokenSource
	HeloName string // optional; default the host name
	// Timeout bounds connecting and each message's SMTP exchange;
	// default 30s.
	Timeout time.Duration
}

// TokenSource gives the OAuth2 access tokens SMTPConfig.Tokens logs in
// with.
type TokenSource interface {
	// Token returns a valid access token, refreshing it when needed.
	Token(ctx context.Context) (string, error)
	// Reject says the server refused token, so that Token does not hand
	// it out again.
	Reject(token string)
}

// Security values of SMTPConfig.
const (
	SecurityTLS      = "tls"
	SecuritySTARTTLS = "starttls"
	SecurityNone     = "none"
)

const defaultSMTPTimeout = 30 * time.Second

// String describes the configuration without the password, so that
// printing or logging it never leaks the secret.
func (c SMTPConfig) String() string {
	auth := "password=" + redacted(c.Password)
	if c.Tokens != nil {
		auth = "auth=xoauth2"
	}
	return fmt.Sprintf("smtp://%s security=%s user=%q %s",
		net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.Security, c.Username, auth)
}

// GoString keeps the password out of %#v.
func (c SMTPConfig) GoString() string { return c.String() }

// LogValue keeps the password out of structured logs too.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port),
		slog.String("security", c.Security), slog.String("username", c.Username),
		slog.String("password", redacted(c.Password)),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "(none)"
	}
	return "(redacted)"
}

// SMTP delivers outbox items to one submission server with go-mail.
type SMTP struct {
	cfg SMTPConfig
}

// String describes the transport; fmt would otherwise print the
// configuration's fields, password included.
func (s *SMTP) String() string { return s.cfg.String() }

// NewSMTP returns an SMTP transport; the configuration is checked when
// delivering, where a bad one becomes a configuration error per item.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Security == "" {
		cfg.Security = SecuritySTARTTLS
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort(cfg.Security)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	return &SMTP{cfg: cfg}
}

func defaultPort(security string) int {
	switch security {
	case SecurityTLS:
		return 465 // RFC 8314 §7.3
	case SecurityNone:
		return 25
	default:
		return 587 // RFC 6409 §3.1
	}
}

// Deliver sends items over one connection, in order, and returns one
// error per item (nil = accepted by the server).
// A connection failure before an item is attempted is returned for that
// item and all later ones.
//
// Every error is a *DeliveryError; Temporary and IsConfigError classify
// it. An item is reported accepted as soon as the server accepted its
// data, even if the connection fails right after.
func (s *SMTP) Deliver(ctx context.Context, items []store.OutboxItem) []error {
	errs := make([]error, len(items))
	msgs := composeAll(items, errs)
	if !anyMessage(msgs) {
		return errs
	}
	conn, err := s.connect(ctx)
	if err != nil {
		for i, m := range msgs {
			if m != nil {
				errs[i] = notAttempted(itemOp(&items[i]), err)
			}
		}
		return errs
	}
	defer conn.close()
	for i, m := range msgs {
		if m != nil {
			errs[i] = conn.send(ctx, &items[i], m)
		}
	}
	return errs
}

// composeAll composes every item before connecting: an item that cannot
// be composed fails alone and needs no connection.
func composeAll(items []store.OutboxItem, errs []error) []*mail.Msg {
	msgs := make([]*mail.Msg, len(items))
	for i := range items {
		m, err := Compose(&items[i])
		if err != nil {
			errs[i] = composeError(&items[i], err)
			continue
		}
		msgs[i] = m
	}
	return msgs
}

func anyMessage(msgs []*mail.Msg) bool {
	for _, m := range msgs {
		if m != nil {
			return true
		}
	}
	return false
}

func itemOp(it *store.OutboxItem) string {
	return fmt.Sprintf("delivering outbox item %d", it.ID)
}

// composeError classifies an item that cannot be written: a bad recipient
// address is permanent (the customer's address), anything else in the
// item is ours and a configuration problem.
func composeError(it *store.OutboxItem, err error) error {
	class := classConfig
	if errors.Is(err, errBadRecipient) {
		class = classPermanent
	}
	return &DeliveryError{Op: itemOp(it), Err: err, class: class}
}

// smtpConn is one connection of a Deliver call.
type smtpConn struct {
	client *mail.Client
	raw    net.Conn    // the TCP connection under any TLS; closing it aborts
	stop   func() bool // stops the watcher that closes raw when ctx ends
	lost   error       // why no more items can be sent; nil while usable
}

// connect dials, greets, starts TLS and authenticates (go-mail's
// DialWithContext does all of it). An XOAUTH2 token the server refuses is
// rejected and, once, replaced by a fresh one on a new connection: a
// cached token dies with its grant before it expires, and asking for a
// new one is what finds out whether the grant itself is gone.
func (s *SMTP) connect(ctx context.Context) (*smtpConn, error) {
	op := "connecting to " + s.addr()
	if err := ctx.Err(); err != nil {
		return nil, &DeliveryError{Op: op, Err: err, class: classTemporary}
	}
	for retried := false; ; retried = true {
		token, err := s.accessToken(ctx)
		if err != nil {
			return nil, tokenError(op, err)
		}
		c, de := s.dial(ctx, op, token)
		if de == nil {
			return c, nil
		}
		if token == "" || !authRefused(de.Code) {
			return nil, de
		}
		s.cfg.Tokens.Reject(token)
		if retried {
			return nil, de
		}
	}
}

// dial makes one connection, logging in with token when it is set.
func (s *SMTP) dial(ctx context.Context, op, token string) (*smtpConn, *DeliveryError) {
	c := &smtpConn{}
	opts, err := s.clientOptions(c.dialer(ctx, s.addr(), s.implicitTLS()), token)
	if err != nil {
		return nil, &DeliveryError{Op: op, Err: err, class: classConfig}
	}
	client, err := mail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, &DeliveryError{Op: op, Err: fmt.Errorf("configuring the SMTP client: %w", err), class: classConfig}
	}
	if err := client.DialWithContext(ctx); err != nil {
		c.abort()
		return nil, connectError(ctx, op, err)
	}
	c.client = client
	return c, nil
}

// accessToken is the XOAUTH2 token to log in with, or "" when logging in
// with a password or not at all.
func (s *SMTP) accessToken(ctx context.Context) (string, error) {
	if s.cfg.Tokens == nil || s.cfg.Username == "" {
		return "", nil
	}
	return s.cfg.Tokens.Token(ctx)
}

// tokenError classifies a failure to get an access token: the network or
// the provider's outage passes (the source's error says Temporary); a
// refused credential waits, like a wrong password, until someone
// authorises again.
func tokenError(op string, err error) *DeliveryError {
	class := classConfig
	if isContextError(err) || isNetworkError(err) || saysTemporary(err) {
		class = classTemporary
	}
	return &DeliveryError{Op: op, Err: fmt.Errorf("getting an OAuth2 access token: %w", err), class: class, lost: true}
}

// authRefused reports whether an SMTP reply code refuses the credentials
// (RFC 4954 §6: 535 invalid, 534 too weak, 530 required, 538 encryption
// required); Gmail and Microsoft answer a bad token with 535.
func authRefused(code int) bool {
	return code == 535 || code == 534 || code == 530 || code == 538
}

// clientOptions turns the configuration into go-mail options; token, when
// set, is the XOAUTH2 access token.
func (s *SMTP) clientOptions(dial mail.DialContextFunc, token string) ([]mail.Option, error) {
	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTimeout(s.cfg.Timeout),
		mail.WithDialContextFunc(dial),
		mail.WithTLSConfig(s.tlsConfig()),
		// NOOP before every message costs a round trip and tells nothing
		// MAIL FROM would not.
		mail.WithoutNoop(),
	}
	switch s.cfg.Security {
	case SecurityTLS:
		// The dialer does the TLS handshake; WithSSL keeps go-mail from
		// trying STARTTLS inside it.
		opts = append(opts, mail.WithSSL())
	case SecuritySTARTTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case SecurityNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("unknown SMTP security %q (want tls, starttls or none)", s.cfg.Security)
	}
	if s.cfg.HeloName != "" {
		opts = append(opts, mail.WithHELO(s.cfg.HeloName))
	}
	switch {
	case token != "":
		// go-mail's XOAUTH2 takes the access token as the password and
		// answers the server's error challenge with an empty response.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthXOAUTH2),
			mail.WithUsername(s.cfg.Username), mail.WithPassword(token))
	case s.cfg.Username != "":
		opts = append(opts, mail.WithOpportunisticSMTPAuth(s.authMechanisms()...),
			mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	}
	return opts, nil
}

// authMechanisms lists the SASL mechanisms to use, best first: PLAIN
// (RFC 4616), which every submission server offers, then LOGIN, the only
// one some (Microsoft 365) offer. If the server offers neither, go-mail
// picks the strongest it knows. go-mail refuses both over plain text
// unless told, so "none", allowed on loopback only, says so.
func (s *SMTP) authMechanisms() []mail.SMTPAuthType {
	if s.cfg.Security == SecurityNone {
		return []mail.SMTPAuthType{mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc}
	}
	return []mail.SMTPAuthType{mail.SMTPAuthPlain, mail.SMTPAuthLogin}
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         s.cfg.Host,
		InsecureSkipVerify: s.cfg.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
}

// implicitTLS is the TLS configuration the dialer handshakes with, nil
// unless the security is "tls".
func (s *SMTP) implicitTLS() *tls.Config {
	if s.cfg.Security != SecurityTLS {
		return nil
	}
	return s.tlsConfig()
}

// addr is the server's host:port. go-mail joins them with a bare colon,
// which breaks IPv6 literals ("::1"), so the dialer uses this instead.
func (s *SMTP) addr() string {
	return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

// dialer returns go-mail's dial function. It keeps the TCP connection so
// that cancelling ctx can close it: go-mail honours a context only while
// dialing, and a stalled server would otherwise hold Deliver for the whole
// timeout. ctx is Deliver's context, not the dial context go-mail passes,
// which ends when the dial returns.
func (c *smtpConn) dialer(ctx context.Context, addr string, implicitTLS *tls.Config) mail.DialContextFunc {
	return func(dialCtx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(dialCtx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		c.raw = raw
		c.stop = context.AfterFunc(ctx, func() { _ = raw.Close() })
		if implicitTLS == nil {
			return raw, nil
		}
		tc := tls.Client(raw, implicitTLS)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			return nil, err
		}
		return tc, nil
	}
}

// send delivers one message. After a refusal it resets the session; after
// a broken connection it marks the connection lost, and later items are
// not attempted.
func (c *smtpConn) send(ctx context.Context, it *store.OutboxItem, m *mail.Msg) error {
	op := itemOp(it)
	if c.lost != nil {
		return notAttempted(op, c.lost)
	}
	if err := ctx.Err(); err != nil {
		c.lost = err
		return notAttempted(op, err)
	}
	err := c.client.Send(m)
	if err == nil {
		return nil
	}
	if m.IsDelivered() {
		// The server accepted the data; only go-mail's RSET after it
		// failed. The mail is sent, the connection is not to be trusted.
		c.lost = fmt.Errorf("the connection broke after %s: %w", op, err)
		return nil
	}
	de := sendError(op, err)
	if de.lost && ctx.Err() != nil {
		// Closing the connection on cancellation is what broke it.
		de = &DeliveryError{Op: op, Err: fmt.Errorf("%w (%v)", ctx.Err(), err), class: classTemporary, lost: true}
	}
	if de.lost {
		c.lost = fmt.Errorf("the connection broke: %w", de)
		return de
	}
	c.reset()
	return de
}

// reset sends RSET (RFC 5321 §4.1.1.5) after a refused item. go-mail
// resets after a refused MAIL or RCPT but not after a refused DATA
// command, which leaves the transaction open: the next MAIL FROM would be
// refused as a nested transaction.
func (c *smtpConn) reset() {
	if err := c.client.Reset(); err != nil {
		c.lost = fmt.Errorf("resetting the SMTP session: %w", err)
	}
}

// close ends the session with QUIT (RFC 5321 §4.1.1.10) when the
// connection is still good, and closes it in any case.
func (c *smtpConn) close() {
	if c.lost == nil {
		_ = c.client.Close()
	}
	c.abort()
}

func (c *smtpConn) abort() {
	if c.stop != nil {
		c.stop()
	}
	if c.raw != nil {
		_ = c.raw.Close()
	}
}

// DeliveryError is the failure of one item, or of the connection it was
// to go over, with its classification.
type DeliveryError struct {
	Op     string // what was being done
	Code   int    // SMTP reply code (RFC 5321 §4.2); 0 when the server sent none
	Status string // enhanced status code (RFC 3463), e.g. "5.1.1", when sent
	Err    error
	class  errorClass
	lost   bool // the connection cannot carry more items
}

func (e *DeliveryError) Error() string { return e.Op + ": " + e.Err.Error() }

func (e *DeliveryError) Unwrap() error { return e.Err }

// errorClass is what the sender should do about an error.
type errorClass int

const (
	classNone      errorClass = iota // not an error
	classPermanent                   // give up on the item
	classTemporary                   // try the item again later
	classConfig                      // ours to fix; retrying as is will not help
)

// Temporary reports whether err is worth retrying later: network errors,
// timeouts, a dropped connection, TLS handshake timeouts, any SMTP 4xx
// reply (421 included), 552 to RCPT (RFC 5321 §4.5.3.1.10), a cancelled
// context, items not attempted because the connection was lost, and
// errors of other transports that declare themselves Temporary.
//
// Permanent (neither Temporary nor IsConfigError): a 5xx reply about the
// item — 550 unknown recipient, 554 refused message, 552 message too big —
// and a recipient address that cannot be written.
func Temporary(err error) bool {
	return classOf(err) == classTemporary
}

// IsConfigError reports whether err is a problem of our setup rather than
// of the item: authentication refused (RFC 4954 §6: 535, 534, 538, 530),
// certificate verification failed, TLS where the server speaks none, the
// server lacking STARTTLS or the configured AUTH, an unknown host name, a
// 5xx to the greeting, EHLO or MAIL FROM (our sender is refused), relaying
// denied, a command the server does not take (500, 502, 503, 504), a bad
// configuration, or an item whose own From, Message-ID or Date is
// invalid. Such errors are not Temporary — retrying with wrong
// credentials locks accounts — but no item should be failed for them
// either: the mail waits until someone fixes the setup.
func IsConfigError(err error) bool {
	return classOf(err) == classConfig
}

func classOf(err error) errorClass {
	if err == nil {
		return classNone
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.class
	}
	switch {
	case isCertificateError(err):
		return classConfig
	case isContextError(err), isNetworkError(err), saysTemporary(err):
		return classTemporary
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return replyClass(stageData, te.Code, te.Msg)
	}
	return classPermanent
}

// notAttempted is the error of an item that was never sent because of
// cause. It is never permanent: nothing was refused about the item.
func notAttempted(op string, cause error) error {
	class := classOf(cause)
	if class != classConfig {
		class = classTemporary
	}
	return &DeliveryError{Op: op, Err: fmt.Errorf("not attempted: %w", cause), class: class, lost: true}
}

// connectError classifies a failure to connect, greet, start TLS or
// authenticate. What is not a network problem or a 4xx reply there is a
// mismatch between our configuration and the server.
func connectError(ctx context.Context, op string, err error) *DeliveryError {
	de := &DeliveryError{Op: op, Err: err, class: classConfig, lost: true}
	var te *textproto.Error
	switch {
	case ctx.Err() != nil:
		de.Err, de.class = fmt.Errorf("%w (%v)", ctx.Err(), err), classTemporary
	case isCertificateError(err):
		de.Err = fmt.Errorf("verifying the server certificate: %w", err)
	case isUnknownHost(err):
		// A misspelt host name waits for a fix like a wrong password.
	case isNetworkError(err):
		de.class = classTemporary
	case errors.As(err, &te):
		de.Code, de.Status = te.Code, enhancedStatus(te.Msg)
		de.class = replyClass(stageSession, te.Code, te.Msg)
	}
	return de
}

// SMTP stages a reply is classified by.
type smtpStage int

const (
	stageSession smtpStage = iota // greeting, EHLO, STARTTLS, AUTH
	stageMail                     // MAIL FROM
	stageRcpt                     // RCPT TO
	stageData                     // DATA, the message, the final reply
)

// replyClass classifies an SMTP reply code (RFC 5321 §4.2.1) given at
// stage, with text the rest of the reply.
func replyClass(stage smtpStage, code int, text string) errorClass {
	switch {
	case code >= 400 && code < 500:
		return classTemporary // 421 included: the server closes, try later
	case code == 530 || code == 534 || code == 535 || code == 538:
		return classConfig // RFC 4954 §6: authentication required, too weak, invalid, encryption required
	case code == 500 || code == 502 || code == 503 || code == 504:
		return classConfig // RFC 5321 §4.2.2: the dialogue went wrong, not the item (501 can be the address)
	case code < 500 || code > 599:
		return classTemporary // not a refusal SMTP defines; do not lose the item
	case stage == stageSession || stage == stageMail:
		return classConfig // the server refuses us or our sender, not this item
	case stage == stageRcpt && code == 552:
		return classTemporary // RFC 5321 §4.5.3.1.10: treat as 452
	case stage == stageRcpt && relayDenied(text):
		return classConfig // we are not allowed to send out: every recipient would fail
	}
	return classPermanent
}

// relayDenied recognises a refusal to relay (Postfix "Relay access
// denied", Exchange "Unable to relay", 5.7.54): a missing login or a
// wrong server, never the recipient's fault.
func relayDenied(text string) bool {
	t := strings.ToLower(text)
	return strings.Contains(t, "relay") && (strings.Contains(t, "denied") || strings.Contains(t, "unable") ||
		strings.Contains(t, "not permitted") || strings.Contains(t, "5.7.54"))
}

// sendError classifies go-mail's error for one message. go-mail's own
// SendError.IsTemp only looks for a 4xx reply and calls a dropped
// connection permanent, so the class is decided here.
func sendError(op string, err error) *DeliveryError {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return &DeliveryError{Op: op, Err: err, class: classTemporary, lost: true}
	}
	de := &DeliveryError{Op: op, Err: err, Code: se.ErrorCode(), Status: se.EnhancedStatusCode()}
	if de.Status == "" {
		de.Status = enhancedStatus(replyText(err, de.Code))
	}
	switch se.Reason {
	case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
		de.class = classConfig // the composed message itself is unusable
		return de
	}
	if de.Code == 0 || de.Code == 421 {
		// No reply at all: the connection broke. 421: the server is
		// closing it (RFC 5321 §3.8).
		de.class, de.lost = classTemporary, true
		return de
	}
	de.class = replyClass(stageOf(se.Reason), de.Code, err.Error())
	return de
}

func stageOf(r mail.SendErrReason) smtpStage {
	switch r {
	case mail.ErrSMTPMailFrom:
		return stageMail
	case mail.ErrSMTPRcptTo:
		return stageRcpt
	}
	return stageData
}

// replyText is the part of err's text from the reply code on.
func replyText(err error, code int) string {
	s := err.Error()
	if code == 0 {
		return s
	}
	if i := strings.Index(s, strconv.Itoa(code)+" "); i >= 0 {
		return s[i:]
	}
	return s
}

// enhancedStatus finds an RFC 3463 status code ("5.1.1") at the start of
// a reply's text, after its reply code; net/textproto quotes the text in
// its errors.
func enhancedStatus(text string) string {
	f := strings.Fields(text)
	for _, w := range f[:min(len(f), 2)] {
		if w = strings.TrimLeft(w, `"`); isEnhancedStatus(w) {
			return w
		}
	}
	return ""
}

func isEnhancedStatus(w string) bool {
	parts := strings.Split(w, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.ContainsAny(parts[0], "245") {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isNetworkError recognises a failed or dropped connection: refused,
// reset, timed out (TLS handshake timeouts included), closed.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// saysTemporary honours an error of another transport that declares
// itself temporary, the convention net.Error started.
func saysTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func isUnknownHost(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// isCertificateError recognises a server certificate that failed
// verification: a configuration problem (wrong host name, private CA), not
// something that passes by waiting.
func isCertificateError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &he) || errors.As(err, &cie)
}
