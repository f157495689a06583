package classifier

import (
	"fmt"
	"slices"
	"strings"
)

// Eval accumulates a confusion matrix of expected against predicted labels
// and derives accuracy, per-label precision, recall and F1, and macro F1.
// The zero value is ready to use; Eval is not safe for concurrent use.
type Eval struct {
	Labels    []string                  // every label seen as expected or predicted, sorted
	Confusion map[string]map[string]int // expected -> predicted -> count
	N         int                       // pairs added
	Correct   int                       // pairs with predicted == expected
}

// Add records one pair.
func (e *Eval) Add(expected, predicted string) {
	if e.Confusion == nil {
		e.Confusion = map[string]map[string]int{}
	}
	row := e.Confusion[expected]
	if row == nil {
		row = map[string]int{}
		e.Confusion[expected] = row
	}
	row[predicted]++
	e.N++
	if expected == predicted {
		e.Correct++
	}
	for _, l := range []string{expected, predicted} {
		if i, found := slices.BinarySearch(e.Labels, l); !found {
			e.Labels = slices.Insert(e.Labels, i, l)
		}
	}
}

// Accuracy is Correct / N, 0 for no pairs.
func (e *Eval) Accuracy() float64 { return ratio(e.Correct, e.N) }

// truePositives, predicted and expected count for one label.
func (e *Eval) counts(label string) (tp, predicted, expected int) {
	for exp, row := range e.Confusion {
		for pred, n := range row {
			if pred == label {
				predicted += n
				if exp == label {
					tp += n
				}
			}
			if exp == label {
				expected += n
			}
		}
	}
	return tp, predicted, expected
}

// Precision is the share of the predictions of label that were right; 0
// when label was never predicted (it earned nothing).
func (e *Eval) Precision(label string) float64 {
	tp, pred, _ := e.counts(label)
	return ratio(tp, pred)
}

// Recall is the share of the label's cases that were found; 0 when label
// was never expected.
func (e *Eval) Recall(label string) float64 {
	tp, _, exp := e.counts(label)
	return ratio(tp, exp)
}

// F1 is the harmonic mean of precision and recall; 0 when both are 0.
func (e *Eval) F1(label string) float64 {
	p, r := e.Precision(label), e.Recall(label)
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// MacroF1 is the unweighted mean of F1 over Labels, so that rare
// categories count as much as common ones; 0 for no pairs.
func (e *Eval) MacroF1() float64 {
	if len(e.Labels) == 0 {
		return 0
	}
	sum := 0.0
	for _, l := range e.Labels {
		sum += e.F1(l)
	}
	return sum / float64(len(e.Labels))
}

// String renders the confusion matrix (rows expected, columns predicted)
// with per-label precision, recall and F1, for an evaluation report.
func (e *Eval) String() string {
	var b strings.Builder
	w := 8
	for _, l := range e.Labels {
		w = max(w, len(l))
	}
	fmt.Fprintf(&b, "%-*s", w+5, "exp\\pred")
	for i := range e.Labels {
		fmt.Fprintf(&b, " %5s", fmt.Sprintf("#%d", i+1))
	}
	b.WriteString("      P      R     F1\n")
	for i, exp := range e.Labels {
		fmt.Fprintf(&b, "%-*s", w+5, fmt.Sprintf("#%d %s", i+1, exp))
		for _, pred := range e.Labels {
			fmt.Fprintf(&b, " %5d", e.Confusion[exp][pred])
		}
		fmt.Fprintf(&b, "  %5.2f  %5.2f  %5.2f\n", e.Precision(exp), e.Recall(exp), e.F1(exp))
	}
	fmt.Fprintf(&b, "n %d, accuracy %.3f, macro F1 %.3f\n", e.N, e.Accuracy(), e.MacroF1())
	return b.String()
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
