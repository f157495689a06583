package mailbox

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestZZDovecot(t *testing.T) {
	const user, pass = "claims@example.test", "secret-pw"
	d := mailtest.StartDovecot(t, mailtest.User{Name: user, Password: pass})
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("caps %v", c.Caps())
	if err := c.Create("Processed", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var big bytes.Buffer
	big.WriteString("From: big@example.com\r\nSubject: big\r\n\r\n")
	for big.Len() < 20<<20 {
		big.WriteString(strings.Repeat("x", 70) + "\r\n")
	}
	d.DeliverMaildir(t, user, "INBOX", [][]byte{rawMessage(1), big.Bytes(), rawMessage(3)}, time.Now())

	opts := Options{Host: d.Host, Port: d.IMAPPort, Security: SecurityNone, Username: user, Password: pass,
		Mailbox: "INBOX", IDLE: true, MoveTo: "Processed", BatchSize: 2}
	sink := newFakeSink()
	w, _ := newTestWatcher(t, opts, sink)
	w.idleRecheck = 2 * time.Second
	st, err := w.RunOnce(context.Background())
	t.Logf("stats %+v err %v", st, err)
	_, committed, pending, dl := sink.snapshot()
	t.Logf("committed %v pending %v", committed, pending)
	if len(dl) == 3 && dl[1].SHA256 != sha(big.Bytes()) {
		t.Errorf("big sha mismatch: size %d read %d", dl[1].Size, dl[1].Read)
	}
	if _, err := c.Select("Processed", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	for _, m := range msgs {
		t.Logf("Processed uid %d flags %v", m.UID, m.Flags)
	}
	// Run: IDLE wake, restart, UIDVALIDITY.
	runWatcher(t, w)
	waitFor(t, "connected", func() bool { return w.State().Connected })
	d.DeliverMaildir(t, user, "INBOX", [][]byte{rawMessage(4)}, time.Now())
	waitUID(t, sink.delivered, 4)
	d.Restart(t)
	d.DeliverMaildir(t, user, "INBOX", [][]byte{rawMessage(5)}, time.Now())
	waitUID(t, sink.delivered, 5)
	waitFor(t, "all committed and marked", func() bool {
		_, committed, pending, _ := sink.snapshot()
		return slices.Equal(committed, []uint32{1, 2, 3, 4, 5}) && len(pending) == 0
	})
	t.Logf("state %+v", w.State())
	d.RecreateMailbox(t, user, "INBOX")
	d.DeliverMaildir(t, user, "INBOX", [][]byte{rawMessage(6)}, time.Now())
	waitFor(t, "refetch after uidvalidity change", func() bool {
		s := w.State()
		_, committed, _, _ := sink.snapshot()
		return slices.Equal(committed, []uint32{1}) && s.Connected
	})
	t.Log(d.LogTail(30))
	t.Logf("state %+v resets %v", w.State(), sink.resets)
	if t.Failed() {
		t.Log(d.LogTail(40))
	}
}
