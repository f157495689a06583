package report

import (
	"archive/zip"
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./report -update after checking the change):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// computed are the fixture's figures as Compute makes them.
func computed(t *testing.T) Figures {
	return Compute(fixture(t), week, settings(t), time.Date(2026, 3, 9, 7, 0, 0, 0, warsaw(t)))
}

func TestRenderGolden(t *testing.T) {
	f := computed(t)
	tests := []struct {
		golden string
		render func(*bytes.Buffer) error
	}{
		{"report.en.txt", func(b *bytes.Buffer) error { return Text(b, f, LabelsFor("en")) }},
		{"report.pl.txt", func(b *bytes.Buffer) error { return Text(b, f, LabelsFor("pl")) }},
		{"report.empty.en.txt", func(b *bytes.Buffer) error {
			return Text(b, Compute(nil, week, settings(t), f.AsOf), LabelsFor("en"))
		}},
		{"report.csv", func(b *bytes.Buffer) error { return CSV(b, f) }},
		{"report.json", func(b *bytes.Buffer) error { return JSON(b, f) }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, b.Bytes())
		})
	}
}

// TestXLSXReadBack writes the workbook, opens it with excelize and checks
// the key figures cell by cell against the hand-computed ones.
func TestXLSXReadBack(t *testing.T) {
	want := fixtureFigures(t)
	for _, lang := range []string{"en", "pl"} {
		t.Run(lang, func(t *testing.T) {
			l := LabelsFor(lang)
			var buf bytes.Buffer
			var steps []string
			err := XLSX(&buf, computed(t), l, func(step, total int, what string) {
				if total != 8 || step != len(steps)+1 {
					t.Errorf("progress step %d of %d after %d steps", step, total, len(steps))
				}
				steps = append(steps, what)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 8 {
				t.Errorf("progress steps %q", steps)
			}
			x, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if got := x.GetSheetList(); strings.Join(got, "|") != strings.Join(XLSXSheets(l), "|") {
				t.Errorf("sheets %q", got)
			}
			raw := excelize.Options{RawCellValue: true}
			cell := func(sheet, ref string) string {
				t.Helper()
				v, err := x.GetCellValue(sheet, ref, raw)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			summary, backlog, category, specialist, repeats := l.Summary, l.Backlog, l.ByCategory, l.BySpecialist, l.RepeatDefects
			checks := []struct{ sheet, cell, want string }{
				{summary, "A1", l.Title + " 2026-03-02 – 2026-03-08"},
				{summary, "B2", "2026-03-09 00:00 CET"},
				{summary, SummaryCell("opened"), "8"},
				{summary, SummaryCell("closed"), "4"},
				{summary, SummaryCell("legal_due"), "3"},
				{summary, SummaryCell("legal_met"), "1"},
				{summary, SummaryCell("legal_missed"), "2"},
				{summary, SummaryCell("legal_on_time"), "0.3333"},
				{summary, SummaryCell("first_answer_due"), "5"},
				{summary, SummaryCell("first_answer_met"), "2"},
				{summary, SummaryCell("first_answer_on_time"), "0.4"},
				{summary, SummaryCell("answered"), "3"},
				{summary, SummaryCell("median_hours"), "2.5"},
				{summary, SummaryCell("p90_hours"), "10"},
				{summary, SummaryCell("open"), "7"},
				{summary, SummaryCell("legal_overdue"), "1"},
				{summary, SummaryCell("repeat_defects"), "3"},
				{summary, SummaryCell("merged_excluded"), "1"},
				{summary, "A4", l.Opened},
				{backlog, "A2", "0-3"}, {backlog, "B2", "4"},
				{backlog, "A3", "4-7"}, {backlog, "B3", "2"},
				{backlog, "A5", "15-30"}, {backlog, "B5", "1"},
				// By category: key, opened, closed, open, legal met,
				// legal missed, first met, first missed, answered, median.
				{category, "A2", "transport_damage"}, {category, "B2", "5"}, {category, "C2", "2"}, {category, "D2", "3"},
				{category, "G2", "2"}, {category, "H2", "2"}, {category, "I2", "3"}, {category, "J2", "2.5"},
				{category, "A7", l.None}, {category, "B7", "1"},
				// By specialist has a name column after the key.
				{specialist, "A2", "anna@example.com"}, {specialist, "B2", "Anna Nowak"}, {specialist, "C2", "4"},
				{specialist, "K2", "1.5"}, {specialist, "A4", l.Unassigned}, {specialist, "E4", "3"},
				{repeats, "A2", l.KindSerial}, {repeats, "B2", "sn1000"}, {repeats, "C2", "3"}, {repeats, "D2", "2"},
				{repeats, "E2", "CLM-2025-000090 CLM-2026-000001 CLM-2026-000007"},
				{repeats, "B3", "Pralka X100"},
			}
			for _, c := range checks {
				if got := cell(c.sheet, c.cell); got != c.want {
					t.Errorf("%s!%s = %q, want %q", c.sheet, c.cell, got, c.want)
				}
			}
			// The percentage shows as such to people.
			if v, _ := x.GetCellValue(summary, SummaryCell("legal_on_time")); v != "33.3%" {
				t.Errorf("formatted on-time ratio %q", v)
			}
			if rows, _ := x.GetRows(category); len(rows) != len(want.ByCategory)+1 {
				t.Errorf("category sheet has %d rows, want %d", len(rows), len(want.ByCategory)+1)
			}
			// The backlog and the categories have a chart each.
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			charts := 0
			for _, f := range zr.File {
				if strings.HasPrefix(f.Name, "xl/charts/chart") {
					charts++
				}
			}
			if charts != 2 {
				t.Errorf("%d charts, want 2", charts)
			}
		})
	}
}

func TestChartPNG(t *testing.T) {
	for name, f := range map[string]Figures{"fixture": computed(t), "empty": Compute(nil, week, settings(t), time.Now())} {
		var buf bytes.Buffer
		if err := Chart(&buf, f, LabelsFor("pl")); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 200 {
			t.Errorf("%s: chart is %v", name, b)
		}
	}
}
