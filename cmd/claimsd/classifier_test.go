package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestClassifierEvalSet runs `classifier eval` on the project's labelled
// set and holds the figures reported for this release as floors, so a
// change to the rules that makes them worse fails here.
func TestClassifierEvalSet(t *testing.T) {
	out, errOut, code := runCLI(t, context.Background(), "classifier", "eval", "../../classifier/testdata/eval", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep evalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Messages < 150 || len(rep.Errors) > 0 {
		t.Fatalf("%d messages, errors %v", rep.Messages, rep.Errors)
	}
	floors := map[string]struct{ accuracy, macroF1 float64 }{
		"category": {0.89, 0.90},
		"remedy":   {0.92, 0.91},
		"priority": {0.97, 0.95},
		"language": {0.98, 0.98},
	}
	for dim, f := range floors {
		d := rep.Dimensions[dim]
		if d == nil {
			t.Errorf("no %s scores", dim)
			continue
		}
		t.Logf("%s: accuracy %.3f macro-F1 %.3f", dim, d.Accuracy, d.MacroF1)
		if d.Accuracy < f.accuracy || d.MacroF1 < f.macroF1 {
			t.Errorf("%s: accuracy %.3f (floor %.2f), macro-F1 %.3f (floor %.2f)", dim, d.Accuracy, f.accuracy, d.MacroF1, f.macroF1)
		}
	}
	text, _, _ := runCLI(t, context.Background(), "classifier", "eval", "../../classifier/testdata/eval")
	for _, want := range []string{"category: accuracy", "confusion (rows expected, columns predicted):", "transport_damage"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
}

// TestClassifierDevelopmentSets holds the scores on the two development
// sets the rules are written against, so that a rule change made for one
// kind of mail that breaks another shows here first.
func TestClassifierDevelopmentSets(t *testing.T) {
	for _, set := range []struct {
		dir    string
		floors map[string]float64 // macro-F1
	}{
		{"../../classifier/testdata/dev", map[string]float64{"category": 0.95, "remedy": 0.89, "priority": 0.98, "language": 0.98}},
		{"../../classifier/testdata/dev2", map[string]float64{"category": 0.89, "remedy": 0.86, "priority": 0.92, "language": 0.98}},
	} {
		out, errOut, code := runCLI(t, context.Background(), "classifier", "eval", set.dir, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", set.dir, code, errOut)
		}
		var rep evalReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Messages < 240 || len(rep.Errors) > 0 {
			t.Fatalf("%s: %d messages, errors %v", set.dir, rep.Messages, rep.Errors)
		}
		for dim, floor := range set.floors {
			if d := rep.Dimensions[dim]; d == nil || d.MacroF1 < floor {
				t.Errorf("%s %s: %+v, floor macro-F1 %.2f", set.dir, dim, d, floor)
			}
		}
	}
}
