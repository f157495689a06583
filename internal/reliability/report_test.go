package reliability_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/claimsd/claimsd/internal/reliability"
)

func TestReportTable(t *testing.T) {
	var r reliability.Report
	var inner failures
	r.Check(t, "crash", "duplicate cases", 0, "0", true)
	r.Check(&inner, "crash", "lost", 2, "0", false)
	r.Note("scale", "intake rate (msg/s)", 1234.5678, "≥ 1,000", true)
	r.Note("scale", "ratio", 0.034567, "", false)
	r.Note("disk", "recovery", "1.3s", "< 1s", false)
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	want := `| scenario | figure              | value  | goal    | met? |
|----------|---------------------|--------|---------|------|
| crash    | duplicate cases     | 0      | 0       | yes  |
| crash    | lost                | 2      | 0       | NO   |
| scale    | intake rate (msg/s) | 1235   | ≥ 1,000 | yes  |
| scale    | ratio               | 0.0346 |         | -    |
| disk     | recovery            | 1.3s   | < 1s    | no   |
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if len(inner) != 1 || inner[0] != "crash: lost is 2; goal 0" {
		t.Errorf("failures %q, want the one of lost", inner)
	}
	if missed, failed := r.Missed(); missed != 2 || failed != 1 {
		t.Errorf("missed %d, failed %d; want 2 and 1", missed, failed)
	}
}

// failures records what Check reports instead of failing a test.
type failures []string

func (f *failures) Helper() {}

func (f *failures) Errorf(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }
