package mailtest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const (
	testUser = "claims@example.test"
	testPass = "s3cret"
)

func testMessage(i, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Customer %d <customer%d@example.net>\r\n", i, i)
	fmt.Fprintf(&b, "To: %s\r\n", testUser)
	fmt.Fprintf(&b, "Subject: complaint %04d\r\n", i)
	fmt.Fprintf(&b, "Message-ID: <complaint-%d@example.net>\r\n", i)
	b.WriteString("Date: Fri, 01 Mar 2024 10:00:00 +0000\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	for b.Len() < size {
		b.WriteString("The parcel arrived damaged and nobody answers the phone.\r\n")
	}
	return []byte(b.String())
}

func testMessages(from, n, size int) [][]byte {
	var raws [][]byte
	for i := from; i < from+n; i++ {
		raws = append(raws, testMessage(i, size))
	}
	return raws
}

func login(t *testing.T, d *Dovecot, user, pass string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", d.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("login %s: %v\n%s", user, err, d.LogTail(20))
	}
	return c
}

func selectBox(t *testing.T, c *imapclient.Client, mailbox string) *imap.SelectData {
	t.Helper()
	data, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", mailbox, err)
	}
	return data
}

// subjects fetches UID, INTERNALDATE and subject of every message in the
// selected mailbox.
func subjects(t *testing.T, c *imapclient.Client) []*imapclient.FetchMessageBuffer {
	t.Helper()
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, InternalDate: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return msgs
}

func TestDovecot(t *testing.T) {
	t0 := time.Now()
	d := StartDovecot(t, User{testUser, testPass}, User{"other@example.test", "pw2"})
	t.Logf("StartDovecot: %v (IMAP %s, LMTP %s, auth %s, dir %s)", time.Since(t0), d.Addr, d.LMTPAddr, d.AuthAddr, d.Dir)

	c := login(t, d, testUser, testPass)
	if !c.Caps().Has(imap.CapIdle) {
		t.Errorf("IDLE not announced; capabilities: %v", c.Caps())
	}
	for _, cp := range []imap.Cap{imap.CapUIDPlus, imap.CapMove, imap.CapSpecialUse} {
		if !c.Caps().Has(cp) {
			t.Errorf("%s not announced", cp)
		}
	}

	// Special-use mailboxes exist from the first login.
	list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for name, attr := range map[string]imap.MailboxAttr{"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts, "Trash": imap.MailboxAttrTrash} {
		i := slices.IndexFunc(list, func(l *imap.ListData) bool { return l.Mailbox == name })
		if i < 0 || !slices.Contains(list[i].Attrs, attr) {
			t.Errorf("no mailbox %s with %s in LIST: %+v", name, attr, list)
		}
	}

	// Three messages straight into the maildir, dated in the past.
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	d.DeliverMaildir(t, testUser, "INBOX", testMessages(1, 3, 500), date)
	sel := selectBox(t, c, "INBOX")
	if sel.NumMessages != 3 || sel.UIDValidity == 0 || sel.UIDNext != 4 {
		t.Fatalf("SELECT INBOX = %d messages, UIDVALIDITY %d, UIDNEXT %d; want 3, non-zero, 4", sel.NumMessages, sel.UIDValidity, sel.UIDNext)
	}
	for i, m := range subjects(t, c) {
		if want := fmt.Sprintf("complaint %04d", i+1); m.Envelope.Subject != want || m.UID != imap.UID(i+1) {
			t.Errorf("message %d: UID %d subject %q; want UID %d %q", i+1, m.UID, m.Envelope.Subject, i+1, want)
		}
		if !m.InternalDate.Equal(date) {
			t.Errorf("message %d: INTERNALDATE %v, want %v", i+1, m.InternalDate, date)
		}
	}
	uidValidity := sel.UIDValidity

	// Another user's mailbox is separate.
	if st := d.Doveadm(t, "-f", "flow", "mailbox", "status", "-u", "other@example.test", "messages", "INBOX"); !strings.HasSuffix(strings.TrimSpace(st), " messages=0") {
		t.Errorf("other user's INBOX: %q", st)
	}

	// Folders: delivered to, recreated, UIDs start again.
	d.DeliverMaildir(t, testUser, "Archive/2024", testMessages(10, 2, 300), time.Time{})
	sel = selectBox(t, c, "Archive/2024")
	if sel.NumMessages != 2 {
		t.Fatalf("Archive/2024 has %d messages, want 2", sel.NumMessages)
	}
	oldFolderValidity := sel.UIDValidity
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	d.RecreateMailbox(t, testUser, "Archive/2024")
	d.DeliverMaildir(t, testUser, "Archive/2024", testMessages(20, 1, 300), time.Time{})
	sel = selectBox(t, c, "Archive/2024")
	if sel.NumMessages != 1 || sel.UIDValidity == oldFolderValidity || sel.UIDNext != 2 {
		t.Errorf("recreated Archive/2024: %d messages, UIDVALIDITY %d (was %d), UIDNEXT %d; want 1, changed, 2",
			sel.NumMessages, sel.UIDValidity, oldFolderValidity, sel.UIDNext)
	}

	// INBOX: recreated while a client has it selected; the client is
	// disconnected, and after re-delivery UIDs start at 1 again.
	idler := login(t, d, testUser, testPass)
	selectBox(t, idler, "INBOX")
	c.Logout().Wait()
	d.RecreateMailbox(t, testUser, "INBOX")
	if err := idler.Noop().Wait(); err == nil {
		t.Error("a session that had INBOX selected survived RecreateMailbox")
	}
	c = login(t, d, testUser, testPass)
	sel = selectBox(t, c, "INBOX")
	if sel.NumMessages != 0 || sel.UIDValidity == uidValidity || sel.UIDNext != 1 {
		t.Fatalf("recreated INBOX: %d messages, UIDVALIDITY %d (was %d), UIDNEXT %d; want 0, changed, 1", sel.NumMessages, sel.UIDValidity, uidValidity, sel.UIDNext)
	}
	uidValidity = sel.UIDValidity
	d.DeliverMaildir(t, testUser, "INBOX", testMessages(1, 3, 500), date)
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if n := c.Mailbox().NumMessages; n != 3 {
		t.Fatalf("after re-delivery the selected INBOX has %d messages, want 3", n)
	}
	for i, m := range subjects(t, c) {
		if m.UID != imap.UID(i+1) {
			t.Errorf("re-delivered message %d has UID %d, want %d", i+1, m.UID, i+1)
		}
	}
	c.Logout().Wait()

	// Restart keeps mail, UIDs and UIDVALIDITY; the ports stay the same.
	t0 = time.Now()
	d.Restart(t)
	t.Logf("Restart: %v", time.Since(t0))
	c = login(t, d, testUser, testPass)
	sel = selectBox(t, c, "INBOX")
	if sel.NumMessages != 3 || sel.UIDValidity != uidValidity {
		t.Fatalf("after restart: %d messages, UIDVALIDITY %d; want 3, %d", sel.NumMessages, sel.UIDValidity, uidValidity)
	}

	// IDLE works, and sees a maildir delivery.
	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("idle: %v", err)
	}
	d.DeliverMaildir(t, testUser, "INBOX", testMessages(4, 1, 500), time.Time{})
	deadline := time.Now().Add(5 * time.Second)
	for c.Mailbox().NumMessages != 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := idle.Close(); err != nil {
		t.Fatalf("idle close: %v", err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("idle: %v", err)
	}
	if n := c.Mailbox().NumMessages; n != 4 {
		t.Errorf("IDLE did not report the new message: %d messages", n)
	}

	// LMTP and auth listeners for Postfix answer.
	expectGreeting(t, d.LMTPAddr, "220 ")
	expectGreeting(t, d.AuthAddr, "VERSION\t")

	// Outage: Stop closes connections and the port; Start brings it back.
	t0 = time.Now()
	d.Stop(t)
	t.Logf("Stop: %v", time.Since(t0))
	if err := c.Noop().Wait(); err == nil {
		t.Error("NOOP succeeded on a stopped server")
	}
	if conn, err := net.DialTimeout("tcp", d.Addr, time.Second); err == nil {
		conn.Close()
		t.Error("IMAP port still accepts after Stop")
	}
	d.Stop(t) // idempotent
	d.Start(t)
	c = login(t, d, testUser, testPass)
	if sel := selectBox(t, c, "INBOX"); sel.NumMessages != 4 {
		t.Errorf("after Stop/Start: %d messages, want 4", sel.NumMessages)
	}
	d.Stop(t) // the cleanup then finds it stopped

	logText, err := os.ReadFile(d.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(logText), "\n") {
		if strings.Contains(line, "Error:") || strings.Contains(line, "Fatal:") || strings.Contains(line, "Panic:") {
			t.Errorf("Dovecot logged: %s", line)
		}
	}
}

func expectGreeting(t *testing.T, addr, prefix string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Errorf("dial %s: %v", addr, err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, prefix) {
		t.Errorf("%s greeted %q (%v), want %q...", addr, line, err, prefix)
	}
}

// Failed logins must not cost seconds: auth_failure_delay = 0 and no anvil
// penalty. Dovecot 2.3 still answers a failure only on its auth process's
// next 500 ms tick (AUTH_FAILURE_DELAY_CHECK_MSECS), so ~0.5 s each; with the
// defaults three failures cost 2 s each plus a growing penalty (6 s and more).
func TestDovecotFailedLoginIsFast(t *testing.T) {
	d := StartDovecot(t, User{testUser, testPass})
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t0 := time.Now()
	for i := 0; i < 3; i++ {
		if err := c.Login(testUser, "wrong").Wait(); err == nil {
			t.Fatal("login with a wrong password succeeded")
		}
	}
	if err := c.Login(testUser, testPass).Wait(); err != nil {
		t.Fatalf("login after failures: %v", err)
	}
	// Generous for a loaded 2-core CI machine; still well under the
	// defaults' 6 s.
	if el := time.Since(t0); el > 4*time.Second {
		t.Errorf("3 failed logins and a good one took %v", el)
	}
}

// Bulk loading keeps delivery order as UID order.
func TestDeliverMaildirBulk(t *testing.T) {
	const n = 2000
	d := StartDovecot(t, User{testUser, testPass})
	raws := testMessages(0, n, 5000)
	t0 := time.Now()
	d.DeliverMaildir(t, testUser, "INBOX", raws, time.Time{})
	el := time.Since(t0)
	t.Logf("DeliverMaildir: %d messages of ~5 KB in %v (%.0f msg/s)", n, el, n/el.Seconds())

	c := login(t, d, testUser, testPass)
	t0 = time.Now()
	if sel := selectBox(t, c, "INBOX"); sel.NumMessages != n {
		t.Fatalf("SELECT sees %d messages, want %d", sel.NumMessages, n)
	}
	t.Logf("first SELECT (Dovecot indexes %d new files): %v", n, time.Since(t0))
	for i, m := range subjects(t, c) {
		if want := fmt.Sprintf("complaint %04d", i); m.UID != imap.UID(i+1) || m.Envelope.Subject != want {
			t.Fatalf("UID %d has subject %q; want UID %d to be %q", m.UID, m.Envelope.Subject, i+1, want)
		}
	}
}

func TestCheckFolderName(t *testing.T) {
	check := func(name string, ok bool) {
		t.Helper()
		if err := checkFolderName(name); (err == nil) != ok {
			t.Errorf("checkFolderName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	check("Archive", true)
	check("Archive/2024", true)
	check("Claims - open", true)
	check("", false)
	check("/Archive", false)
	check("Archive/", false)
	check("a//b", false)
	check("v1.2", false)
	check("Entwürfe", false)
	check("A&B", false)
}

// Dovecot numbers new maildir files in file name order, so names must sort
// in delivery order, by their time part.
func TestMaildirNamesIncrease(t *testing.T) {
	timePart := func(name string) string { return name[:strings.IndexByte(name, 'P')] }
	prev := maildirName(1)
	for i := 0; i < 10000; i++ {
		name := maildirName(1)
		if timePart(name) <= timePart(prev) {
			t.Fatalf("%q does not sort after %q", name, prev)
		}
		prev = name
	}
}

// recorder is a testing.TB that records Fatalf and Skipf instead of ending
// the real test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Without Dovecot a developer's test skips with the install command, and CI's
// fails with it.
func TestStartDovecotWithoutDovecot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := binaryDirs
	binaryDirs = []string{t.TempDir()}
	t.Cleanup(func() { binaryDirs = saved })

	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			StartDovecot(r, User{testUser, testPass})
		}()
		<-done
		got, other := r.skip, r.fatal
		if ci != "" {
			got, other = r.fatal, r.skip
		}
		if !strings.Contains(got, InstallHint) || other != "" {
			t.Errorf("CI=%q: skip %q, fatal %q; want the install command in the %s", ci, r.skip, r.fatal, map[bool]string{true: "fatal", false: "skip"}[ci != ""])
		}
	}
}

// A port taken by another server between probing and binding is noticed
// (and StartDovecot retries with fresh ports), even when the intruder greets
// like Dovecot.
func TestStartNoticesPortTaken(t *testing.T) {
	d := StartDovecot(t, User{testUser, testPass})
	d.Stop(t)
	l, err := net.Listen("tcp", d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"))
			conn.Close()
		}
	}()
	bin, err := findBinary("dovecot")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.start(bin); !errors.Is(err, errAddrInUse) {
		t.Fatalf("start on a taken port: %v, want errAddrInUse", err)
	}
	l.Close()
	d.Start(t)
	c := login(t, d, testUser, testPass)
	c.Logout().Wait()
}
