package templates

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"time"
)

// ReportData is the weekly report mail to supervisors: the key figures of
// a period; the details are in the attached workbook (Attachment) and the
// chart is an inline image (ChartCID).
type ReportData struct {
	RecipientName string    // supervisor's name, or "" for a neutral greeting
	From, To      time.Time // first and last day of the period (midnight, configured zone)
	Opened        int       // cases received in the period
	Closed        int       // cases closed in it
	// Legal and FirstAnswer are the deadlines that fell in the period.
	Legal, FirstAnswer ReportDeadlines
	// Answered cases got their first answer in the period, after a median
	// and a 90th percentile of MedianHours and P90Hours working hours.
	Answered           int
	MedianHours        Hours
	P90Hours           Hours
	Open, LegalOverdue int // open at the end of the period; of them past the legal date
	Categories         []ReportCount
	RepeatDefects      []ReportRepeat // the most frequent ones
	RepeatDefectsTotal int            // how many there are in all
	ChartCID           string         // Content-ID of the inline chart (without <>); "" for none
	Attachment         string         // file name of the attached workbook; "" for none
	Organization       string
}

// ReportDeadlines counts the deadlines of one kind in a period.
type ReportDeadlines struct {
	Due, Met, Missed, Pending int
	OnTime                    Ratio // Met / (Met + Missed); shown only when Met + Missed > 0
}

// Decided is Met + Missed.
func (d ReportDeadlines) Decided() int { return d.Met + d.Missed }

// ReportCount is one category's new and closed cases.
type ReportCount struct {
	Name           string // "" means uncategorised
	Opened, Closed int
}

// ReportRepeat is a product or serial number named in several cases.
type ReportRepeat struct {
	Serial bool // a serial number; else a product, SKU or model code
	Value  string
	Cases  int
}

// Ratio is a share between 0 and 1, shown as a percentage.
type Ratio float64

// PL is the Polish form, "33,3%".
func (r Ratio) PL() string { return strings.Replace(r.EN(), ".", ",", 1) }

// EN is the English form, "33.3%".
func (r Ratio) EN() string { return strconv.FormatFloat(float64(r)*100, 'f', 1, 64) + "%" }

// Hours are working hours, shown with one decimal.
type Hours float64

// PL is the Polish form, "2,5".
func (h Hours) PL() string { return strings.Replace(h.EN(), ".", ",", 1) }

// EN is the English form, "2.5".
func (h Hours) EN() string { return strconv.FormatFloat(float64(h), 'f', 1, 64) }

// ChartSrc is the chart's address in the HTML part, "cid:ID" (RFC 2392),
// or "" when there is no chart. The Content-ID is checked to hold only
// characters that need no escaping in a URL, so html/template may trust it.
func (d ReportData) ChartSrc() htmltemplate.URL {
	if !validContentID(d.ChartCID) {
		return ""
	}
	return htmltemplate.URL("cid:" + d.ChartCID)
}

// validContentID accepts the ids claimsd makes (like its Message-IDs):
// letters, digits and . - _ + with one @ between two non-empty parts.
func validContentID(id string) bool {
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") || len(id) > 200 {
		return false
	}
	for _, r := range id {
		if !isAlnumASCII(r) && !strings.ContainsRune(".-_+@", r) {
			return false
		}
	}
	return true
}

func isAlnumASCII(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// Report renders the weekly report mail. The subject names the period.
func (s *Set) Report(lang string, d ReportData) (Rendered, string, error) {
	switch {
	case d.From.IsZero() || d.To.IsZero():
		return Rendered{}, "", errors.New("templates: report: zero From or To")
	case d.To.Before(d.From):
		return Rendered{}, "", fmt.Errorf("templates: report: To %s before From %s", d.To.Format(time.DateOnly), d.From.Format(time.DateOnly))
	case d.ChartCID != "" && !validContentID(d.ChartCID):
		return Rendered{}, "", fmt.Errorf("templates: report: ChartCID %q is not a Content-ID claimsd makes", d.ChartCID)
	}
	return s.render(lang, nameReport, d)
}

// reportSamples are a full week and an empty one without chart or
// attachment, for Load to check overrides with.
func reportSamples() []any {
	from := time.Date(2025, time.October, 27, 0, 0, 0, 0, time.UTC)
	full := ReportData{
		RecipientName: "Piotr Wiśniewski", From: from, To: from.AddDate(0, 0, 6),
		Opened: 12, Closed: 9,
		Legal:       ReportDeadlines{Due: 7, Met: 5, Missed: 1, Pending: 1, OnTime: 5.0 / 6},
		FirstAnswer: ReportDeadlines{Due: 12, Met: 11, Missed: 1, OnTime: 11.0 / 12},
		Answered:    10, MedianHours: 2.5, P90Hours: 7.25,
		Open: 14, LegalOverdue: 1,
		Categories:    []ReportCount{{Name: "transport_damage", Opened: 5, Closed: 3}, {Opened: 1}},
		RepeatDefects: []ReportRepeat{{Serial: true, Value: "SN1000", Cases: 3}, {Value: "SKU-555", Cases: 2}},
		ChartCID:      "chart.claimsd.report.1@example.com", Attachment: "raport-2025-10-27.xlsx",
		RepeatDefectsTotal: 4, Organization: "Sklep sp. z o.o.",
	}
	empty := ReportData{From: from, To: from.AddDate(0, 0, 6)}
	return []any{full, empty}
}
