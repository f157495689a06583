package reliability_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/claimsd/claimsd/internal/reliability"
)

// crash: SIGKILL at random moments while complaints flow in and
// acknowledgements flow out. Every message must end in exactly one case,
// every case acknowledged exactly once (under one Message-ID); copies of
// one acknowledgement under the same Message-ID (the crash fell between
// the server's accept and the commit) are counted.
func (s *suite) crash(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("crash rounds: seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	var total reliability.CrashResult
	settled := 0
	var took time.Duration
	for round := range sizes.CrashRounds {
		got := reliability.CrashRound(t, s.bin, sizes.CrashComplaints, sizes.CrashKills, r)
		t.Logf("round %d: %+v", round+1, got)
		total.Kills += got.Kills
		total.AcksMissing += got.AcksMissing
		total.AcksDuplicated += got.AcksDuplicated
		total.SameIDResent += got.SameIDResent
		total.Unmarked += got.Unmarked
		total.Audit.Expected += got.Audit.Expected
		total.Audit.Missing += got.Audit.Missing
		total.Audit.WithoutCase += got.Audit.WithoutCase
		total.Audit.Altered += got.Audit.Altered
		total.Audit.DuplicateCases += got.Audit.DuplicateCases
		total.Audit.Unacknowledged += got.Audit.Unacknowledged
		total.Audit.NotSent += got.Audit.NotSent
		total.Audit.Duplicates += got.Audit.Duplicates
		total.Audit.Resends += got.Audit.Resends
		if got.Settled {
			settled++
		}
		took += got.Took
	}
	const sc = "crash"
	rep := s.report
	rep.Note(sc, "rounds × complaints, SIGKILLs", fmt.Sprintf("%d × %d, %d kills", sizes.CrashRounds, sizes.CrashComplaints, total.Kills), "", true)
	rep.Check(t, sc, "complaints not in exactly one case, whole", total.Audit.Lost(), "0", total.Audit.Lost() == 0)
	rep.Check(t, sc, "duplicate cases", total.Audit.DuplicateCases, "0", total.Audit.DuplicateCases == 0)
	rep.Check(t, sc, "cases without an acknowledgement (store)", total.Audit.Unacknowledged+total.Audit.NotSent, "0", total.Audit.Unacknowledged+total.Audit.NotSent == 0)
	rep.Check(t, sc, "complaints without an acknowledgement (customer's mailbox)", total.AcksMissing, "0", total.AcksMissing == 0)
	rep.Check(t, sc, "complaints acknowledged twice, distinct Message-IDs", total.AcksDuplicated, "0", total.AcksDuplicated == 0)
	rep.Check(t, sc, "rounds settled within 2 min", fmt.Sprintf("%d of %d", settled, sizes.CrashRounds), "all", settled == sizes.CrashRounds)
	rep.Check(t, sc, "mails left unmarked on the server", total.Unmarked, "0", total.Unmarked == 0)
	rep.Note(sc, "acknowledgements delivered twice, same Message-ID", fmt.Sprintf("%d (store counts %d resends)", total.SameIDResent, total.Audit.Resends), "≤ 10 per kill (one batch)", total.SameIDResent <= 10*total.Kills)
	rep.Note(sc, "duplicate deliveries recognised (counter)", total.Audit.Duplicates, "", true)
	rep.Note(sc, "time per round", (took / time.Duration(max(sizes.CrashRounds, 1))).Round(100*time.Millisecond), "", true)
}
