package reliability

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Row is one figure of the suite's table.
type Row struct {
	Scenario string
	Figure   string
	Value    string
	Goal     string
	Met      bool
	// Must marks a goal whose miss is a failure (loss, duplicates, a
	// crash, unbounded memory); other goals (rates, times) are reported
	// only: tests assert no timings.
	Must bool
}

// Report collects the rows of the table; safe for parallel subtests.
type Report struct {
	mu   sync.Mutex
	rows []Row
}

// Failer is what Check needs of a test: *testing.T.
type Failer interface {
	Helper()
	Errorf(format string, args ...any)
}

// Check records a figure whose goal must be met: a miss fails t.
func (r *Report) Check(t Failer, scenario, figure string, value any, goal string, met bool) {
	t.Helper()
	r.add(Row{Scenario: scenario, Figure: figure, Value: format(value), Goal: goal, Met: met, Must: true})
	if !met {
		t.Errorf("%s: %s is %s; goal %s", scenario, figure, format(value), goal)
	}
}

// Note records a figure that is reported against its goal without
// failing anything (performance); goal "" means no goal.
func (r *Report) Note(scenario, figure string, value any, goal string, met bool) {
	r.add(Row{Scenario: scenario, Figure: figure, Value: format(value), Goal: goal, Met: met || goal == ""})
}

func (r *Report) add(row Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row)
}

// Rows returns a copy of the rows so far, in the order they were added.
func (r *Report) Rows() []Row {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Row(nil), r.rows...)
}

// Missed counts the rows whose goal was not met, and of them those that
// are failures.
func (r *Report) Missed() (missed, failed int) {
	for _, row := range r.Rows() {
		if !row.Met {
			missed++
			if row.Must {
				failed++
			}
		}
	}
	return missed, failed
}

// Write prints the table as Markdown, columns aligned: scenario, figure,
// value, goal, met? ("yes", "NO" for a failed must, "no" for a missed
// performance goal, "-" without a goal).
func (r *Report) Write(w io.Writer) error {
	header := []string{"scenario", "figure", "value", "goal", "met?"}
	lines := [][]string{header}
	for _, row := range r.Rows() {
		met := "yes"
		switch {
		case row.Goal == "":
			met = "-"
		case !row.Met && row.Must:
			met = "NO"
		case !row.Met:
			met = "no"
		}
		lines = append(lines, []string{row.Scenario, row.Figure, row.Value, row.Goal, met})
	}
	width := make([]int, len(header))
	for _, l := range lines {
		for i, c := range l {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for n, l := range lines {
		for i, c := range l {
			fmt.Fprintf(&b, "| %s%s ", c, strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		b.WriteString("|\n")
		if n == 0 {
			for i := range header {
				fmt.Fprintf(&b, "|%s", strings.Repeat("-", width[i]+2))
			}
			b.WriteString("|\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// format writes a value for the table: floats with three significant
// decimals at most, the rest as fmt does.
func format(v any) string {
	switch x := v.(type) {
	case float64:
		switch {
		case x >= 100 || x <= -100:
			return fmt.Sprintf("%.0f", x)
		case x >= 10 || x <= -10:
			return fmt.Sprintf("%.1f", x)
		default:
			return fmt.Sprintf("%.3g", x)
		}
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
