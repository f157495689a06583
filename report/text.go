package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Text writes f as a plain-text report for people: the summary, the
// backlog, each breakdown and the repeat defects, as aligned tables.
func Text(w io.Writer, f Figures, l Labels) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s – %s\n%s %s\n\n", l.Title, f.From, f.To, l.AsOf, f.AsOf.Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, line := range summaryLines(f, l) {
		fmt.Fprintf(tw, "%s\t%s\n", line[0], line[1])
	}
	tw.Flush()

	fmt.Fprintf(bw, "\n%s\n", l.Backlog)
	tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\t%s\n", l.AgeDays, l.Count)
	for _, b := range f.Backlog.Ages {
		fmt.Fprintf(tw, "  %s\t%d\n", b.Days, b.Count)
	}
	tw.Flush()

	for _, b := range l.breakdowns(f) {
		fmt.Fprintf(bw, "\n%s\n", b.title)
		if len(b.rows) == 0 {
			fmt.Fprintf(bw, "  %s\n", l.None)
			continue
		}
		tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\t%s\n", b.column, strings.Join(rowColumns(l), "\t"))
		for _, r := range b.rows {
			key := l.key(r.Key, b.specialist)
			if r.Name != "" {
				key = r.Name + " <" + r.Key + ">"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", key, strings.Join(rowValues(r), "\t"))
		}
		tw.Flush()
	}

	fmt.Fprintf(bw, "\n%s\n", l.RepeatDefects)
	if len(f.RepeatDefects) == 0 {
		fmt.Fprintf(bw, "  %s\n", l.None)
	} else {
		tw = tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", l.Kind, l.Value, l.Count, l.InPeriod, l.CaseIDs)
		for _, r := range f.RepeatDefects {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\n", l.kind(r.Kind), r.Value, len(r.Cases), r.InPeriod, strings.Join(r.Cases, " "))
		}
		tw.Flush()
	}
	return bw.Flush()
}

// summaryLines are the summary as label and value, for the text report.
func summaryLines(f Figures, l Labels) [][2]string {
	deadlines := func(d Deadlines) string {
		s := fmt.Sprintf("%d: %d %s, %d %s", d.Due, d.Met, l.Met, d.Missed, l.Missed)
		if d.Pending > 0 {
			s += fmt.Sprintf(", %d %s", d.Pending, l.Pending)
		}
		if d.Decided() > 0 {
			s += fmt.Sprintf(" (%s %s)", Percent(d.OnTime), l.OnTime)
		}
		return s
	}
	answers := strconv.Itoa(f.TimeToFirstAnswer.Answered)
	if t := f.TimeToFirstAnswer; t.Answered > 0 {
		answers += fmt.Sprintf(": %s %s h, %s %s h (%s)", l.Median, Hours(t.MedianHours), l.P90, Hours(t.P90Hours), l.WorkingTime)
	}
	open := strconv.Itoa(f.Backlog.Open)
	if f.Backlog.LegalOverdue > 0 {
		open += fmt.Sprintf(", %d %s", f.Backlog.LegalOverdue, l.PastLegalDue)
	}
	lines := [][2]string{
		{l.Opened, strconv.Itoa(f.Opened)},
		{l.Closed, strconv.Itoa(f.Closed)},
		{l.LegalDeadlines, deadlines(f.Legal)},
		{l.FirstAnswerDeadlines, deadlines(f.FirstAnswer)},
		{l.FirstAnswers, answers},
		{l.OpenAtEnd, open},
		{l.RepeatDefectsCount, strconv.Itoa(len(f.RepeatDefects))},
	}
	if f.Merged > 0 {
		lines = append(lines, [2]string{l.Merged, strconv.Itoa(f.Merged)})
	}
	return lines
}

func rowColumns(l Labels) []string {
	return []string{l.ColOpened, l.ColClosed, l.Open, l.LegalMet, l.LegalMissed, l.FirstMet, l.FirstMissed, l.Answered, l.MedianHours}
}

func rowValues(r Row) []string {
	med := "-"
	if r.Answered > 0 {
		med = Hours(r.MedianHours)
	}
	return []string{
		strconv.Itoa(r.Opened), strconv.Itoa(r.Closed), strconv.Itoa(r.Open),
		strconv.Itoa(r.LegalMet), strconv.Itoa(r.LegalMissed), strconv.Itoa(r.FirstAnswerMet),
		strconv.Itoa(r.FirstAnswerMissed), strconv.Itoa(r.Answered), med,
	}
}

// Percent shows a ratio as "66.7%".
func Percent(ratio float64) string { return strconv.FormatFloat(ratio*100, 'f', 1, 64) + "%" }

// Hours shows working hours as "2.50".
func Hours(h float64) string { return strconv.FormatFloat(h, 'f', 2, 64) }

// CSV writes f in long form, one figure a line, for spreadsheets and
// programs: section, key, name, metric, value. Sections are summary,
// legal, first_answer, time_to_first_answer, backlog, backlog_age,
// by_category, by_remedy, by_product, by_specialist and repeat_defects;
// key is the breakdown's value (empty for none), name a specialist's name.
func CSV(w io.Writer, f Figures) error {
	cw := csv.NewWriter(w)
	rec := func(section, key, name, metric string, value any) {
		cw.Write([]string{section, key, name, metric, fmt.Sprint(value)})
	}
	cw.Write([]string{"section", "key", "name", "metric", "value"})
	rec("summary", "", "", "from", f.From)
	rec("summary", "", "", "to", f.To)
	rec("summary", "", "", "as_of", f.AsOf.Format(time.RFC3339))
	rec("summary", "", "", "opened", f.Opened)
	rec("summary", "", "", "closed", f.Closed)
	rec("summary", "", "", "merged_excluded", f.Merged)
	for _, d := range []struct {
		section string
		d       Deadlines
	}{{"legal", f.Legal}, {"first_answer", f.FirstAnswer}} {
		rec(d.section, "", "", "due", d.d.Due)
		rec(d.section, "", "", "met", d.d.Met)
		rec(d.section, "", "", "missed", d.d.Missed)
		rec(d.section, "", "", "pending", d.d.Pending)
		rec(d.section, "", "", "on_time_ratio", strconv.FormatFloat(d.d.OnTime, 'f', -1, 64))
	}
	t := f.TimeToFirstAnswer
	rec("time_to_first_answer", "", "", "answered", t.Answered)
	rec("time_to_first_answer", "", "", "median_hours", strconv.FormatFloat(t.MedianHours, 'f', -1, 64))
	rec("time_to_first_answer", "", "", "p90_hours", strconv.FormatFloat(t.P90Hours, 'f', -1, 64))
	rec("backlog", "", "", "open", f.Backlog.Open)
	rec("backlog", "", "", "legal_overdue", f.Backlog.LegalOverdue)
	for _, b := range f.Backlog.Ages {
		rec("backlog_age", b.Days, "", "open", b.Count)
	}
	for _, b := range LabelsFor("en").breakdowns(f) {
		for _, r := range b.rows {
			for _, m := range []struct {
				name  string
				value any
			}{
				{"opened", r.Opened}, {"closed", r.Closed}, {"open", r.Open},
				{"legal_met", r.LegalMet}, {"legal_missed", r.LegalMissed},
				{"first_answer_met", r.FirstAnswerMet}, {"first_answer_missed", r.FirstAnswerMissed},
				{"answered", r.Answered}, {"median_first_answer_hours", strconv.FormatFloat(r.MedianHours, 'f', -1, 64)},
			} {
				rec(b.id, r.Key, r.Name, m.name, m.value)
			}
		}
	}
	for _, r := range f.RepeatDefects {
		key := r.Kind + ":" + r.Value
		rec("repeat_defects", key, "", "cases", len(r.Cases))
		rec("repeat_defects", key, "", "in_period", r.InPeriod)
		rec("repeat_defects", key, "", "case_ids", strings.Join(r.Cases, " "))
	}
	cw.Flush()
	return cw.Error()
}

// JSON writes f as indented JSON (the fields' json names).
func JSON(w io.Writer, f Figures) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}
