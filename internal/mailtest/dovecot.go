// Package mailtest starts real mail servers on loopback for end-to-end
// tests: Dovecot (StartDovecot), or Postfix delivering into Dovecot
// (StartMailStack).
//
// Each server is private to one test: its own config file, base_dir,
// state_dir, log and maildirs live in a temporary directory, it listens on
// 127.0.0.1 only, on free high ports, and it is stopped by t.Cleanup.
package mailtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallHint is the command that installs what StartDovecot needs (Debian).
const InstallHint = "apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd"

// Timeouts for starting and stopping a server; generous because CI machines
// have 2 cores and run test packages in parallel.
const (
	startTimeout = 20 * time.Second
	stopTimeout  = 15 * time.Second
)

// User is a mail account of a test server.
type User struct {
	Name     string // login and address, like "claims@example.test"
	Password string
}

// Dovecot is a running private Dovecot instance.
type Dovecot struct {
	Host     string // "127.0.0.1"
	IMAPPort int
	Addr     string // Host:IMAPPort, plain IMAP (ssl = no)

	LMTPPort int    // LMTP, for Postfix's virtual_transport = lmtp:inet:LMTPAddr
	LMTPAddr string // Host:LMTPPort
	AuthPort int    // auth (SASL) service, for Postfix's smtpd_sasl_type = dovecot
	AuthAddr string // Host:AuthPort, smtpd_sasl_path = inet:AuthAddr

	Dir     string // temp dir holding config, logs, maildirs
	Config  string // path of dovecot.conf
	LogPath string // Dovecot's log (errors, info)

	greeting string // login_greeting, unique to this instance
	baseDir  string // runtime sockets and master.pid; wiped before each start
	stderr   string // the master's stdout/stderr (config errors before logging starts)
	uid, gid int    // owner of the maildirs and of Dovecot's mail processes
	users    map[string]User

	// submissionHost is Postfix's plain SMTP address when StartMailStack
	// started this Dovecot: LMTP then runs Sieve, whose vacation replies
	// go there, and accepts user+detail recipients. "" for StartDovecot.
	submissionHost string
	hostname       string // Postfix's myhostname, in Received and Message-IDs

	mu     sync.Mutex
	cmd    *exec.Cmd     // the master (run in the foreground with -F), nil when stopped
	exited chan struct{} // closed when cmd has been reaped
}

// StartDovecot configures and starts a private Dovecot for one test and stops
// it with t.Cleanup. It returns once the IMAP port greets. Without Dovecot
// installed it skips the test, or fails it when $CI is set.
func StartDovecot(t testing.TB, users ...User) *Dovecot {
	t.Helper()
	dovecotBin := requireBinary(t, "dovecot")
	requireBinary(t, "doveadm")
	d := newDovecot(t, users)

	// The ports are probed free and then bound by Dovecot a moment later; a
	// parallel test may take one in between, so retry with fresh ports.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var ports []int
		if ports, err = freePorts(d.Host, 3); err != nil {
			break
		}
		d.setPorts(ports)
		if err = d.writeConfig(); err != nil {
			break
		}
		if err = d.start(dovecotBin); err == nil {
			return d
		}
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("mailtest: starting Dovecot: %v", err)
	return nil
}

// newDovecot prepares a stopped Dovecot: its directory, users and maildirs,
// and the cleanup that stops it. The caller picks ports, writes the config
// and starts it.
func newDovecot(t testing.TB, users []User) *Dovecot {
	t.Helper()
	d := &Dovecot{
		Host:     "127.0.0.1",
		users:    make(map[string]User, len(users)),
		greeting: fmt.Sprintf("Dovecot mailtest-%08x ready.", rand.Uint32()),
	}
	d.uid, d.gid = 5000, 5000
	if os.Geteuid() != 0 {
		// A developer's laptop: Dovecot cannot switch users, so everything
		// runs as, and belongs to, whoever runs the test.
		d.uid, d.gid = os.Getuid(), os.Getgid()
	}
	for _, u := range users {
		if err := checkUser(u); err != nil {
			t.Fatalf("mailtest: %v", err)
		}
		if _, dup := d.users[u.Name]; dup {
			t.Fatalf("mailtest: user %q given twice", u.Name)
		}
		d.users[u.Name] = u
	}

	d.Dir = tempDir(t, "mailtest-dovecot-")
	d.Config = filepath.Join(d.Dir, "dovecot.conf")
	d.LogPath = filepath.Join(d.Dir, "log", "dovecot.log")
	d.stderr = filepath.Join(d.Dir, "log", "dovecot.stderr")
	d.baseDir = filepath.Join(d.Dir, "run")
	for _, dir := range []string{"log", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, dir), 0o755); err != nil {
			t.Fatalf("mailtest: %v", err)
		}
	}
	if err := d.writeUsers(); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	// The home directories belong to the mail uid, or clients only see
	// "NO [SERVERBUG]" (the log says Permission denied).
	if err := d.chown(filepath.Join(d.Dir, "mail")); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	for name := range d.users {
		if _, err := d.mailboxDir(name, "INBOX", true); err != nil {
			t.Fatalf("mailtest: %v", err)
		}
	}

	// Registered before starting, so a start that fails half-way still stops
	// whatever did start; runs before t.TempDir's removal (cleanups are LIFO).
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("mailtest: stopping Dovecot: %v", err)
		}
	})
	return d
}

// Restart stops and starts the server with the same configuration, ports and
// data (for outage tests). Clients connected before lose their connections.
func (d *Dovecot) Restart(t testing.TB) {
	t.Helper()
	if err := d.stop(); err != nil {
		t.Fatalf("mailtest: stopping Dovecot: %v", err)
	}
	d.Start(t)
}

// Start starts a server stopped by Stop again, on the same ports with the
// same data.
func (d *Dovecot) Start(t testing.TB) {
	t.Helper()
	bin := requireBinary(t, "dovecot")
	if err := startWhileAddrInUse(func() error { return d.start(bin) }); err != nil {
		t.Fatalf("mailtest: starting Dovecot: %v", err)
	}
}

// startWhileAddrInUse calls start until it succeeds, fails otherwise, or
// has met a port in use for 5 s: after a stop, the old listening sockets
// may linger for a moment in exiting children.
func startWhileAddrInUse(start func() error) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := start()
		if err == nil || !errors.Is(err, errAddrInUse) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the server (for outage tests). Stopping a stopped server does
// nothing.
func (d *Dovecot) Stop(t testing.TB) {
	t.Helper()
	if err := d.stop(); err != nil {
		t.Fatalf("mailtest: stopping Dovecot: %v", err)
	}
}

// Doveadm runs doveadm against this instance and returns its standard output.
// Mail commands work whether or not the server is running. A failure fails
// the test, with doveadm's error output.
func (d *Dovecot) Doveadm(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.doveadm(args...)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	return out
}

func (d *Dovecot) doveadm(args ...string) (string, error) {
	bin, err := findBinary("doveadm")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, append([]string{"-c", d.Config}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // stdin is /dev/null
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("doveadm %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// RecreateMailbox deletes and recreates a user's mailbox so that it gets a new
// UIDVALIDITY (RFC 3501 section 2.3.1.1), empty; the caller re-delivers, and
// UIDs start again at 1, so the same UIDs name other messages than before:
// exactly what a client that ignores UIDVALIDITY gets wrong.
//
// A folder is deleted and created with doveadm. INBOX cannot be deleted
// (RFC 3501 section 6.3.4), so it is emptied with doveadm and its UID list
// and indexes are removed: Dovecot then numbers it afresh, taking a new
// UIDVALIDITY from its per-user counter, as if INBOX had been recreated.
// For INBOX the user's IMAP sessions are disconnected first (doveadm kick);
// clients that have a folder selected are dealt with by Dovecot when they
// next touch it.
func (d *Dovecot) RecreateMailbox(t testing.TB, user, mailbox string) {
	t.Helper()
	if _, ok := d.users[user]; !ok {
		t.Fatalf("mailtest: RecreateMailbox: unknown user %q", user)
	}
	if !isInbox(mailbox) {
		// A folder that exists only on disk (DeliverMaildir) is known to
		// Dovecot already: it finds Maildir++ folders by listing.
		if _, err := d.doveadm("mailbox", "delete", "-u", user, mailbox); err != nil && !strings.Contains(err.Error(), "doesn't exist") {
			t.Fatalf("mailtest: RecreateMailbox: %v", err)
		}
		d.Doveadm(t, "mailbox", "create", "-u", user, mailbox)
		return
	}
	old := d.uidValidity(t, user, "INBOX")
	// Sessions would keep the old index open and, once they see the new
	// one, log "duplicate transaction log sequence": disconnect them first,
	// as a server whose admin recreates INBOX would.
	if d.running() {
		d.kick(t, user)
	}
	d.Doveadm(t, "expunge", "-u", user, "mailbox", "INBOX", "all")
	dir, err := d.mailboxDir(user, "INBOX", false)
	if err != nil {
		t.Fatalf("mailtest: RecreateMailbox: %v", err)
	}
	// dovecot-uidlist holds UIDVALIDITY and the next UID; dovecot.index*
	// cache them. The mailbox list index (dovecot.list.index*) caches them
	// for STATUS and is rebuilt from the mailboxes themselves.
	for _, pattern := range []string{"dovecot-uidlist", "dovecot.index*", "dovecot.list.index*"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, m := range matches {
			if err := os.Remove(m); err != nil && !os.IsNotExist(err) {
				t.Fatalf("mailtest: RecreateMailbox: %v", err)
			}
		}
	}
	if got := d.uidValidity(t, user, "INBOX"); got == old {
		t.Fatalf("mailtest: RecreateMailbox: INBOX of %s kept UIDVALIDITY %d", user, old)
	}
}

// kick disconnects a user's IMAP sessions and waits until they are gone.
func (d *Dovecot) kick(t testing.TB, user string) {
	t.Helper()
	if _, err := d.doveadm("kick", user); err != nil && !strings.Contains(err.Error(), "exit status 68") {
		// 68 (EX_NOUSER): the user had no sessions.
		t.Fatalf("mailtest: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := d.doveadm("who", "-1", user)
		if err == nil && !strings.Contains(out, user) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailtest: sessions of %s still there 5 s after doveadm kick: %q %v", user, out, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *Dovecot) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmd != nil
}

func (d *Dovecot) uidValidity(t testing.TB, user, mailbox string) uint32 {
	t.Helper()
	// The flow format prints "MAILBOX uidvalidity=N".
	out := d.Doveadm(t, "-f", "flow", "mailbox", "status", "-u", user, "uidvalidity", mailbox)
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "uidvalidity="); ok {
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				return uint32(n)
			}
		}
	}
	t.Fatalf("mailtest: doveadm mailbox status: unexpected output %q", out)
	return 0
}

// LogTail returns the last n lines of Dovecot's log and of the master's
// standard error, for failure messages.
func (d *Dovecot) LogTail(n int) string {
	var b strings.Builder
	for _, p := range []string{d.stderr, d.LogPath} {
		data, err := os.ReadFile(p)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", p, len(lines), strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "(Dovecot logged nothing)"
	}
	return b.String()
}

var errAddrInUse = errors.New("address already in use")

// start runs the master in the foreground (-F) as our child, so that it can
// be reaped, in a process group of its own, and on Linux dies with the test
// binary (see procattr_linux.go).
func (d *Dovecot) start(bin string) error {
	d.mu.Lock()
	running := d.cmd != nil
	d.mu.Unlock()
	if running {
		return errors.New("already running")
	}
	// Stale sockets and a stale master.pid in base_dir stop Dovecot from
	// starting.
	if err := os.RemoveAll(d.baseDir); err != nil {
		return err
	}
	if err := os.MkdirAll(d.baseDir, 0o755); err != nil {
		return err
	}
	stderrStart, logStart := fileSize(d.stderr), fileSize(d.LogPath)
	m, err := spawnMaster(d.stderr, bin, "-F", "-c", d.Config)
	if err != nil {
		return err
	}
	cmd, exited := m.cmd, m.exited
	d.mu.Lock()
	d.cmd, d.exited = cmd, exited
	d.mu.Unlock()

	// Ready when the IMAP port greets: the port accepts as soon as the master
	// has bound it, the greeting needs a working imap-login and auth.
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			d.mu.Lock()
			d.cmd = nil
			d.mu.Unlock()
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // any child it left
			msg := fmt.Sprintf("dovecot exited during start (%v)\n%s", m.err, d.LogTail(30))
			if strings.Contains(readFrom(d.stderr, stderrStart)+readFrom(d.LogPath, logStart), "Address already in use") {
				return fmt.Errorf("%w: %s", errAddrInUse, msg)
			}
			return errors.New(msg)
		default:
		}
		if greets(d.Addr, d.greeting) {
			return nil
		}
		if time.Now().After(deadline) {
			stopErr := d.stop()
			return fmt.Errorf("IMAP port %s did not greet within %v (stop: %v)\n%s", d.Addr, startTimeout, stopErr, d.LogTail(30))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// master is a server's master process we started.
type master struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
	err    error         // cmd.Wait's error, once exited is closed
}

// spawnMaster starts bin in its own process group with its output
// appended to logPath. Never pipes: the daemons' children inherit them and
// keep them open, so a caller reading to EOF would hang. Stdin nil is
// /dev/null.
func spawnMaster(logPath, bin string, args ...string) (*master, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &master{cmd: cmd, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}

// stop SIGTERMs the pid in master.pid, and its process group, and waits
// until all of them have exited.
//
// The whole group, because Dovecot 2.3's master exits ~1 s after a SIGTERM
// but leaves logged-in imap processes (and the log and stats processes they
// hold on to) running and serving their clients: an outage would not be one.
// SIGTERMed together, everything is gone in ~20 ms and clients get
// "* BYE Server shutting down.". The group is ours alone: start gives the
// master a new process group (Setpgid), and Dovecot's children stay in it.
func (d *Dovecot) stop() error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	err := stopGroup("dovecot", cmd.Process.Pid, filepath.Join(d.baseDir, "master.pid"), exited, d.LogTail)
	d.mu.Lock()
	d.cmd = nil
	d.mu.Unlock()
	return err
}

// stopGroup SIGTERMs a master we started (pid, which leads its own process
// group) and its whole group, and waits until all of them have exited.
// exited is closed when the master has been reaped. A pidFile naming
// another process is reported, and ignored: we signal the master we started,
// not whatever a stale file names.
func stopGroup(name string, pid int, pidFile string, exited <-chan struct{}, logTail func(int) string) error {
	var errs []error
	if data, err := os.ReadFile(pidFile); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(data))); err != nil || p != pid {
			errs = append(errs, fmt.Errorf("%s says %q, but the %s master we started is %d", filepath.Base(pidFile), bytes.TrimSpace(data), name, pid))
		}
	}
	start := time.Now()
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	// The master sometimes finds a child not yet reaped and sleeps a whole
	// second before exiting. It holds no data: once it is all that is left
	// of the group, kill it rather than wait.
	for done := false; !done; {
		select {
		case <-exited:
			done = true
		case <-time.After(10 * time.Millisecond):
			switch {
			case time.Since(start) > stopTimeout:
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				<-exited
				done = true
				errs = append(errs, fmt.Errorf("%s (pid %d) did not exit within %v of SIGTERM; killed\n%s", name, pid, stopTimeout, logTail(20)))
			case time.Since(start) > 100*time.Millisecond && !groupAlive(pid, pid):
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	// Wait for the rest of the group: a restart must find the ports free.
	deadline := time.Now().Add(5 * time.Second)
	for groupAlive(pid, 0) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			if time.Now().After(deadline.Add(2 * time.Second)) {
				errs = append(errs, fmt.Errorf("processes of %s's group %d still running after SIGKILL", name, pid))
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// greets reports whether addr answers with our IMAP greeting (and not some
// other test's server that got the port first).
func greets(addr, greeting string) bool {
	c, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK") && strings.Contains(line, greeting)
}

// freePorts chooses n distinct free loopback ports below the kernel's
// ephemeral range, so that a port freed by Stop is not taken by some
// outgoing connection before Restart binds it again.
func freePorts(host string, n int) ([]int, error) {
	lo, hi := 20000, 32000
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if eph, err := strconv.Atoi(f[0]); err == nil && eph < hi {
				hi = eph
			}
		}
	}
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		var p int
		switch {
		case hi-lo >= 1000 && tries < 100:
			p = lo + rand.IntN(hi-lo)
		case tries < 200:
			p = 0 // let the kernel choose
		default:
			return nil, errors.New("no free loopback port found")
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		p = l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p != 0 && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// setPorts sets the IMAP, LMTP and auth ports, in that order.
func (d *Dovecot) setPorts(ports []int) {
	d.IMAPPort, d.LMTPPort, d.AuthPort = ports[0], ports[1], ports[2]
	d.Addr = net.JoinHostPort(d.Host, strconv.Itoa(d.IMAPPort))
	d.LMTPAddr = net.JoinHostPort(d.Host, strconv.Itoa(d.LMTPPort))
	d.AuthAddr = net.JoinHostPort(d.Host, strconv.Itoa(d.AuthPort))
}

func (d *Dovecot) writeUsers() error {
	// passwd-file: user:password:uid:gid:(gecos):home:(shell):extra. Without
	// uid, gid and home Dovecot reports "missing userdb info".
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(d.users)) {
		u := d.users[name]
		fmt.Fprintf(&b, "%s:{PLAIN}%s:%d:%d::%s::\n", u.Name, u.Password, d.uid, d.gid, d.home(u.Name))
	}
	// Read by the auth process, which runs as the "dovecot" user.
	return os.WriteFile(filepath.Join(d.Dir, "users"), []byte(b.String()), 0o644)
}

func (d *Dovecot) home(user string) string { return filepath.Join(d.Dir, "mail", user) }

func (d *Dovecot) writeConfig() error {
	var b strings.Builder
	// Self-contained: nothing from /etc/dovecot is read.
	fmt.Fprintf(&b, `# Written by mailtest.StartDovecot for one test.
base_dir = %[1]s
state_dir = %[2]s
log_path = %[3]s
protocols = imap lmtp
listen = %[4]s
login_greeting = %[11]s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Fast tests: a failed login would otherwise cost seconds.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
first_valid_uid = %[5]d
last_valid_uid = %[5]d
first_valid_gid = %[6]d
last_valid_gid = %[6]d
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[7]s
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[7]s
}
namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
}
protocol imap {
  # Tests open many connections per user from one address (default 10).
  mail_max_userip_connections = 1000
}
service imap-login {
  inet_listener imap {
    address = %[4]s
    port = %[8]d
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = %[4]s
    port = %[9]d
  }
}
service auth {
  inet_listener auth-client-inet {
    address = %[4]s
    port = %[10]d
  }
}
service anvil {
  # No penalty for failed logins.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`, d.baseDir, filepath.Join(d.Dir, "state"), d.LogPath, d.Host, d.uid, d.gid,
		filepath.Join(d.Dir, "users"), d.IMAPPort, d.LMTPPort, d.AuthPort, d.greeting)
	if d.submissionHost != "" {
		// StartMailStack: Postfix delivers by LMTP, VERP style with
		// "user+detail@domain" recipients, which go to user's INBOX; Sieve
		// (Pigeonhole) runs at delivery, and its vacation replies are
		// sent through Postfix's plain SMTP port, with a null envelope
		// sender. Vacation periods down to ":seconds 0" (reply every time)
		// are allowed, so repeated tests behave the same.
		fmt.Fprintf(&b, `hostname = %[2]s
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
submission_host = %[1]s
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_extensions = +vacation-seconds
  sieve_vacation_min_period = 0
}
`, d.submissionHost, d.hostname)
	}
	if os.Geteuid() != 0 {
		// Without root Dovecot can neither switch users, nor chown its
		// sockets to the dovecot group, nor chroot.
		me, group, err := currentUserGroup()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, `default_internal_user = %[1]s
default_internal_group = %[2]s
default_login_user = %[1]s
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
`, me, group)
	}
	return os.WriteFile(d.Config, []byte(b.String()), 0o644)
}

func (d *Dovecot) chown(path string) error {
	if os.Geteuid() != 0 {
		return nil // already ours
	}
	return os.Lchown(path, d.uid, d.gid)
}

// tempDir returns the directory for one server: t.TempDir(), opened up so
// that the servers' unprivileged processes (Dovecot's, Postfix's) can reach
// the files in it. prefix names the directories tempDir makes itself.
//
// $MAILTEST_TMPDIR, when set, is used instead (make test points it at
// /dev/shm: on the project's VMs creating a file in /tmp costs ~0.4 ms, which
// caps maildir loading at 2,000-5,000 msg/s; tmpfs does ~40,000). So is a
// short directory of our own when t.TempDir() is too long for the unix
// sockets in base_dir (sun_path is 108 bytes) or has characters that
// Dovecot's config or the passwd-file would interpret (%, :, spaces).
func tempDir(t testing.TB, prefix string) string {
	t.Helper()
	own := func(base string) string {
		dir, err := os.MkdirTemp(base, prefix)
		if err != nil {
			t.Fatalf("mailtest: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	var dir string
	if base := os.Getenv("MAILTEST_TMPDIR"); base != "" {
		dir = own(base)
	} else if dir = t.TempDir(); len(dir) > 60 || strings.ContainsFunc(dir, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=@,", r))
	}) {
		dir = own("")
	} else {
		// t.TempDir's per-test parent is created 0700 and the mail uid
		// must traverse it. (Never chmod a shared parent like /tmp.)
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			t.Fatalf("mailtest: %v", err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	return dir
}

func checkUser(u User) error {
	switch {
	case u.Name == "" || strings.ContainsAny(u.Name, ":/\\ \t\r\n%") || u.Name[0] == '.':
		return fmt.Errorf("user name %q: must be non-empty, without : / \\ %% or spaces", u.Name)
	case strings.ContainsAny(u.Password, ":\r\n"):
		return fmt.Errorf("password of %q: must not contain : or line breaks", u.Name)
	}
	return nil
}

// requireBinary finds a Dovecot program or skips (fails on CI) the test.
func requireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := dovecotBinary(name)
	if err != nil {
		missingDependency(t, err, "Dovecot", InstallHint)
	}
	return p
}

// dovecotBinary finds a Dovecot program; for dovecot itself it also checks
// that the IMAP and LMTP servers are installed.
func dovecotBinary(name string) (string, error) {
	p, err := findBinary(name)
	if err == nil && name == "dovecot" {
		// Debian splits the protocols into packages; without the LMTP one
		// the master refuses "protocols = imap lmtp".
		for _, svc := range []string{"imap", "lmtp"} {
			if _, serr := os.Stat(filepath.Join(debianLibexec, svc)); serr != nil && dirExists(debianLibexec) {
				err = fmt.Errorf("%s has no %s: its package is not installed", debianLibexec, svc)
			}
		}
	}
	return p, err
}

// missingDependency skips the test, saying how to install what, or fails it
// when $CI is set: CI must run every end-to-end test.
func missingDependency(t testing.TB, err error, what, hint string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("mailtest: %v (CI is set, so this fails): install %s with `%s` (make test runs .ci/deps, which does)", err, what, hint)
	}
	t.Skipf("mailtest: %v; to run this test install %s: sudo %s", err, what, hint)
}

// debianLibexec is where Debian's Dovecot packages put the protocol servers.
var debianLibexec = "/usr/lib/dovecot"

// binaryDirs are searched after $PATH: /usr/sbin is not on a non-root user's
// PATH on Debian, and dovecot lives there.
var binaryDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/sbin", "/opt/homebrew/bin"}

func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range binaryDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in $PATH or %s", name, strings.Join(binaryDirs, ", "))
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func readFrom(p string, off int64) string {
	data, err := os.ReadFile(p)
	if err != nil || off > int64(len(data)) {
		return ""
	}
	return string(data[off:])
}

func currentUserGroup() (userName, groupName string, err error) {
	u, err := user.Current()
	if err != nil {
		return "", "", err
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return "", "", err
	}
	return u.Username, g.Name, nil
}
