package mailtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MailStackInstallHint is the command that installs what StartMailStack
// needs (Debian). Preseed Postfix's debconf question first, or the package
// asks it (or sets up a system mailer):
//
//	printf 'postfix postfix/main_mailer_type select No configuration\n' | debconf-set-selections
const MailStackInstallHint = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd dovecot-sieve postfix"

// Postfix is a running private Postfix instance that delivers into a
// Dovecot by LMTP. Start it with StartMailStack.
//
// Ports:
//   - SMTPAddr, like port 25: no AUTH; clients on 127.0.0.0/8 (mynetworks)
//     may send from any envelope sender, including <>; recipients of the
//     stack's domains must be users (others get 550 5.1.1 at RCPT); other
//     domains are accepted and bounced (nothing leaves).
//   - SubmissionAddr: AUTH PLAIN or LOGIN required (Dovecot's users and
//     passwords), in plaintext, without TLS; any envelope sender (no check
//     against the login); unknown recipients of the stack's domains are
//     accepted, so that Postfix bounces them: a real DSN to the envelope
//     sender.
type Postfix struct {
	Host           string // "127.0.0.1"
	SMTPPort       int
	SMTPAddr       string // Host:SMTPPort, plain SMTP
	SubmissionPort int
	SubmissionAddr string // Host:SubmissionPort, SMTP with AUTH required

	Domain string // the domain given to StartMailStack
	// AuthservID is the authserv-id of the Authentication-Results header
	// Postfix adds to mail from an authenticated submission whose From is
	// in Domain (dkim=pass and dmarc=pass, as a DMARC-checking receiving
	// server would); any such header arriving from outside is removed.
	AuthservID string
	Dir        string // temp dir holding config, queue and log
	LogPath    string // Postfix's log (maillog_file)

	configDir string // main.cf, master.cf, vmailbox
	queueDir  string
	stderr    string // the master's stdout/stderr
	banner    string // in smtpd_banner, unique to this instance
	master    string // path of Postfix's master daemon
	dovecot   *Dovecot
	domains   []string // virtual_mailbox_domains: Domain and the users' domains

	mu     sync.Mutex
	cmd    *exec.Cmd     // the master, nil when stopped
	exited chan struct{} // closed when cmd has been reaped
}

// StartMailStack starts a Dovecot and a Postfix that delivers into it, for
// one test, and stops both with t.Cleanup. It returns once Dovecot's IMAP
// port and both of Postfix's SMTP ports greet.
//
// Postfix delivers the users' mail (domain, and the domains of users outside
// it) to Dovecot by LMTP and nothing anywhere else: mail for other domains
// is bounced (default_transport = error). The recipient delimiter is "+" in
// both, so "claims+b-42@example.test" is delivered to claims@example.test's
// INBOX: bounces to a VERP envelope sender arrive there, with the full
// address in Delivered-To. Deferred mail (Dovecot stopped) is retried every
// second or two.
//
// Dovecot runs Sieve at LMTP delivery (see SetVacation); its replies go
// through Postfix's plain SMTP port with the null envelope sender.
//
// Postfix runs as root only: without root, or without Dovecot, Pigeonhole or
// Postfix installed, StartMailStack skips the test, or fails it when $CI is
// set.
func StartMailStack(t testing.TB, domain string, users ...User) (*Dovecot, *Postfix) {
	t.Helper()
	dovecotBin, master := requireMailStack(t)
	if err := checkDomain(domain); err != nil {
		t.Fatalf("mailtest: StartMailStack: %v", err)
	}
	domains := []string{strings.ToLower(domain)}
	for _, u := range users {
		local, dom, ok := strings.Cut(u.Name, "@")
		switch {
		case !ok || local == "" || checkDomain(dom) != nil:
			t.Fatalf("mailtest: StartMailStack: user %q: not an address local@domain", u.Name)
		case strings.Contains(local, "+"):
			t.Fatalf("mailtest: StartMailStack: user %q: + is the recipient delimiter", u.Name)
		}
		if dom = strings.ToLower(dom); !slices.Contains(domains, dom) {
			domains = append(domains, dom)
		}
	}

	d := newDovecot(t, users)
	p := &Postfix{
		Host:    "127.0.0.1",
		Domain:  domain,
		banner:  fmt.Sprintf("mailtest-%08x", rand.Uint32()),
		master:  master,
		dovecot: d,
		domains: domains,
	}
	p.Dir = tempDir(t, "mailtest-postfix-")
	p.configDir = filepath.Join(p.Dir, "etc")
	p.queueDir = filepath.Join(p.Dir, "queue")
	p.LogPath = filepath.Join(p.Dir, "log", "postfix.log")
	p.stderr = filepath.Join(p.Dir, "log", "postfix.stderr")
	if err := p.makeDirs(); err != nil {
		t.Fatalf("mailtest: StartMailStack: %v", err)
	}
	// After Dovecot's: cleanups run last first, so Postfix stops first and
	// does not log deliveries failing against a stopped Dovecot.
	t.Cleanup(func() {
		if t.Failed() {
			// What the servers saw is usually what explains a failed
			// end-to-end test; the directories are gone afterwards.
			t.Logf("mailtest: the test failed; the mail stack's logs:\n%s\n%s", p.LogTail(40), d.LogTail(40))
		}
		if err := p.stop(); err != nil {
			t.Errorf("mailtest: stopping Postfix: %v", err)
		}
	})

	// Each needs the other's ports: Dovecot sends vacation replies to
	// Postfix's SMTP port, Postfix delivers to Dovecot's LMTP port and
	// asks its auth port. So pick all five, write both configs, start
	// both; a port taken meanwhile by a parallel test means all again.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var ports []int
		if ports, err = freePorts(d.Host, 5); err != nil {
			break
		}
		d.setPorts(ports[:3])
		p.setPorts(ports[3:])
		d.submissionHost, d.hostname = p.SMTPAddr, p.hostname()
		p.AuthservID = p.hostname()
		if err = d.writeConfig(); err != nil {
			break
		}
		if err = p.writeConfig(); err != nil {
			break
		}
		// Dovecot first: the submission port's smtpd exits when Dovecot's
		// auth does not answer, and the master then waits before it
		// tries again (service_throttle_time).
		if err = d.start(dovecotBin); err == nil {
			if err = p.start(); err == nil {
				return d, p
			}
		}
		stopErr := errors.Join(p.stop(), d.stop())
		if !errors.Is(err, errAddrInUse) || stopErr != nil {
			err = errors.Join(err, stopErr)
			break
		}
	}
	t.Fatalf("mailtest: StartMailStack: %v", err)
	return nil, nil
}

// requireMailStack finds Dovecot, Pigeonhole and Postfix, and root, or skips
// (fails on CI) the test. It returns the paths of dovecot and of Postfix's
// master daemon.
func requireMailStack(t testing.TB) (dovecotBin, master string) {
	t.Helper()
	const what = "Dovecot, Pigeonhole Sieve and Postfix"
	var err error
	dovecotBin, err = dovecotBinary("dovecot")
	for _, name := range []string{"doveadm", "postconf", "postqueue"} {
		if err == nil {
			_, err = findBinary(name)
		}
	}
	if err == nil {
		err = findSievePlugin()
	}
	if err == nil {
		master, err = postfixMaster()
	}
	if err != nil {
		missingDependency(t, err, what, MailStackInstallHint)
	}
	if os.Geteuid() != 0 {
		err := errors.New("Postfix's master daemon runs only as root")
		if os.Getenv("CI") != "" {
			t.Fatalf("mailtest: %v (CI is set, so this fails)", err)
		}
		t.Skipf("mailtest: %v; run this test as root", err)
	}
	return dovecotBin, master
}

// dovecotModuleDirs are where distributions put Dovecot's plugins.
var dovecotModuleDirs = []string{"/usr/lib/dovecot/modules", "/usr/lib64/dovecot", "/usr/local/lib/dovecot", "/opt/homebrew/lib/dovecot"}

// findSievePlugin checks that Pigeonhole's plugin is installed where Dovecot
// keeps its plugins. Where no such directory exists it says nothing: Dovecot
// itself reports a missing plugin on start.
func findSievePlugin() error {
	var dirs []string
	for _, dir := range dovecotModuleDirs {
		if dirExists(dir) {
			dirs = append(dirs, dir)
			if _, err := os.Stat(filepath.Join(dir, "lib90_sieve_plugin.so")); err == nil {
				return nil
			}
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	return fmt.Errorf("no Sieve plugin (lib90_sieve_plugin.so) in %s: Pigeonhole is not installed", strings.Join(dirs, ", "))
}

// postfixMaster returns the path of Postfix's master daemon, which lives in
// its daemon_directory, not on $PATH.
func postfixMaster() (string, error) {
	bin, err := findBinary("postfix")
	if err != nil {
		return "", err
	}
	postconf, err := findBinary("postconf")
	if err != nil {
		return "", err
	}
	// -d: the compiled-in default; the system may have no main.cf.
	out, err := exec.Command(postconf, "-d", "-h", "daemon_directory").Output()
	if err != nil {
		return "", fmt.Errorf("%s -d -h daemon_directory: %v", postconf, err)
	}
	master := filepath.Join(strings.TrimSpace(string(out)), "master")
	if fi, err := os.Stat(master); err != nil || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("Postfix's master daemon not found at %s (postfix is %s)", master, bin)
	}
	return master, nil
}

func checkDomain(domain string) error {
	if domain == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.ContainsFunc(domain, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.')
		}) {
		return fmt.Errorf("domain %q: want a dotted domain name of letters, digits and -", domain)
	}
	return nil
}

// makeDirs creates the config dir and the queue as "postfix check" would:
// owners and modes from Postfix's postfix-files. (Doing it here saves the
// ~0.4 s of postfix check.)
func (p *Postfix) makeDirs() error {
	owner, err := user.Lookup("postfix") // mail_owner
	if err != nil {
		return fmt.Errorf("Postfix's mail_owner: %v", err)
	}
	group, err := user.LookupGroup("postdrop") // setgid_group
	if err != nil {
		return fmt.Errorf("Postfix's setgid_group: %v", err)
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(group.Gid)
	dirs := []struct {
		name     string
		uid, gid int
		mode     os.FileMode
	}{
		{"etc", 0, 0, 0o755},
		{"log", 0, 0, 0o755},
		{"data", uid, 0, 0o700},
		{"queue", 0, 0, 0o755},
		{"queue/pid", 0, 0, 0o755},
		{"queue/maildrop", uid, gid, 0o730},
		{"queue/public", uid, gid, 0o710},
	}
	for _, q := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		dirs = append(dirs, struct {
			name     string
			uid, gid int
			mode     os.FileMode
		}{"queue/" + q, uid, 0, 0o700})
	}
	for _, dir := range dirs {
		path := filepath.Join(p.Dir, dir.name)
		if err := os.Mkdir(path, dir.mode); err != nil {
			return err
		}
		// Mkdir applies the umask; the modes must be exact (maildrop).
		if err := os.Chmod(path, dir.mode); err != nil {
			return err
		}
		if err := os.Lchown(path, dir.uid, dir.gid); err != nil {
			return err
		}
	}
	return nil
}

// hostname is Postfix's myhostname, and Dovecot's hostname: the host part
// of MAILER-DAEMON's address in bounces.
func (p *Postfix) hostname() string { return "mx." + strings.ToLower(p.Domain) }

// setPorts sets the plain SMTP and the submission port, in that order.
func (p *Postfix) setPorts(ports []int) {
	p.SMTPPort, p.SubmissionPort = ports[0], ports[1]
	p.SMTPAddr = net.JoinHostPort(p.Host, strconv.Itoa(p.SMTPPort))
	p.SubmissionAddr = net.JoinHostPort(p.Host, strconv.Itoa(p.SubmissionPort))
}

func (p *Postfix) writeConfig() error {
	d := p.dovecot
	var vmailbox strings.Builder
	for _, name := range slices.Sorted(maps.Keys(d.users)) {
		fmt.Fprintf(&vmailbox, "%s OK\n", strings.ToLower(name))
	}
	logDir := filepath.Dir(p.LogPath)
	mainCF := fmt.Sprintf(`# Written by mailtest.StartMailStack for one test.
compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
maillog_file = %[3]s
maillog_file_prefixes = %[4]s
myhostname = %[12]s
mydomain = %[5]s
myorigin = $myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = %[6]s
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_banner = $myhostname ESMTP %[7]s
biff = no
# Dovecot 2.3's LMTP does not offer SMTPUTF8, so Postfix would bounce every
# mail whose client asked for it (Go's net/smtp does whenever it is offered)
# with "5.6.7 SMTPUTF8 is required". Not offered, clients send UTF-8 headers
# as plain 8-bit mail, which goes through.
smtputf8_enable = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none

# Delivery: the users' domains to Dovecot by LMTP, nothing anywhere else.
virtual_mailbox_domains = %[8]s
virtual_mailbox_maps = texthash:%[9]s
virtual_transport = lmtp:inet:%[10]s
default_transport = error:5.7.1 mailtest: no mail leaves this test's mail stack
recipient_delimiter = +

# AUTH on the submission port, by Dovecot.
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:%[11]s
smtpd_sasl_security_options = noanonymous

# Like a real receiving server with DKIM/DMARC checks: an
# Authentication-Results header with our authserv-id is added only to mail
# from an authenticated submission (cleanup_sub), and one arriving from
# outside with our id is removed (a forger's).
header_checks = regexp:%[13]s

# Fast tests: quick retries, no throttling, no penalties.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 1000
service_throttle_time = 1s
`, p.queueDir, filepath.Join(p.Dir, "data"), p.LogPath, logDir, strings.ToLower(p.Domain), p.Host, p.banner,
		strings.Join(p.domains, " "), filepath.Join(p.configDir, "vmailbox"), d.LMTPAddr, d.AuthAddr, p.hostname(),
		filepath.Join(p.configDir, "strip_ar"))

	// No chroot (column 5 "n"): the daemons read the config and queue
	// where they are.
	masterCF := fmt.Sprintf(`# Written by mailtest.StartMailStack for one test.
# service type  private unpriv  chroot  wakeup  maxproc command + args
%[1]s inet n - n - - smtpd
%[2]s inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=
  -o smtpd_reject_unlisted_recipient=no
  -o cleanup_service_name=cleanup_sub
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
cleanup_sub unix n - n -     0 cleanup
  -o header_checks=regexp:%[3]s
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
`, p.SMTPAddr, p.SubmissionAddr, filepath.Join(p.configDir, "stamp_ar"))

	id := regexp.QuoteMeta(p.AuthservID)
	dom := regexp.QuoteMeta(strings.ToLower(p.Domain))
	stripAR := fmt.Sprintf("/^Authentication-Results:[[:space:]]*%s([[:space:];]|$)/ IGNORE\n", id)
	stampAR := stripAR + fmt.Sprintf("/^From:.*@%s>?[[:space:]]*$/ PREPEND Authentication-Results: %s; dkim=pass header.d=%s; dmarc=pass (mailtest: authenticated submission) header.from=%s\n",
		dom, p.AuthservID, strings.ToLower(p.Domain), strings.ToLower(p.Domain))

	// Postfix treats a main.cf changed in the last few seconds as not yet
	// settled and re-reads it, costing ~2 s per start: date them back.
	past := time.Now().Add(-time.Hour)
	for name, text := range map[string]string{"main.cf": mainCF, "master.cf": masterCF, "vmailbox": vmailbox.String(),
		"strip_ar": stripAR, "stamp_ar": stampAR} {
		path := filepath.Join(p.configDir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(path, past, past); err != nil {
			return err
		}
	}
	return nil
}

// Start starts a Postfix stopped by Stop again, on the same ports, with the
// same queue: mail queued before Stop is delivered after Start. It returns
// once the SMTP port greets, and the submission port too unless Dovecot is
// stopped: the submission smtpd needs Dovecot's auth, and without it drops
// each connection and is restarted only after a second (Postfix's service
// throttling), so start Dovecot first.
func (p *Postfix) Start(t testing.TB) {
	t.Helper()
	if err := startWhileAddrInUse(p.start); err != nil {
		t.Fatalf("mailtest: starting Postfix: %v", err)
	}
}

// Stop stops Postfix (for outage tests): its ports then refuse connections,
// and connected clients lose theirs. Queued mail stays queued. Stopping a
// stopped Postfix does nothing.
func (p *Postfix) Stop(t testing.TB) {
	t.Helper()
	if err := p.stop(); err != nil {
		t.Fatalf("mailtest: stopping Postfix: %v", err)
	}
}

// Queue returns the output of postqueue -p: "Mail queue is empty", or a
// listing of the queued messages with the reasons for deferral.
func (p *Postfix) Queue(t testing.TB) string {
	t.Helper()
	out, err := p.queue()
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	return out
}

func (p *Postfix) queue() (string, error) {
	bin, err := findBinary("postqueue")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-c", p.configDir, "-p")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // stdin is /dev/null
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("postqueue -p: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// WaitQueueEmpty waits until Postfix's queue is empty, failing the test
// after timeout with the queue and the log. An empty queue means every mail
// accepted so far has been delivered to Dovecot or bounced, and the bounces
// and vacation replies that caused have been delivered too (Dovecot sends
// a vacation reply, and Postfix queues a bounce, before the message that
// caused it leaves the queue).
func (p *Postfix) WaitQueueEmpty(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for empty := 0; ; {
		n, err := p.queued()
		if err != nil {
			t.Fatalf("mailtest: WaitQueueEmpty: %v", err)
		}
		// Empty twice: a scan misses a message that moves from a queue
		// not yet scanned to one already scanned (deferred to active,
		// on a retry).
		if n == 0 {
			if empty++; empty == 2 {
				return
			}
			time.Sleep(2 * time.Millisecond)
			continue
		}
		empty = 0
		if time.Now().After(deadline) {
			q, qerr := p.queue()
			if qerr != nil {
				q += qerr.Error()
			}
			t.Fatalf("mailtest: Postfix's queue still holds %d messages after %v:\n%s\n%s", n, timeout, q, p.LogTail(20))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// queued counts the files in the queues that hold messages. Cheaper than
// postqueue -p, and it works with Postfix stopped.
func (p *Postfix) queued() (int, error) {
	n := 0
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold"} {
		err := filepath.WalkDir(filepath.Join(p.queueDir, q), func(_ string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // moved to the next queue meanwhile
				}
				return err
			}
			if !e.IsDir() {
				n++
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// LogTail returns the last n lines of Postfix's log and of the master's
// standard error, for failure messages.
func (p *Postfix) LogTail(n int) string {
	var b strings.Builder
	for _, path := range []string{p.stderr, p.LogPath} {
		data, err := os.ReadFile(path)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", path, len(lines), strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "(Postfix logged nothing)"
	}
	return b.String()
}

// start runs Postfix's master in the foreground (-d: no detaching, no
// setsid) as our child, in a process group of its own that Postfix's
// daemons stay in, so that stop can signal and reap exactly them; on Linux
// it dies with the test binary (see procattr_linux.go). Like "postfix
// start" without postfix-script's checks, which makeDirs made unnecessary.
func (p *Postfix) start() error {
	p.mu.Lock()
	running := p.cmd != nil
	p.mu.Unlock()
	if running {
		return errors.New("already running")
	}
	// A master.pid left by a killed master: harmless (the lock is what
	// counts) but misleading.
	if err := os.Remove(filepath.Join(p.queueDir, "pid", "master.pid")); err != nil && !os.IsNotExist(err) {
		return err
	}
	stderrStart, logStart := fileSize(p.stderr), fileSize(p.LogPath)
	m, err := spawnMaster(p.stderr, p.master, "-d", "-c", p.configDir)
	if err != nil {
		return err
	}
	cmd, exited := m.cmd, m.exited
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	// Ready when both ports greet with our banner: the master binds them
	// at once, the greeting needs a working smtpd. The submission port's
	// smtpd needs Dovecot's auth too: without it, it exits at once
	// ("fatal: no SASL authentication mechanisms").
	deadline := time.Now().Add(startTimeout)
	ready := map[string]bool{}
	for {
		select {
		case <-exited:
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // any child it left
			msg := fmt.Sprintf("postfix's master exited during start (%v)\n%s", m.err, p.LogTail(30))
			if strings.Contains(readFrom(p.stderr, stderrStart)+readFrom(p.LogPath, logStart), "Address already in use") {
				return fmt.Errorf("%w: %s", errAddrInUse, msg)
			}
			// The master logs a failed bind through postlogd, which it
			// has not started yet: nothing is written anywhere. Its
			// listeners are closed now, so a port still taken is taken
			// by someone else.
			for _, addr := range []string{p.SMTPAddr, p.SubmissionAddr} {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					if errors.Is(err, syscall.EADDRINUSE) {
						return fmt.Errorf("%w: %s is taken: %s", errAddrInUse, addr, msg)
					}
					continue
				}
				l.Close()
			}
			// Other early failures are silent too; postfix check may say more.
			return fmt.Errorf("%s(postfix -c %s check may say why)", msg, p.configDir)
		default:
		}
		for _, addr := range []string{p.SMTPAddr, p.SubmissionAddr} {
			if !ready[addr] {
				ready[addr] = smtpGreets(addr, p.banner)
			}
		}
		if ready[p.SMTPAddr] && (ready[p.SubmissionAddr] || !p.dovecot.running()) {
			return nil
		}
		if time.Now().After(deadline) {
			stopErr := p.stop()
			return fmt.Errorf("Postfix's ports %s and %s did not greet within %v (stop: %v)\n%s", p.SMTPAddr, p.SubmissionAddr, startTimeout, stopErr, p.LogTail(30))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop SIGTERMs the master and its process group (Postfix's master passes
// SIGTERM on to its daemons and exits) and waits until all have exited.
func (p *Postfix) stop() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	err := stopGroup("postfix", cmd.Process.Pid, filepath.Join(p.queueDir, "pid", "master.pid"), exited, p.LogTail)
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	return err
}

// smtpGreets reports whether addr answers with an SMTP greeting carrying
// banner (and not some other test's server that got the port first).
func smtpGreets(addr, banner string) bool {
	c, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	ok := err == nil && strings.HasPrefix(line, "220 ") && strings.Contains(line, banner)
	if ok {
		_, _ = c.Write([]byte("QUIT\r\n"))
	}
	return ok
}

// SetVacation installs and activates a Sieve script for user with a
// vacation action (RFC 5230): every mail that qualifies gets a reply with
// subject and body, sent from user's address to the envelope sender, with
// "Auto-Submitted: auto-replied" and the null envelope sender.
//
// Pigeonhole's rules decide what qualifies: the mail must name user's
// address in To or Cc, have an envelope sender, no Auto-Submitted other
// than "no", no Precedence bulk, list or junk, no List-Id and like headers,
// and not come from a sender like MAILER-DAEMON or owner-*. The period is
// ":seconds 0" (vacation-seconds, RFC 6131): a reply to every qualifying
// mail, not once per sender and period as real vacation scripts do, so a
// test gets the same replies however fast or slow it runs.
//
// Only a Dovecot started by StartMailStack runs Sieve.
func (d *Dovecot) SetVacation(t testing.TB, user, subject, body string) {
	t.Helper()
	if d.submissionHost == "" {
		t.Fatalf("mailtest: SetVacation: this Dovecot runs no Sieve: start it with StartMailStack")
	}
	if _, ok := d.users[user]; !ok {
		t.Fatalf("mailtest: SetVacation: unknown user %q", user)
	}
	script := fmt.Sprintf("require [\"vacation\", \"vacation-seconds\"];\r\nvacation :seconds 0 :addresses [%s] :subject %s\r\n  %s;\r\n",
		sieveString(user), sieveString(subject), sieveString(body))
	bin, err := findBinary("doveadm")
	if err != nil {
		t.Fatalf("mailtest: SetVacation: %v", err)
	}
	// doveadm sieve put compiles the script (a syntax error fails here, not
	// at delivery), stores it in the user's sieve dir and activates it.
	cmd := exec.Command(bin, "-c", d.Config, "sieve", "put", "-u", user, "-a", "vacation")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mailtest: SetVacation: doveadm sieve put: %v: %s\nscript:\n%s", err, strings.TrimSpace(stderr.String()), script)
	}
}

// sieveString quotes s as a Sieve quoted string (RFC 5228 section 2.4.2):
// backslash and double quote escaped; line breaks become CRLF.
func sieveString(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + strings.ReplaceAll(s, "\n", "\r\n") + `"`
}
