package classifier

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/claimsd/claimsd/message"
)

// corpus is a small labelled set: a few phrasings per label, varied by a
// counter so that no two examples are the same text.
func corpus() []struct{ label, text string } {
	phrasings := map[string][]string{
		CatTransportDamage: {"kurier przywiózł zgnieciony karton", "paczka rozbita w transporcie", "the courier crushed the box"},
		CatBilling:         {"proszę o korektę faktury NIP", "błędne dane na fakturze", "wrong VAT number on the invoice"},
		CatMissingItem:     {"w paczce brakowało ładowarki", "brak instrukcji w zestawie", "the cable was missing"},
	}
	var out []struct{ label, text string }
	for i := range 10 {
		for _, label := range []string{CatTransportDamage, CatBilling, CatMissingItem} {
			p := phrasings[label]
			out = append(out, struct{ label, text string }{label, fmt.Sprintf("%s, sprawa %d", p[i%len(p)], i)})
		}
	}
	return out
}

func trainCorpus(m *Model) {
	for _, ex := range corpus() {
		m.Train(SpaceCategory, ex.label, Input{Text: ex.text})
	}
}

func TestModelPredict(t *testing.T) {
	m := NewModel()
	trainCorpus(m)
	tests := []struct{ text, want string }{
		{"kurier zgniótł karton", CatTransportDamage},
		{"korekta faktury, zły NIP", CatBilling},
		{"brakowało ładowarki", CatMissingItem},
		{"the box was crushed", CatTransportDamage},
	}
	for _, tt := range tests {
		label, prob, ok := m.Predict(SpaceCategory, Input{Text: tt.text})
		if !ok || label != tt.want || prob < 0.7 || prob > 1 {
			t.Errorf("Predict(%q) = %s %.3f %v, want %s with probability >= 0.7", tt.text, label, prob, ok, tt.want)
		}
	}
}

func TestModelNotReady(t *testing.T) {
	m := NewModel()
	if _, _, ok := m.Predict(SpaceCategory, Input{Text: "kurier"}); ok {
		t.Error("untrained model answered")
	}
	for i := range MinTrainingExamples - 1 {
		m.Train(SpaceCategory, []string{CatBilling, CatOther}[i%2], Input{Text: "faktura kurier"})
	}
	if _, _, ok := m.Predict(SpaceCategory, Input{Text: "faktura"}); ok {
		t.Errorf("answered after %d examples", MinTrainingExamples-1)
	}
	m.Train(SpaceCategory, CatBilling, Input{Text: "faktura"})
	if _, _, ok := m.Predict(SpaceCategory, Input{Text: "faktura"}); !ok {
		t.Errorf("no answer after %d examples", MinTrainingExamples)
	}
	if _, _, ok := m.Predict(SpaceCategory, Input{Text: "zupełnie nieznane słowa"}); ok {
		t.Error("answered about words it never saw")
	}
	if _, _, ok := m.Predict(SpaceRemedy, Input{Text: "faktura"}); ok {
		t.Error("answered in a space it was not trained in")
	}
	one := NewModel()
	for range MinTrainingExamples {
		one.Train(SpaceRemedy, RemedyRefund, Input{Text: "zwrot"})
	}
	if _, _, ok := one.Predict(SpaceRemedy, Input{Text: "zwrot"}); ok {
		t.Error("answered with a single label")
	}
}

// A specialist's corrections move the model: after enough of them the same
// message gets the corrected label.
func TestModelLearnsCorrections(t *testing.T) {
	m := NewModel()
	trainCorpus(m)
	in := Input{Subject: "Paczka", Text: "paczka przyszła, w środku rozbity karton i brak ładowarki"}
	before, _, ok := m.Predict(SpaceCategory, in)
	if !ok {
		t.Fatal("no prediction")
	}
	corrected := CatMissingItem
	if before == CatMissingItem {
		corrected = CatTransportDamage
	}
	for range 5 {
		m.Train(SpaceCategory, corrected, in)
	}
	after, prob, _ := m.Predict(SpaceCategory, in)
	if after != corrected {
		t.Errorf("after corrections: %s %.2f, want %s (was %s)", after, prob, corrected, before)
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := NewModel()
	trainCorpus(m)
	for i := range 25 {
		m.Train(SpaceRemedy, []string{RemedyRefund, RemedyReplacement}[i%2], Input{Text: []string{"zwrot pieniędzy", "wymiana na nowy"}[i%2], Attachments: []message.Attachment{{Name: "zdjęcie.jpg", ContentType: "image/jpeg"}}})
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalModel(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := got.MarshalBinary()
	if !bytes.Equal(data, again) {
		t.Error("re-encoding a decoded model gives other bytes")
	}
	for _, in := range []Input{{Text: "kurier zgniótł karton"}, {Text: "faktura"}, {Text: "zwrot"}, {Text: "wymiana"}} {
		for _, space := range []string{SpaceCategory, SpaceRemedy} {
			l1, p1, ok1 := m.Predict(space, in)
			l2, p2, ok2 := got.Predict(space, in)
			if l1 != l2 || p1 != p2 || ok1 != ok2 {
				t.Errorf("%s %q: %s %v %v before, %s %v %v after", space, in.Text, l1, p1, ok1, l2, p2, ok2)
			}
		}
	}
	if got.Examples(SpaceCategory) != m.Examples(SpaceCategory) {
		t.Errorf("examples %d, want %d", got.Examples(SpaceCategory), m.Examples(SpaceCategory))
	}
	// An empty model round-trips too.
	data, _ = NewModel().MarshalBinary()
	if _, err := UnmarshalModel(data); err != nil {
		t.Error(err)
	}
}

func TestUnmarshalModelErrors(t *testing.T) {
	m := NewModel()
	trainCorpus(m)
	good, _ := m.MarshalBinary()
	wrongVersion := bytes.Clone(good)
	wrongVersion[len(modelMagic)] = modelVersion + 1
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "header"},
		{"foreign", []byte(`{"spaces":{}}`), "header"},
		{"version", wrongVersion, "retrain"},
		{"truncated", good[:len(good)/2], "not a valid model"},
		{"trailing bytes", append(bytes.Clone(good), 0), "after the end"},
		{"huge count", append([]byte(modelMagic), modelVersion, 0xff, 0xff, 0xff, 0xff, 0x07), "larger than the data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalModel(tt.data)
			if err == nil || !errors.Is(err, ErrModelFormat) || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Errorf("got %v, want an ErrModelFormat mentioning %q", err, tt.want)
			}
		})
	}
}

func TestModelClone(t *testing.T) {
	m := NewModel()
	trainCorpus(m)
	c := m.Clone()
	in := Input{Text: "kurier zgniótł karton"}
	for range 30 {
		c.Train(SpaceCategory, CatOther, in)
	}
	if l, _, _ := m.Predict(SpaceCategory, in); l != CatTransportDamage {
		t.Errorf("training the clone changed the original: %s", l)
	}
	if l, _, _ := c.Predict(SpaceCategory, in); l != CatOther {
		t.Errorf("clone did not learn: %s", l)
	}
	var nilModel *Model
	if nilModel.Clone() == nil || nilModel.Examples(SpaceCategory) != 0 {
		t.Error("nil model")
	}
}

// Training ignores what it cannot store and never panics.
func TestModelTrainBounds(t *testing.T) {
	m := NewModel()
	m.Train("", CatBilling, Input{Text: "x"})
	m.Train(SpaceCategory, "", Input{Text: "x"})
	for i := range maxModelLabels + 5 {
		m.Train(SpaceCategory, fmt.Sprintf("label%d", i), Input{Text: "x"})
	}
	if n := len(m.spaces[SpaceCategory].labels); n != maxModelLabels {
		t.Errorf("%d labels, want at most %d", n, maxModelLabels)
	}
	var zero Model
	zero.Train(SpaceCategory, CatBilling, Input{Text: "faktura"})
	if zero.Examples(SpaceCategory) != 1 {
		t.Error("zero Model did not train")
	}
}

// The layout New builds for prediction answers exactly as Model.Predict.
func TestCompiledModelAgrees(t *testing.T) {
	m := NewModel()
	trainCorpus(m)
	for i := range 30 {
		m.Train(SpaceRemedy, []string{RemedyRefund, RemedyReplacement, RemedyNone}[i%3], Input{Text: fmt.Sprintf("zwrot wymiana %d kurier", i%4)})
	}
	cm := m.compile()
	for _, text := range []string{"kurier zgniótł karton", "faktura", "zwrot", "wymiana 1", "nic znanego", benchComplaint().Text} {
		p := prepare(Input{Text: text})
		for _, space := range []string{SpaceCategory, SpaceRemedy, "unknown"} {
			l1, p1, ok1 := m.Predict(space, Input{Text: text})
			l2, p2, ok2 := cm.predict(space, cm.lookup(modelFeatures(p)))
			if l1 != l2 || p1 != p2 || ok1 != ok2 {
				t.Errorf("%s %q: Predict %s %v %v, compiled %s %v %v", space, text, l1, p1, ok1, l2, p2, ok2)
			}
		}
	}
	if NewModel().compile() != nil {
		t.Error("an untrained model compiles to something")
	}
}
