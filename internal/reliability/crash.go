package reliability

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/mailtest"
)

// The mail stack the scenarios share: claims@ is the claims mailbox, jan@
// receives every customer's mail (customers write from jan+N@).
const (
	Domain     = "example.test"
	ClaimsUser = "claims@example.test"
	ClaimsPass = "claims-pw"
	JanUser    = "jan@example.test"
	JanPass    = "jan-pw"
	// ProcessedKeyword is claimsd's default imap.processed_keyword.
	ProcessedKeyword = "$ClaimsdProcessed"
)

// StackUsers are the users StartMailStack should create for the
// scenarios.
func StackUsers(more ...mailtest.User) []mailtest.User {
	return append([]mailtest.User{{Name: ClaimsUser, Password: ClaimsPass}, {Name: JanUser, Password: JanPass}}, more...)
}

// StackConfig is a configuration reading claims@ from d and sending through
// Postfix's submission port smtpPort as claims@, with VERP, retrying
// quickly (outbox.retry_initial 1s).
func StackConfig(dataDir string, d *mailtest.Dovecot, smtpPort int) Config {
	return Config{
		DataDir: dataDir, IMAPPort: d.IMAPPort, IMAPUser: ClaimsUser, IMAPPassword: ClaimsPass,
		SMTPPort: smtpPort, SMTPUser: ClaimsUser, SMTPPassword: ClaimsPass, VERP: true,
		Extra: "outbox:\n  retry_initial: 1s\n  retry_max: 4s\n",
	}
}

// CrashResult is the outcome of one crash round.
type CrashResult struct {
	Kills int
	Audit Audit
	// From the customer's own mailbox:
	AcksMissing    int // complaints without an acknowledgement
	AcksDuplicated int // complaints acknowledged under two distinct Message-IDs
	SameIDResent   int // acknowledgements delivered again under the same Message-ID
	// Unmarked counts claims-mailbox messages left without the processed
	// keyword once the daemon settled.
	Unmarked int
	// Settled is false when the acknowledgements did not all arrive within
	// two minutes of the last complaint.
	Settled bool
	Took    time.Duration
}

// CrashRound runs one round of the crash scenario on a fresh mail stack:
// n complaints arrive in the claims mailbox over about two seconds while
// the real binary runs; it is killed with SIGKILL at kills random moments
// (spread over the time intake and sending take) and started again each
// time; once the acknowledgements have arrived (or two minutes passed)
// it is stopped and the store, the customer's mailbox and the claims
// mailbox are counted.
func CrashRound(t testing.TB, bin string, n, kills int, r *rand.Rand) CrashResult {
	t.Helper()
	start := time.Now()
	d, p := mailtest.StartMailStack(t, Domain, StackUsers()...)
	dir := t.TempDir()
	cfg := StackConfig(filepath.Join(dir, "data"), d, p.SubmissionPort).Write(t, dir)
	complaints := make([]Complaint, n)
	for i := range complaints {
		complaints[i] = NewComplaint(i, "jan", Domain, "")
	}
	dm := StartDaemon(t, bin, cfg)

	// Complaints arrive over about two seconds, in batches of ten.
	feedStart := time.Now()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		const batch = 10
		pause := 2 * time.Second * batch / time.Duration(max(n, batch))
		for i := 0; i < n; i += batch {
			d.DeliverMaildir(t, ClaimsUser, "INBOX", Raws(complaints[i:min(i+batch, n)]), time.Now())
			time.Sleep(pause)
		}
	}()
	// Kill moments spread over feeding and sending (Postfix takes about
	// 3 ms a mail on these machines).
	window := 2500*time.Millisecond + time.Duration(n)*3*time.Millisecond
	moments := make([]time.Duration, kills)
	for i := range moments {
		moments[i] = time.Duration(r.Int64N(int64(window)))
	}
	slices.Sort(moments)
	for _, at := range moments {
		if wait := at - time.Since(feedStart); wait > 0 {
			time.Sleep(wait)
		}
		dm.Kill()
		dm.Start()
	}
	<-fed

	out := CrashResult{Kills: kills}
	_, err := Poll(context.Background(), 2*time.Minute, func() bool {
		dm.MustBeRunning()
		return Count(t, d.Addr, JanUser, JanPass) >= n
	})
	out.Settled = err == nil
	// Anything still on its way (or sent twice) lands before counting.
	time.Sleep(2 * time.Second)
	p.WaitQueueEmpty(t, time.Minute)
	_, _ = Poll(context.Background(), 10*time.Second, func() bool {
		return Unmarked(t, d.Addr, ClaimsUser, ClaimsPass, ProcessedKeyword) == 0
	})
	out.Unmarked = Unmarked(t, d.Addr, ClaimsUser, ClaimsPass, ProcessedKeyword)
	dm.Stop()

	acks := map[string]map[string]int{} // complaint id -> acknowledgement Message-ID -> copies
	for _, m := range Mailbox(t, d.Addr, JanUser, JanPass, "") {
		irt := m.InReplyTo()
		if irt == "" {
			continue
		}
		if acks[irt] == nil {
			acks[irt] = map[string]int{}
		}
		acks[irt][m.MessageID()]++
	}
	for _, c := range complaints {
		ids := acks[c.MessageID]
		switch {
		case len(ids) == 0:
			out.AcksMissing++
		case len(ids) > 1:
			out.AcksDuplicated++
		}
		for _, copies := range ids {
			out.SameIDResent += copies - 1
		}
	}
	out.Audit = AuditStore(t, filepath.Join(dir, "data"), complaints)
	out.Took = time.Since(start)
	if out.AcksMissing > 0 || out.AcksDuplicated > 0 || out.Audit.Lost() > 0 || out.Audit.DuplicateCases > 0 {
		t.Logf("crash round: claimsd log (last 40 lines):\n%s", dm.LogTail(40))
	}
	return out
}
