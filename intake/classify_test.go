package intake

import (
	"strings"
	"testing"

	"github.com/claimsd/claimsd/classifier"
	"github.com/claimsd/claimsd/outbox"
	"github.com/claimsd/claimsd/store"
)

// TestNewCaseIsClassified: a new case carries its category, remedy,
// priority and language with reasons, and the category sets its legal
// period; a specialist's #category correction trains the model stored
// with the case change.
func TestNewCaseIsClassified(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	body := "Dzień dobry, paczka przyszła dziś, karton zgnieciony, a w środku pęknięty ekran. Kurier spisał protokół szkody. Proszę o wymianę na nowy."
	deliver(t, in, 1, 1, strings.Replace(mail("Jan <jan@example.net>", "Uszkodzona przesyłka", "t1@example.net"), "Dzień dobry, proszę o naprawę.", body, 1))
	c := caseByID(t, db, "CLM-2026-000001")
	if c.Category != classifier.CatTransportDamage || c.Remedy != classifier.RemedyReplacement || c.Priority != classifier.PriorityNormal || c.Language != "pl" {
		t.Errorf("classified as %s/%s/%s/%s", c.Category, c.Remedy, c.Priority, c.Language)
	}
	if c.Classification == nil || c.Classification.Category.Reason == "" {
		t.Errorf("no reason recorded: %+v", c.Classification)
	}
	urgent := strings.Replace(mail("Ewa <ewa@example.net>", "Czajnik", "t2@example.net"), "Dzień dobry, proszę o naprawę.",
		"Czajnik zaczął dymić i iskrzyć, poraził mnie prąd. Żądam zwrotu pieniędzy.", 1)
	deliver(t, in, 1, 2, urgent)
	if c := caseByID(t, db, "CLM-2026-000002"); c.Priority != classifier.PriorityUrgent {
		t.Errorf("safety hazard priority %s (%+v)", c.Priority, c.Classification)
	}
}

// TestCorrectionTrainsTheModel: #category from an authentic staff mail
// stores a model trained on the case's first message.
func TestCorrectionTrainsTheModel(t *testing.T) {
	in, db, _ := newAckIntake(t, false)
	deliver(t, in, 1, 1, mail("Jan <jan@example.net>", "Pytanie", "q1@example.net"))
	deliver(t, in, 1, 2, staffMail(1, []string{ourAR}, "#category billing\r\n#remedy none"))
	var data []byte
	db.View(func(tx *store.Tx) error { data = tx.Value(outbox.ModelKey); return nil })
	m, err := classifier.UnmarshalModel(data)
	if err != nil {
		t.Fatalf("stored model: %v", err)
	}
	if m.Examples("category") != 1 || m.Examples("remedy") != 1 {
		t.Errorf("model examples: category %d remedy %d", m.Examples("category"), m.Examples("remedy"))
	}
	if c := caseByID(t, db, "CLM-2026-000001"); c.Category != "billing" {
		t.Errorf("category %s", c.Category)
	}
}
