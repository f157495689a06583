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

// Train adds one corrected example (space "category" or "remedy") and
// returns the new model, encoded, for the caller to store in the same
// transaction as the correction.
func (l *Learner) Train(space, label string, in Input) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.cur.Load().m.Clone()
	m.Train(space, label, in)
	data, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode classifier model: %w", err)
	}
	l.cur.Store(&learned{c: New(l.rules, m), m: m})
	return data, nil
}
