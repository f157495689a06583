package classifier

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Learner is the classifier the daemon uses: the rules plus the model
// trained so far from specialists' corrections. Classify is safe for
// concurrent use and never waits for training; Train works on a copy of
// the model and swaps it in, so a classification sees either the old or
// the new model whole.
type Learner struct {
	rules *Rules
	cur   atomic.Pointer[learned]
	mu    sync.Mutex // serialises Train
}

type learned struct {
	c *Classifier
	m *Model
}

// NewLearner returns a Learner over rules and a model (nil: untrained).
func NewLearner(r *Rules, m *Model) *Learner {
	if m == nil {
		m = NewModel()
	}
	l := &Learner{rules: r}
	l.cur.Store(&learned{c: New(r, m), m: m})
	return l
}

// Classify classifies with the current model.
func (l *Learner) Classify(in Input) Result { return l.cur.Load().c.Classify(in) }

// Example is one labelled message: in belongs to label in space
// (SpaceCategory or SpaceRemedy).
type Example struct {
	Space string
	Label string
	Input Input
}

// Train adds one corrected example (space "category" or "remedy") and
// returns the new model, encoded, for the caller to store in the same
// transaction as the correction.
func (l *Learner) Train(space, label string, in Input) ([]byte, error) {
	return l.TrainAll([]Example{{Space: space, Label: label, Input: in}}, false)
}

// TrainAll adds many examples at once (bulk training from labelled mail)
// and returns the new model, encoded, for the caller to store. With reset
// the model learnt so far is dropped first, so the new one is trained on
// examples alone.
func (l *Learner) TrainAll(examples []Example, reset bool) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := NewModel()
	if !reset {
		m = l.cur.Load().m.Clone()
	}
	for _, e := range examples {
		m.Train(e.Space, e.Label, e.Input)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode classifier model: %w", err)
	}
	l.cur.Store(&learned{c: New(l.rules, m), m: m})
	return data, nil
}

// Examples returns how many examples the current model was trained on in
// space.
func (l *Learner) Examples(space string) int { return l.cur.Load().m.Examples(space) }
