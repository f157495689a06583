package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claimsd/claimsd/mailbox"
	"github.com/claimsd/claimsd/store"
)

// Build compiles cmd/claimsd (without the race detector: the suite
// measures the binary operators run) and returns its path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "claimsd")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/claimsd/claimsd/cmd/claimsd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reliability: go build cmd/claimsd: %v\n%s", err, out)
	}
	return bin
}

// Config is what a scenario sets in claimsd's configuration; the rest
// keeps claimsd's defaults.
type Config struct {
	DataDir       string
	ClaimsAddress string // default IMAPUser
	IMAPPort      int    // on 127.0.0.1, plain
	IMAPUser      string
	IMAPPassword  string
	IMAPIdle      *bool // default true
	SMTPPort      int   // 0: no smtp section (mail waits in the outbox)
	SMTPUser      string
	SMTPPassword  string
	VERP          bool
	LogLevel      string // default info
	// Extra is appended to the file: further top-level sections.
	Extra string
}

// Write writes the configuration (and the password files it names) into
// dir and returns the configuration file's path.
func (c Config) Write(t testing.TB, dir string) string {
	t.Helper()
	if c.ClaimsAddress == "" {
		c.ClaimsAddress = c.IMAPUser
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	secret := func(name, value string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\ntimezone: Europe/Warsaw\nclaims_address: %s\nlog: {level: %s}\n", c.DataDir, c.ClaimsAddress, c.LogLevel)
	idle := c.IMAPIdle == nil || *c.IMAPIdle
	fmt.Fprintf(&b, "imap:\n  host: 127.0.0.1\n  port: %d\n  security: none\n  username: %s\n  password_file: %s\n  idle: %v\n  poll_interval: 5s\n",
		c.IMAPPort, c.IMAPUser, secret("imap-password", c.IMAPPassword), idle)
	if c.SMTPPort != 0 {
		fmt.Fprintf(&b, "smtp:\n  host: 127.0.0.1\n  port: %d\n  security: none\n  from: \"Dział Reklamacji <%s>\"\n  verp: %v\n", c.SMTPPort, c.ClaimsAddress, c.VERP)
		if c.SMTPUser != "" {
			fmt.Fprintf(&b, "  username: %s\n  password_file: %s\n", c.SMTPUser, secret("smtp-password", c.SMTPPassword))
		}
	}
	b.WriteString("organization:\n  name: Sklep Testowy\n")
	b.WriteString(c.Extra)
	p := filepath.Join(dir, "claimsd.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Daemon is `claimsd run` as a process of its own, which a test can kill.
type Daemon struct {
	Bin, Config string
	LogPath     string // its standard output and error, across restarts

	t      testing.TB
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error   // Wait's error once exited is closed
	peak   memPeak // of all runs
}

// StartDaemon starts `claimsd --config cfg run`, waits until it says it
// is running (log level info or lower), and stops it (SIGTERM) when the
// test ends. A daemon that exits instead fails the test at once.
func StartDaemon(t testing.TB, bin, cfg string) *Daemon {
	t.Helper()
	d := &Daemon{Bin: bin, Config: cfg, LogPath: filepath.Join(t.TempDir(), "claimsd.log"), t: t}
	d.Start()
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("claimsd log (last 40 lines):\n%s", d.LogTail(40))
		}
	})
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(d.Log(), "claimsd running"); time.Sleep(20 * time.Millisecond) {
		d.MustBeRunning()
		if time.Now().After(deadline) {
			t.Fatalf("reliability: claimsd did not say it was running within 30 s:\n%s", d.LogTail(20))
		}
	}
	return d
}

// MustBeRunning fails the test at once when the daemon has exited by
// itself, with the end of its log.
func (d *Daemon) MustBeRunning() {
	d.t.Helper()
	if exited, err := d.Exited(); exited {
		d.t.Fatalf("reliability: claimsd exited (%v):\n%s", err, d.LogTail(20))
	}
}

// Start starts the daemon again after Kill or Stop.
func (d *Daemon) Start() {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		d.t.Fatal("reliability: daemon already running")
	}
	logf, err := os.OpenFile(d.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(d.Bin, "--config", d.Config, "run")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("reliability: start claimsd: %v", err)
	}
	exited, waited := make(chan struct{}), make(chan struct{})
	peak := samplePeak(cmd.Process.Pid, waited)
	go func() {
		err := cmd.Wait()
		close(waited)
		p := peak()
		d.mu.Lock()
		d.err = err
		d.peak.hwm, d.peak.anon = max(d.peak.hwm, p.hwm), max(d.peak.anon, p.anon)
		d.mu.Unlock()
		close(exited)
	}()
	d.cmd, d.exited = cmd, exited
}

// Kill kills the daemon with SIGKILL and waits for it.
func (d *Daemon) Kill() { d.signal(syscall.SIGKILL, 10*time.Second) }

// Stop asks the daemon to stop (SIGTERM) and waits for it; one that does
// not stop within 30 s is killed and fails the test. Stopping a stopped
// daemon does nothing.
func (d *Daemon) Stop() {
	d.t.Helper()
	if !d.signal(syscall.SIGTERM, 30*time.Second) {
		d.t.Errorf("reliability: claimsd did not stop within 30 s of SIGTERM; killed")
		d.signal(syscall.SIGKILL, 10*time.Second)
	}
}

// signal sends sig and waits up to wait for the exit; false if it did not.
func (d *Daemon) signal(sig syscall.Signal, wait time.Duration) bool {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(wait):
		return false
	}
	d.mu.Lock()
	d.cmd = nil
	d.mu.Unlock()
	return true
}

// Exited reports whether the daemon has exited by itself (not by Kill or
// Stop), with its error.
func (d *Daemon) Exited() (bool, error) {
	d.mu.Lock()
	exited := d.exited
	d.mu.Unlock()
	select {
	case <-exited:
		d.mu.Lock()
		defer d.mu.Unlock()
		return true, d.err
	default:
		return false, nil
	}
}

// PeakRSS is the highest peak resident set size (VmHWM) of the runs that
// have ended, and the highest anonymous memory seen, in bytes.
func (d *Daemon) PeakRSS() (rss, anon int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.peak.hwm << 10, d.peak.anon << 10
}

// Log returns everything the daemon wrote.
func (d *Daemon) Log() string {
	data, _ := os.ReadFile(d.LogPath)
	return string(data)
}

// LogTail returns the last n lines of the log.
func (d *Daemon) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(d.Log(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// memPeak is the highest memory use seen of a process, in kB.
type memPeak struct {
	hwm  int64 // VmHWM: peak resident set, file pages (bbolt's mmap) included
	anon int64 // highest RssAnon seen: the process's own memory (heap, stacks)
}

// samplePeak samples the memory of process pid every 5 ms until waited is
// closed (after the process was reaped); the returned function waits for
// that and gives the peaks. rusage's ru_maxrss would also count the test
// process, whose memory the child shares between fork and exec; VmHWM is
// the claimsd image's own, and only grows, so the last reading is the
// peak up to the final 5 ms. RssAnon is sampled: a short peak between two
// samples can be missed.
func samplePeak(pid int, waited <-chan struct{}) func() memPeak {
	done := make(chan memPeak, 1)
	go func() {
		var peak memPeak
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if m, ok := procMem(pid); ok {
				peak.hwm, peak.anon = max(peak.hwm, m.hwm), max(peak.anon, m.anon)
			}
			select {
			case <-waited:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() memPeak { return <-done }
}

// procMem reads VmHWM and RssAnon of a running process; ok is false when
// they cannot be read (the process has exited, or is a zombie without
// memory).
func procMem(pid int) (m memPeak, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return m, false
	}
	kb := func(v string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return n
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, found := strings.CutPrefix(line, "VmHWM:"); found {
			m.hwm, ok = kb(v), true
		} else if v, found := strings.CutPrefix(line, "RssAnon:"); found {
			m.anon = kb(v)
		}
	}
	return m, ok
}

// Run is one finished run of the binary.
type Run struct {
	Stdout, Stderr string
	Err            error // the exit status
	Took           time.Duration
	PeakRSS        int64 // VmHWM, bytes: file pages (the store's mmap) included
	PeakAnon       int64 // highest RssAnon sampled, bytes: the process's own memory
}

// Exec runs `claimsd --config cfg args...` to its end, measuring its time
// and peak memory.
func Exec(t testing.TB, bin, cfg string, args ...string) Run {
	t.Helper()
	var stdout bytes.Buffer
	r := exec1(t, &stdout, bin, cfg, args...)
	r.Stdout = stdout.String()
	return r
}

// ExecCounting is Exec for commands with large output (a million cases
// listed): stdout is counted, not kept.
func ExecCounting(t testing.TB, bin, cfg string, args ...string) (Run, int64) {
	t.Helper()
	var n countingWriter
	return exec1(t, &n, bin, cfg, args...), int64(n)
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func exec1(t testing.TB, stdout io.Writer, bin, cfg string, args ...string) Run {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--config", cfg}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("reliability: start claimsd %s: %v", strings.Join(args, " "), err)
	}
	waited := make(chan struct{})
	peak := samplePeak(cmd.Process.Pid, waited)
	err := cmd.Wait()
	took := time.Since(start)
	close(waited)
	p := peak()
	return Run{Stderr: stderr.String(), Err: err, Took: took, PeakRSS: p.hwm << 10, PeakAnon: p.anon << 10}
}

// MustExec is Exec failing the test on a non-zero exit.
func MustExec(t testing.TB, bin, cfg string, args ...string) Run {
	t.Helper()
	r := Exec(t, bin, cfg, args...)
	if r.Err != nil {
		t.Fatalf("reliability: claimsd %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Err, tail(r.Stdout, 2000), tail(r.Stderr, 2000))
	}
	return r
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// Cases lists every case through the CLI (the daemon's socket when it
// runs, the store otherwise).
func Cases(t testing.TB, bin, cfg string) []store.Case {
	t.Helper()
	var cases []store.Case
	decode(t, MustExec(t, bin, cfg, "cases", "list", "--json").Stdout, &cases)
	return cases
}

// Outbox lists every outgoing mail through the CLI.
func Outbox(t testing.TB, bin, cfg string) []store.OutboxItem {
	t.Helper()
	var items []store.OutboxItem
	decode(t, MustExec(t, bin, cfg, "outbox", "list", "--json").Stdout, &items)
	return items
}

// Stats is `claimsd stats --json`.
type Stats struct {
	Counters map[string]uint64 `json:"counters"`
	Mailbox  *mailbox.State    `json:"mailbox"`
}

// ReadStats runs `claimsd stats --json`. A daemon just started may not
// have created its store yet: that is retried for ten seconds.
func ReadStats(t testing.TB, bin, cfg string) Stats {
	t.Helper()
	var r Run
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r = Exec(t, bin, cfg, "stats", "--json"); r.Err == nil || time.Now().After(deadline) || !strings.Contains(r.Stderr, "no store in") {
			break
		}
	}
	if r.Err != nil {
		t.Fatalf("reliability: claimsd stats --json: %v\n%s", r.Err, tail(r.Stderr, 2000))
	}
	var s Stats
	decode(t, r.Stdout, &s)
	return s
}

func decode(t testing.TB, out string, v any) {
	t.Helper()
	if strings.TrimSpace(out) == "null" || strings.TrimSpace(out) == "" {
		return
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("reliability: decoding claimsd's JSON: %v\n%s", err, tail(out, 2000))
	}
}

// WaitFor polls cond every 50 ms until it holds and returns how long that
// took; after timeout it fails the test, saying what it waited for.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("reliability: %s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// ErrTimeout is returned by Poll when the condition did not hold in time.
var ErrTimeout = errors.New("timed out")

// Poll is WaitFor without failing: it returns ErrTimeout instead, for
// scenarios that report a miss in the table rather than stop.
func Poll(ctx context.Context, timeout time.Duration, cond func() bool) (time.Duration, error) {
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			return time.Since(start), ErrTimeout
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return time.Since(start), nil
}
