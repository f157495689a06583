package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The summary sheet's layout: a label in column A and its value in column
// B, one figure a row from summaryFirstRow. SummaryRows lists them, so
// that programs (and the tests) find a figure's cell.
const summaryFirstRow = 4

// SummaryRow is one figure of the summary sheet.
type SummaryRow struct {
	// ID names the figure for programs: opened, closed, legal_due, ...
	ID    string
	Label string
	Value any
	// Percent formats the value, a ratio, as a percentage.
	Percent bool
}

// SummaryRows are the summary sheet's figures in order; the first is in
// row 4 (cell B4), each next one a row below.
func SummaryRows(f Figures, l Labels) []SummaryRow {
	sub := func(s string) string { return "  " + s }
	t := f.TimeToFirstAnswer
	return []SummaryRow{
		{"opened", l.Opened, f.Opened, false},
		{"closed", l.Closed, f.Closed, false},
		{"legal_due", l.LegalDeadlines, f.Legal.Due, false},
		{"legal_met", sub(l.Met), f.Legal.Met, false},
		{"legal_missed", sub(l.Missed), f.Legal.Missed, false},
		{"legal_pending", sub(l.Pending), f.Legal.Pending, false},
		{"legal_on_time", sub(l.OnTime), f.Legal.OnTime, true},
		{"first_answer_due", l.FirstAnswerDeadlines, f.FirstAnswer.Due, false},
		{"first_answer_met", sub(l.Met), f.FirstAnswer.Met, false},
		{"first_answer_missed", sub(l.Missed), f.FirstAnswer.Missed, false},
		{"first_answer_pending", sub(l.Pending), f.FirstAnswer.Pending, false},
		{"first_answer_on_time", sub(l.OnTime), f.FirstAnswer.OnTime, true},
		{"answered", l.FirstAnswers, t.Answered, false},
		{"median_hours", sub(l.Median + " (" + l.WorkingTime + ")"), t.MedianHours, false},
		{"p90_hours", sub(l.P90 + " (" + l.WorkingTime + ")"), t.P90Hours, false},
		{"open", l.OpenAtEnd, f.Backlog.Open, false},
		{"legal_overdue", sub(l.PastLegalDue), f.Backlog.LegalOverdue, false},
		{"repeat_defects", l.RepeatDefectsCount, len(f.RepeatDefects), false},
		{"merged_excluded", l.Merged, f.Merged, false},
	}
}

// SummaryCell is the cell holding the summary figure id ("" if unknown).
func SummaryCell(id string) string {
	for i, r := range SummaryRows(Figures{}, english()) {
		if r.ID == id {
			return fmt.Sprintf("B%d", summaryFirstRow+i)
		}
	}
	return ""
}

// XLSXSheets are the sheets of the workbook in order: summary, backlog, the
// four breakdowns, repeat defects.
func XLSXSheets(l Labels) []string {
	return []string{l.Summary, l.Backlog, l.ByCategory, l.ByRemedy, l.ByProduct, l.BySpecialist, l.RepeatDefects}
}

// XLSX writes f as a workbook: a summary sheet, the backlog by age with a
// chart, one sheet per breakdown (the categories with a chart of cases
// opened and closed) and the repeat defects. progress, if not nil, is
// called before each sheet and before writing, with the step's number
// (from 1), the number of steps and what the step does.
func XLSX(w io.Writer, f Figures, l Labels, progress func(step, steps int, what string)) error {
	x := excelize.NewFile()
	defer x.Close()
	sheets := XLSXSheets(l)
	steps := len(sheets) + 1
	step := func(i int, what string) {
		if progress != nil {
			progress(i, steps, what)
		}
	}
	b := &book{x: x, l: l}
	if err := b.styles(); err != nil {
		return err
	}
	step(1, sheets[0])
	b.summary(sheets[0], f)
	step(2, sheets[1])
	b.backlog(sheets[1], f.Backlog)
	for i, bd := range l.breakdowns(f) {
		step(3+i, sheets[2+i])
		b.breakdown(sheets[2+i], bd, i == 0)
	}
	step(7, sheets[6])
	b.repeats(sheets[6], f.RepeatDefects)
	if b.err != nil {
		return fmt.Errorf("report workbook: %w", b.err)
	}
	x.SetActiveSheet(0)
	step(steps, "write")
	if err := x.Write(w); err != nil {
		return fmt.Errorf("write report workbook: %w", err)
	}
	return nil
}

// book writes one workbook, keeping the first error.
type book struct {
	x                      *excelize.File
	l                      Labels
	bold, percent, decimal int
	err                    error
}

func (b *book) styles() error {
	var err error
	pct := "0.0%"
	dec := "0.00"
	if b.bold, err = b.x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if b.percent, err = b.x.NewStyle(&excelize.Style{CustomNumFmt: &pct}); err != nil {
		return err
	}
	b.decimal, err = b.x.NewStyle(&excelize.Style{CustomNumFmt: &dec})
	return err
}

func (b *book) check(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// sheet makes the named sheet; the workbook's first sheet is renamed.
func (b *book) sheet(name string) {
	if b.x.SheetCount == 1 && b.x.GetSheetName(0) == "Sheet1" {
		b.check(b.x.SetSheetName("Sheet1", name))
		return
	}
	_, err := b.x.NewSheet(name)
	b.check(err)
}

func (b *book) set(sheet, cell string, v any, style int) {
	b.check(b.x.SetCellValue(sheet, cell, v))
	if style != 0 {
		b.check(b.x.SetCellStyle(sheet, cell, cell, style))
	}
}

// header writes a bold header row in row 1.
func (b *book) header(sheet string, cols []string) {
	for i, c := range cols {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		b.set(sheet, cell, c, b.bold)
	}
}

func (b *book) summary(sheet string, f Figures) {
	b.sheet(sheet)
	b.set(sheet, "A1", fmt.Sprintf("%s %s – %s", b.l.Title, f.From, f.To), b.bold)
	b.set(sheet, "A2", b.l.AsOf, 0)
	b.set(sheet, "B2", f.AsOf.Format("2006-01-02 15:04 MST"), 0)
	for i, r := range SummaryRows(f, b.l) {
		row := summaryFirstRow + i
		b.set(sheet, fmt.Sprintf("A%d", row), r.Label, 0)
		style := 0
		switch r.Value.(type) {
		case float64:
			style = b.decimal
			if r.Percent {
				style = b.percent
			}
		}
		b.set(sheet, fmt.Sprintf("B%d", row), r.Value, style)
	}
	b.check(b.x.SetColWidth(sheet, "A", "A", 52))
	b.check(b.x.SetColWidth(sheet, "B", "B", 20))
}

func (b *book) backlog(sheet string, bl Backlog) {
	b.sheet(sheet)
	b.header(sheet, []string{b.l.AgeDays, b.l.Count})
	for i, a := range bl.Ages {
		b.set(sheet, fmt.Sprintf("A%d", i+2), a.Days, 0)
		b.set(sheet, fmt.Sprintf("B%d", i+2), a.Count, 0)
	}
	b.check(b.x.SetColWidth(sheet, "A", "B", 20))
	if len(bl.Ages) == 0 {
		return
	}
	last := len(bl.Ages) + 1
	b.check(b.x.AddChart(sheet, "D2", &excelize.Chart{
		Type:   excelize.Col,
		Series: []excelize.ChartSeries{{Name: ref(sheet, "B1"), Categories: ref(sheet, fmt.Sprintf("$A$2:$A$%d", last)), Values: ref(sheet, fmt.Sprintf("$B$2:$B$%d", last))}},
		Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: b.l.Backlog}}},
		Legend: excelize.ChartLegend{Position: "none"},
	}))
}

// breakdown writes one breakdown; with chart, a chart of cases opened and
// closed per key.
func (b *book) breakdown(sheet string, bd breakdownView, chart bool) {
	b.sheet(sheet)
	cols := []string{bd.column}
	if bd.specialist {
		cols = append(cols, b.l.Name)
	}
	valueCol := len(cols) + 1
	cols = append(cols, rowColumns(b.l)...)
	b.header(sheet, cols)
	for i, r := range bd.rows {
		row := i + 2
		vals := []any{b.l.key(r.Key, bd.specialist)}
		if bd.specialist {
			vals = append(vals, r.Name)
		}
		vals = append(vals, r.Opened, r.Closed, r.Open, r.LegalMet, r.LegalMissed, r.FirstAnswerMet, r.FirstAnswerMissed, r.Answered)
		if r.Answered > 0 {
			vals = append(vals, r.MedianHours)
		} else {
			vals = append(vals, nil)
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		b.check(b.x.SetSheetRow(sheet, cell, &vals))
		last, _ := excelize.CoordinatesToCellName(len(vals), row)
		b.check(b.x.SetCellStyle(sheet, last, last, b.decimal))
	}
	lastCol, _ := excelize.ColumnNumberToName(len(cols))
	b.check(b.x.SetColWidth(sheet, "A", "A", 32))
	b.check(b.x.SetColWidth(sheet, "B", lastCol, 14))
	if !chart || len(bd.rows) == 0 {
		return
	}
	last := len(bd.rows) + 1
	keys := ref(sheet, fmt.Sprintf("$A$2:$A$%d", last))
	series := func(col int) excelize.ChartSeries {
		name, _ := excelize.ColumnNumberToName(col)
		return excelize.ChartSeries{
			Name:       ref(sheet, "$"+name+"$1"),
			Categories: keys,
			Values:     ref(sheet, fmt.Sprintf("$%s$2:$%s$%d", name, name, last)),
		}
	}
	anchor, _ := excelize.CoordinatesToCellName(len(cols)+2, 2)
	b.check(b.x.AddChart(sheet, anchor, &excelize.Chart{
		Type:   excelize.Col,
		Series: []excelize.ChartSeries{series(valueCol), series(valueCol + 1)},
		Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: b.l.ChartTitle}}},
		Legend: excelize.ChartLegend{Position: "bottom"},
	}))
}

func (b *book) repeats(sheet string, rs []Repeat) {
	b.sheet(sheet)
	b.header(sheet, []string{b.l.Kind, b.l.Value, b.l.Count, b.l.InPeriod, b.l.CaseIDs})
	for i, r := range rs {
		vals := []any{b.l.kind(r.Kind), r.Value, len(r.Cases), r.InPeriod, strings.Join(r.Cases, " ")}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		b.check(b.x.SetSheetRow(sheet, cell, &vals))
	}
	b.check(b.x.SetColWidth(sheet, "A", "A", 18))
	b.check(b.x.SetColWidth(sheet, "B", "B", 36))
	b.check(b.x.SetColWidth(sheet, "C", "D", 12))
	b.check(b.x.SetColWidth(sheet, "E", "E", 60))
}

// ref is a reference to cells of sheet in a chart: the sheet name quoted,
// as names with spaces need.
func ref(sheet, cells string) string {
	return "'" + strings.ReplaceAll(sheet, "'", "''") + "'!" + cells
}
