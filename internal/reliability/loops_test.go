package reliability_test

import (
	"fmt"
	"net/smtp"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
	"github.com/claimsd/claimsd/store"
)

// The loop partners' addresses on the mail stack.
const (
	listUser   = "lista@example.test"
	memberUser = "czlonek@example.test"
	robotUser  = "biuro@example.test"
	ghostUser  = "duch@example.test" // no such user: Postfix bounces
	loopPass   = "loop-pw"
	maxPerRcpt = 5 // auto_mail.max_per_recipient, claimsd's default
)

// loops: a real Sieve vacation responder, a mailing list echo, the most
// careless auto-responder and a bouncing address, all at once against one
// daemon: automatic mail must stay within the caps and every loop end.
func (s *suite) loops(t *testing.T) {
	d, p := mailtest.StartMailStack(t, reliability.Domain, reliability.StackUsers(
		mailtest.User{Name: listUser, Password: loopPass}, mailtest.User{Name: memberUser, Password: loopPass},
		mailtest.User{Name: robotUser, Password: loopPass})...)
	d.SetVacation(t, reliability.JanUser, "Urlop", "Jestem na urlopie do poniedziałku.")
	dir := t.TempDir()
	cfg := reliability.StackConfig(filepath.Join(dir, "data"), d, p.SubmissionPort).Write(t, dir)
	dm := reliability.StartDaemon(t, s.bin, cfg)
	list := reliability.StartListEcho(t, d, p, listUser, loopPass, []string{reliability.ClaimsUser, memberUser}, 50)
	robot := reliability.StartAutoResponder(t, d, p, robotUser, loopPass, 50)

	send := func(from, to, subject, body string) {
		t.Helper()
		raw := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%d.%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			from, to, subject, time.Now().UnixNano(), from, time.Now().Format(time.RFC1123Z), body)
		if err := smtp.SendMail(p.SMTPAddr, nil, from, []string{to}, []byte(raw)); err != nil {
			t.Fatalf("send from %s: %v", from, err)
		}
	}
	// Jan, on vacation, writes eight complaints; then a person at the
	// desk writes to him outside claimsd, which his vacation answers.
	for i := range 8 {
		send(reliability.JanUser, reliability.ClaimsUser, fmt.Sprintf("Reklamacja %d: czajnik przecieka", i+1), "Czajnik przecieka, proszę o wymianę.")
	}
	send(reliability.ClaimsUser, reliability.JanUser, "Pytanie o czajnik", "Czy czajnik był używany z filtrem?")
	// The list's own address writes, and a member writes to the list.
	send(listUser, reliability.ClaimsUser, "Reklamacja zbiorcza", "Kilka osób z naszej grupy ma ten sam problem z ładowarką.")
	send(memberUser, listUser, "Ładowarka się grzeje", "Moja ładowarka też się grzeje.")
	// The careless auto-responder writes first.
	send(robotUser, reliability.ClaimsUser, "Zwrot towaru", "Proszę o zwrot pieniędzy za zamówienie 42.")
	// A complaint from an address that does not exist.
	send(ghostUser, reliability.ClaimsUser, "Nie działa", "Pralka nie działa.")

	// Quiet: no new outgoing mail and no partner mail for five seconds.
	last, lastChange := -1, time.Now()
	deadline := time.Now().Add(90 * time.Second)
	for time.Since(lastChange) < 5*time.Second && time.Now().Before(deadline) {
		n := len(reliability.Outbox(t, s.bin, cfg)) + list.Sent() + robot.Sent()
		if n != last {
			last, lastChange = n, time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
	p.WaitQueueEmpty(t, 30*time.Second)
	ended := time.Since(lastChange) >= 5*time.Second
	items := reliability.Outbox(t, s.bin, cfg)
	dm.Stop()

	sentTo := map[string]int{}
	suppressed := map[string]int{}
	answeredAutomatic := 0
	for _, it := range items {
		to := strings.ToLower(it.To.Addr)
		if it.Status == store.OutboxSuppressed {
			suppressed[to]++
			continue
		}
		sentTo[to]++
		if strings.HasPrefix(to, "mailer-daemon") || strings.HasPrefix(to, "postmaster") {
			answeredAutomatic++
		}
	}
	vacationReplies := 0
	for _, m := range reliability.Mailbox(t, d.Addr, reliability.ClaimsUser, reliability.ClaimsPass, "") {
		if m.Automatic() && strings.EqualFold(strings.Trim(m.Header.Get("Subject"), " "), "Urlop") {
			vacationReplies++
		}
	}
	cases := reliability.Cases(t, s.bin, cfg)
	unreachable := 0
	for _, c := range cases {
		if c.Customer == ghostUser && c.CustomerUnreachable {
			unreachable++
		}
	}
	rep := s.report
	rep.Check(t, "loops", "every loop ended (5 s without new mail)", ended, "true", ended)
	rep.Check(t, "loops", "mails answering bounces", answeredAutomatic, "0", answeredAutomatic == 0)
	sc := "loops: Sieve vacation"
	rep.Check(t, sc, "automatic mails to the customer (8 complaints)", fmt.Sprintf("%d sent, %d suppressed", sentTo[reliability.JanUser], suppressed[reliability.JanUser]),
		fmt.Sprintf("≤ %d (max_per_recipient)", maxPerRcpt), sentTo[reliability.JanUser] <= maxPerRcpt)
	rep.Check(t, sc, "vacation replies reaching the desk", vacationReplies, "1 (to the person's mail only)", vacationReplies == 1)
	sc = "loops: mailing list echo"
	rep.Check(t, sc, "mails to the list", sentTo[listUser], "≤ 1", sentTo[listUser] <= 1)
	rep.Note(sc, "mails the list sent on", list.Sent(), "", true)
	sc = "loops: careless auto-responder"
	rep.Check(t, sc, "automatic mails to it", fmt.Sprintf("%d sent, %d suppressed", sentTo[robotUser], suppressed[robotUser]), fmt.Sprintf("≤ %d", maxPerRcpt), sentTo[robotUser] <= maxPerRcpt)
	rep.Note(sc, "its replies (a new case each)", robot.Sent(), fmt.Sprintf("≤ %d", maxPerRcpt+1), robot.Sent() <= maxPerRcpt+1)
	sc = "loops: bouncing address"
	rep.Check(t, sc, "mails to it", sentTo[ghostUser], "1", sentTo[ghostUser] == 1)
	rep.Check(t, sc, "case marked customer unreachable", unreachable, "1", unreachable == 1)
	for _, err := range append(list.Errs(), robot.Errs()...) {
		t.Logf("loop partner: %v", err)
	}
}
