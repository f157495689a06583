package templates

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// reportFull is the week of 2-8 March 2026 (report/figures_test.go tells
// the story of its cases), with a chart and the workbook attached. A
// product named in the complaints carries markup so that the HTML golden
// documents the escaping.
func reportFull(t *testing.T) ReportData {
	loc := warsaw(t)
	return ReportData{
		RecipientName: "Piotr Wiśniewski",
		From:          time.Date(2026, time.March, 2, 0, 0, 0, 0, loc),
		To:            time.Date(2026, time.March, 8, 0, 0, 0, 0, loc),
		Opened:        8,
		Closed:        4,
		Legal:         ReportDeadlines{Due: 3, Met: 1, Missed: 2, OnTime: 0.3333},
		FirstAnswer:   ReportDeadlines{Due: 6, Met: 2, Missed: 3, Pending: 1, OnTime: 0.4},
		Answered:      3, MedianHours: 2.5, P90Hours: 10,
		Open: 7, LegalOverdue: 1,
		Categories: []ReportCount{
			{Name: "transport_damage", Opened: 5, Closed: 2},
			{Name: "billing", Opened: 1},
			{Opened: 1},
		},
		RepeatDefects:      []ReportRepeat{{Serial: true, Value: "sn1000", Cases: 3}, {Value: "Pralka <X100> & spółka", Cases: 2}},
		RepeatDefectsTotal: 3,
		ChartCID:           "chart.claimsd.report.7@sklep.example.com",
		Attachment:         "raport-2026-03-02.xlsx",
		Organization:       "Sklep Przykład sp. z o.o.",
	}
}

// reportEmpty is a quiet week: no name, nothing decided, no chart, no
// attachment.
func reportEmpty(t *testing.T) ReportData {
	d := reportFull(t)
	return ReportData{From: d.From, To: d.To}
}

func reportOf(d func(*testing.T) ReportData) renderer {
	return func(t *testing.T, s *Set, lang string) (Rendered, string, error) { return s.Report(lang, d(t)) }
}

func TestReportGolden(t *testing.T) {
	s := loadDefaults(t)
	for _, variant := range []struct {
		suffix string
		render renderer
	}{
		{"", reportOf(reportFull)},
		{".empty", reportOf(reportEmpty)},
	} {
		for _, lang := range []string{"pl", "en"} {
			prefix := "report." + lang + variant.suffix
			t.Run(prefix, func(t *testing.T) {
				r, used, err := variant.render(t, s, lang)
				if err != nil {
					t.Fatal(err)
				}
				if used != lang {
					t.Errorf("language used = %q, want %q", used, lang)
				}
				golden(t, prefix+".txt.golden", r.Text)
				golden(t, prefix+".html.golden", r.HTML)
				if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>\n<html lang=\""+lang+"\">") {
					t.Errorf("HTML does not start with a doctype and <html lang=%q>", lang)
				}
				// The only resource the HTML refers to is the inline chart.
				if n := strings.Count(r.HTML, "src="); n > 1 || (n == 1) != (variant.suffix == "") {
					t.Errorf("HTML has %d src attributes", n)
				}
				for _, remote := range []string{"http:", "https:", "<link", "url("} {
					if strings.Contains(r.HTML, remote) {
						t.Errorf("HTML refers to an external resource: %q", remote)
					}
				}
			})
		}
	}
}

func TestReportContent(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		lang  string
		data  func(*testing.T) ReportData
		text  []string // in the text part, flattened
		html  []string // in the HTML part
		notIn []string // in neither
	}{
		{"pl", reportFull,
			[]string{"od 2 marca 2026 r. do 8 marca 2026 r. nowe sprawy: 8", "w terminie 33,3%", "w toku 1",
				"mediana 2,5 h, 90. percentyl 10,0 h", "po terminie ustawowym: 1", "bez kategorii: 1 / 0",
				"numer seryjny sn1000: 3 sprawy", "raport-2026-03-02.xlsx"},
			[]string{`<img src="cid:chart.claimsd.report.7@sklep.example.com"`, "Pralka &lt;X100&gt; &amp; spółka", "40,0% w terminie"},
			nil},
		{"en", reportFull,
			[]string{"33.3% on time", "1 pending", "median 2.5 h, 90th percentile 10.0 h", "uncategorised: 1 / 0",
				"serial number sn1000: 3 cases", "product pralka <x100> & spółka: 2 cases"},
			[]string{`src="cid:chart.claimsd.report.7@sklep.example.com"`},
			nil},
		{"pl", reportEmpty,
			[]string{"dzień dobry,", "terminy ustawowe: 0 dotrzymane 0, przekroczone 0 terminy", "pierwsze odpowiedzi: 0"},
			nil,
			[]string{"w terminie", "mediana", "według kategorii", "powtarzające", "załączonym", "<img"}},
	}
	for _, tt := range tests {
		r, _, err := s.Report(tt.lang, tt.data(t))
		if err != nil {
			t.Fatal(err)
		}
		text := flatten(r.Text)
		for _, want := range tt.text {
			if !strings.Contains(text, want) {
				t.Errorf("%s text lacks %q:\n%s", tt.lang, want, r.Text)
			}
		}
		for _, want := range tt.html {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("%s HTML lacks %q", tt.lang, want)
			}
		}
		for _, not := range tt.notIn {
			if strings.Contains(text, not) || strings.Contains(r.HTML, not) {
				t.Errorf("%s mail has %q", tt.lang, not)
			}
		}
	}
}

func TestReportSubject(t *testing.T) {
	s := loadDefaults(t)
	for lang, want := range map[string]string{
		"pl": "Raport reklamacji: 2 marca 2026 r. – 8 marca 2026 r.",
		"en": "Complaints report: 2 March 2026 – 8 March 2026",
	} {
		r, _, err := s.Report(lang, reportFull(t))
		if err != nil || r.Subject != want {
			t.Errorf("%s: subject %q, %v; want %q", lang, r.Subject, err, want)
		}
	}
}

func TestReportRejectsBadData(t *testing.T) {
	s := loadDefaults(t)
	tests := []struct {
		name string
		edit func(*ReportData)
		want string
	}{
		{"no period", func(d *ReportData) { d.From = time.Time{} }, "zero From"},
		{"period backwards", func(d *ReportData) { d.From, d.To = d.To, d.From }, "before From"},
		{"chart id that would break out of the URL", func(d *ReportData) { d.ChartCID = `x"onerror="alert(1)@a` }, "ChartCID"},
		{"chart id without a domain", func(d *ReportData) { d.ChartCID = "chart" }, "ChartCID"},
	}
	for _, tt := range tests {
		d := reportFull(t)
		tt.edit(&d)
		if _, _, err := s.Report("pl", d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestReportTextWidth keeps the wording of the text parts within 76
// characters a line, the widest month names swapped in.
func TestReportTextWidth(t *testing.T) {
	s := loadDefaults(t)
	widen := strings.NewReplacer("marca", "października", "March", "September")
	for _, lang := range s.Languages() {
		for _, d := range []func(*testing.T) ReportData{reportFull, reportEmpty} {
			r, _, err := s.Report(lang, d(t))
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(widen.Replace(r.Text), "\n") {
				if strings.Contains(line, "Sklep Przykład") || strings.Contains(line, "Piotr") {
					continue
				}
				if n := utf8.RuneCountInString(line); n > 76 {
					t.Errorf("%s line %d has %d characters: %q", lang, i+1, n, line)
				}
			}
		}
	}
}
