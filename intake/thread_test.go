package intake

import (
	"testing"
	"time"

	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/classifier"
)

// mapLookup is a Lookup over plain maps.
type mapLookup struct {
	byMsgID map[string]string
	cases   map[string]CaseSummary
}

func (l mapLookup) CaseOfMessageID(id string) (string, bool, error) {
	c, ok := l.byMsgID[id]
	return c, ok, nil
}

func (l mapLookup) Case(id string) (CaseSummary, bool, error) {
	c, ok := l.cases[id]
	return c, ok, nil
}

func (l mapLookup) CasesWithSubject(addr, norm string) ([]CaseSummary, error) {
	var out []CaseSummary
	for _, c := range l.cases {
		if c.Customer == addr && c.NormSubject == norm {
			out = append(out, c)
		}
	}
	return out, nil
}

func TestThread(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ids := caseref.MessageIDs{Key: []byte("k3y-for-tests-k3y-for-tests-k3y!"), Domain: "sklep.example"}
	forger := caseref.MessageIDs{Key: []byte("not-our-key-not-our-key-not-our!"), Domain: "sklep.example"}
	look := mapLookup{
		byMsgID: map[string]string{"orig@example.net": "CLM-2026-000001", "emily1@example.org": "CLM-2026-000002"},
		cases: map[string]CaseSummary{
			"CLM-2026-000001": {ID: "CLM-2026-000001", Customer: "jan@example.net", Open: true, NormSubject: "pęknięty ekran", LastMessageAt: now.Add(-48 * time.Hour)},
			"CLM-2026-000002": {ID: "CLM-2026-000002", Customer: "emily@example.org", Open: true, NormSubject: "blender broken", LastMessageAt: now.Add(-24 * time.Hour)},
			"CLM-2026-000003": {ID: "CLM-2026-000003", Customer: "jan@example.net", Open: false, NormSubject: "old thing", LastMessageAt: now.Add(-24 * time.Hour)},
			"CLM-2026-000004": {ID: "CLM-2026-000004", Customer: "jan@example.net", Open: true, NormSubject: "stale", LastMessageAt: now.Add(-40 * 24 * time.Hour)},
		},
	}
	rules := ThreadRules{
		Tags:          caseref.NewTagMatcher("CLM"),
		OurIDs:        ids,
		SubjectWindow: 30 * 24 * time.Hour,
		IsStaff:       func(a string) bool { return a == "anna@sklep.example" },
	}
	cust := classifier.KindCustomer
	tests := []struct {
		name   string
		in     ThreadInput
		wantID string
		wantBy ThreadedBy
	}{
		{"our id in In-Reply-To", ThreadInput{From: "jan@example.net", Kind: cust, InReplyTo: []string{ids.New("CLM-2026-000002", "7")}}, "CLM-2026-000002", ByOurMessageID},
		{"our id deep in References", ThreadInput{From: "x@y.z", Kind: cust, References: []string{ids.New("CLM-2026-000001", "1"), "unknown@a"}}, "CLM-2026-000001", ByOurMessageID},
		{"our id for a case that does not exist", ThreadInput{From: "x@y.z", Kind: cust, InReplyTo: []string{ids.New("CLM-2026-000099", "1")}}, "", ByNewCase},
		{"forged id with another key", ThreadInput{From: "x@y.z", Kind: cust, InReplyTo: []string{forger.New("CLM-2026-000001", "1")}}, "", ByNewCase},
		{"known message id in In-Reply-To", ThreadInput{From: "jan@example.net", Kind: cust, InReplyTo: []string{"orig@example.net"}}, "CLM-2026-000001", ByReferences},
		{"newest reference wins", ThreadInput{From: "jan@example.net", Kind: cust, References: []string{"orig@example.net", "emily1@example.org"}}, "CLM-2026-000002", ByReferences},
		{"bounce by enclosed id", ThreadInput{From: "mailer-daemon@mx", Kind: classifier.KindBounce, EnclosedMessageID: "emily1@example.org"}, "CLM-2026-000002", ByReferences},
		{"tag from the customer", ThreadInput{From: "jan@example.net", Kind: cust, Subject: "Re: x [CLM-2026-000001]"}, "CLM-2026-000001", BySubjectTag},
		{"tag from staff", ThreadInput{From: "anna@sklep.example", Kind: classifier.KindStaff, Subject: "[CLM-2026-000002] note"}, "CLM-2026-000002", BySubjectTag},
		{"tag from a stranger opens a new case", ThreadInput{From: "intruder@example.com", Kind: cust, Subject: "Re: [CLM-2026-000001] refund to me"}, "", ByNewCase},
		{"tag of a missing case", ThreadInput{From: "jan@example.net", Kind: cust, Subject: "[CLM-2026-000777]"}, "", ByNewCase},
		{"subject from same sender", ThreadInput{From: "jan@example.net", Kind: cust, Subject: "Odp: Pęknięty ekran", NormSubject: "pęknięty ekran", ReceivedAt: now}, "CLM-2026-000001", BySubject},
		{"subject from another sender", ThreadInput{From: "emily@example.org", Kind: cust, NormSubject: "pęknięty ekran", ReceivedAt: now}, "", ByNewCase},
		{"subject of a closed case", ThreadInput{From: "jan@example.net", Kind: cust, NormSubject: "old thing", ReceivedAt: now}, "", ByNewCase},
		{"subject past the window", ThreadInput{From: "jan@example.net", Kind: cust, NormSubject: "stale", ReceivedAt: now}, "", ByNewCase},
		{"staff mail is not threaded by subject", ThreadInput{From: "anna@sklep.example", Kind: classifier.KindStaff, NormSubject: "pęknięty ekran", ReceivedAt: now}, "", ByNone},
		{"auto reply matching nothing stays unfiled", ThreadInput{From: "jan@example.net", Kind: classifier.KindAutoReply, NormSubject: "pęknięty ekran", ReceivedAt: now}, "", ByNone},
		{"auto reply with the customer's tag", ThreadInput{From: "jan@example.net", Kind: classifier.KindAutoReply, Subject: "Automatic reply: Re: x [CLM-2026-000001]"}, "CLM-2026-000001", BySubjectTag},
		{"bounce matching nothing", ThreadInput{From: "mailer-daemon@mx", Kind: classifier.KindBounce, EnclosedMessageID: "nope@x"}, "", ByNone},
		{"new complaint", ThreadInput{From: "new@example.com", Kind: cust, Subject: "Broken", NormSubject: "broken", ReceivedAt: now}, "", ByNewCase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Thread(tt.in, rules, look)
			if err != nil {
				t.Fatal(err)
			}
			if d.CaseID != tt.wantID || d.By != tt.wantBy {
				t.Errorf("Thread = %q by %s (%s), want %q by %s", d.CaseID, d.By, d.Note, tt.wantID, tt.wantBy)
			}
		})
	}
}
