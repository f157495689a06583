package classifier

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	// expected a: 3 right, 1 taken for b; expected b: 2 right, 2 taken for
	// a; expected c: 1 taken for a; d is only ever predicted.
	var e Eval
	for _, p := range [][2]string{
		{"a", "a"}, {"a", "a"}, {"a", "a"}, {"a", "b"},
		{"b", "b"}, {"b", "b"}, {"b", "a"}, {"b", "a"},
		{"c", "a"},
		{"a", "d"},
	} {
		e.Add(p[0], p[1])
	}
	if e.N != 10 || e.Correct != 5 {
		t.Fatalf("N %d, Correct %d", e.N, e.Correct)
	}
	if !slices.Equal(e.Labels, []string{"a", "b", "c", "d"}) {
		t.Errorf("labels %v", e.Labels)
	}
	if e.Confusion["b"]["a"] != 2 {
		t.Errorf("confusion b->a = %d", e.Confusion["b"]["a"])
	}
	tests := []struct {
		label   string
		p, r, f float64
	}{
		// a: predicted 6 times, 3 right; expected 5 times.
		{"a", 3.0 / 6, 3.0 / 5, 2 * (0.5 * 0.6) / (0.5 + 0.6)},
		// b: predicted 3 times, 2 right; expected 4 times.
		{"b", 2.0 / 3, 2.0 / 4, 2 * (2.0 / 3 * 0.5) / (2.0/3 + 0.5)},
		// c: never predicted; d: never expected.
		{"c", 0, 0, 0},
		{"d", 0, 0, 0},
		{"never seen", 0, 0, 0},
	}
	for _, tt := range tests {
		if got := e.Precision(tt.label); !near(got, tt.p) {
			t.Errorf("Precision(%s) = %v, want %v", tt.label, got, tt.p)
		}
		if got := e.Recall(tt.label); !near(got, tt.r) {
			t.Errorf("Recall(%s) = %v, want %v", tt.label, got, tt.r)
		}
		if got := e.F1(tt.label); !near(got, tt.f) {
			t.Errorf("F1(%s) = %v, want %v", tt.label, got, tt.f)
		}
	}
	if got := e.Accuracy(); !near(got, 0.5) {
		t.Errorf("Accuracy = %v", got)
	}
	wantMacro := (tests[0].f + tests[1].f) / 4
	if got := e.MacroF1(); !near(got, wantMacro) {
		t.Errorf("MacroF1 = %v, want %v", got, wantMacro)
	}
	s := e.String()
	for _, part := range []string{"#1 a", "accuracy 0.500", "macro F1"} {
		if !strings.Contains(s, part) {
			t.Errorf("report lacks %q:\n%s", part, s)
		}
	}
}

func TestEvalEdges(t *testing.T) {
	var e Eval
	if e.Accuracy() != 0 || e.MacroF1() != 0 || e.Precision("a") != 0 || e.String() == "" {
		t.Error("zero Eval")
	}
	e.Add("a", "a")
	if e.Accuracy() != 1 || e.MacroF1() != 1 || e.F1("a") != 1 {
		t.Errorf("perfect: accuracy %v, macro %v", e.Accuracy(), e.MacroF1())
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
