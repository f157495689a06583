package outbox

import (
	"bytes"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/wneessen/go-mail"
	"github.com/xuri/excelize/v2"

	"github.com/claimsd/claimsd/calendar"
	"github.com/claimsd/claimsd/caseref"
	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/report"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// reportFigures are the figures of a small week: two transport damages
// (one answered in 2 working hours, one closed) and a serial number
// named by both.
func reportFigures(t *testing.T) report.Figures {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	hours, _ := calendar.ParseHours("08:00", "16:00", nil)
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, loc) }
	cases := []report.Case{
		{ID: "CLM-2026-000001", Status: store.StatusOpen, Category: "transport_damage", ReceivedAt: at(2, 9),
			FirstAnswerDue: at(2, 13), FirstAnsweredAt: at(2, 11), Serials: []string{"SN1"}},
		{ID: "CLM-2026-000002", Status: store.StatusResolved, Category: "transport_damage", ReceivedAt: at(3, 9),
			ClosedAt: at(4, 9), LegalAnsweredAt: at(4, 9), Serials: []string{"SN1"}},
	}
	week := report.Period{From: calendar.Date{Year: 2026, Month: 3, Day: 2}, To: calendar.Date{Year: 2026, Month: 3, Day: 8}}
	return report.Compute(cases, week, report.Settings{Calendar: calendar.New(loc, nil, nil), Hours: hours}, at(9, 7))
}

// queueReport queues the report of f to two supervisors in a fresh store
// and returns the items.
func queueReport(t *testing.T, f report.Figures) (*store.DB, []store.OutboxItem) {
	t.Helper()
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tpl, err := templates.Load("", "pl")
	if err != nil {
		t.Fatal(err)
	}
	r := NewResponder(Settings{
		From:         message.Address{Name: "Reklamacje", Addr: "reklamacje@sklep.example"},
		IDs:          caseref.MessageIDs{Key: db.MessageIDKey(), Domain: "sklep.example"},
		Location:     time.UTC,
		Templates:    tpl,
		Organization: "Sklep",
	}, nil)
	files, err := StoreReportFiles(db, f, "pl")
	if err != nil {
		t.Fatal(err)
	}
	to := []message.Address{{Name: "Piotr", Addr: "piotr@sklep.example"}, {Addr: "ewa@sklep.example"}}
	var items []store.OutboxItem
	err = db.Update(func(tx *store.Tx) error {
		ids, err := r.QueueReport(tx, f, files, to, time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		for _, id := range ids {
			it, _, err := tx.Outbox(id)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, items
}

// part is one MIME entity of a parsed mail, with its children.
type part struct {
	mediaType string
	params    map[string]string
	header    gomessage.Header
	body      []byte
	parts     []part
}

func parsePart(t *testing.T, e *gomessage.Entity) part {
	t.Helper()
	mt, params, err := e.Header.ContentType()
	if err != nil {
		t.Fatal(err)
	}
	p := part{mediaType: mt, params: params, header: e.Header}
	if mr := e.MultipartReader(); mr != nil {
		for {
			child, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			p.parts = append(p.parts, parsePart(t, child))
		}
		return p
	}
	if p.body, err = io.ReadAll(e.Body); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReportMailStructure(t *testing.T) {
	f := reportFigures(t)
	_, items := queueReport(t, f)
	if len(items) != 2 {
		t.Fatalf("%d items queued", len(items))
	}
	it := items[0]
	if it.Purpose != PurposeReport || it.To.Addr != "piotr@sklep.example" || it.CaseID != "" || it.AutoSubmitted != "auto-generated" {
		t.Errorf("item %+v", it)
	}
	if it.Subject != "Raport reklamacji: 2 marca 2026 r. – 8 marca 2026 r." {
		t.Errorf("subject %q", it.Subject)
	}
	raw, err := Render(&it)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Render(&it)
	if !bytes.Equal(raw, again) {
		t.Error("the report mail does not render to the same bytes twice")
	}
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Message-Id", "Auto-Submitted", "X-Auto-Response-Suppress", "Date", "Mime-Version"} {
		if e.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	top := parsePart(t, e)
	// mixed( related( alternative(text, html), png ), xlsx )
	if top.mediaType != "multipart/mixed" || len(top.parts) != 2 {
		t.Fatalf("top: %s with %d parts", top.mediaType, len(top.parts))
	}
	related, xlsx := top.parts[0], top.parts[1]
	if related.mediaType != "multipart/related" || related.params["type"] != "multipart/alternative" || len(related.parts) != 2 {
		t.Fatalf("first part: %s %v with %d parts", related.mediaType, related.params, len(related.parts))
	}
	alt, img := related.parts[0], related.parts[1]
	if alt.mediaType != "multipart/alternative" || len(alt.parts) != 2 || alt.parts[0].mediaType != "text/plain" || alt.parts[1].mediaType != "text/html" {
		t.Fatalf("alternative: %+v", alt)
	}
	boundaries := map[string]bool{top.params["boundary"]: true, related.params["boundary"]: true, alt.params["boundary"]: true}
	if len(boundaries) != 3 {
		t.Errorf("boundaries not distinct: %v", boundaries)
	}
	text, html := string(alt.parts[0].body), string(alt.parts[1].body)
	if !strings.Contains(text, "Dzień dobry, Piotr,") || !strings.Contains(text, "Nowe sprawy: 2") {
		t.Errorf("text part:\n%s", text)
	}
	cid := strings.Trim(img.header.Get("Content-Id"), "<>")
	if img.mediaType != "image/png" || cid == "" || !strings.Contains(html, `src="cid:`+cid+`"`) {
		t.Errorf("image %s, Content-ID %q; HTML:\n%s", img.mediaType, cid, html)
	}
	if disp, _, _ := img.header.ContentDisposition(); disp != "inline" {
		t.Errorf("image disposition %q", disp)
	}
	if _, err := png.Decode(bytes.NewReader(img.body)); err != nil {
		t.Errorf("chart: %v", err)
	}
	disp, dparams, _ := xlsx.header.ContentDisposition()
	if xlsx.mediaType != ContentTypeXLSX || disp != "attachment" || dparams["filename"] != "raport-reklamacji-2026-03-02-2026-03-08.xlsx" {
		t.Errorf("workbook part %s %s %v", xlsx.mediaType, disp, dparams)
	}
	book, err := excelize.OpenReader(bytes.NewReader(xlsx.body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	l := report.LabelsFor("pl")
	for id, want := range map[string]string{"opened": "2", "closed": "1", "answered": "2", "median_hours": "2", "repeat_defects": "1"} {
		if got, _ := book.GetCellValue(l.Summary, report.SummaryCell(id), excelize.Options{RawCellValue: true}); got != want {
			t.Errorf("workbook %s = %q, want %q", id, got, want)
		}
	}
	// claimsd's own parser, which reads replies, sees the workbook as an
	// attachment and the chart as inline.
	p, err := message.Parse(bytes.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range p.Attachments {
		names = append(names, a.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "raport-reklamacji-2026-03-02-2026-03-08.xlsx") {
		t.Errorf("parsed attachments %q", names)
	}
	// The second supervisor has no name: neutral greeting, same files.
	if items[1].Attachments[1].SHA256 != it.Attachments[1].SHA256 || !strings.Contains(items[1].Text, "Dzień dobry,\n") {
		t.Errorf("second mail: %+v", items[1])
	}
}

func TestReportFilesAreStoredDurably(t *testing.T) {
	_, items := queueReport(t, reportFigures(t))
	for _, a := range items[0].Attachments {
		data, err := os.ReadFile(a.Path)
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v", a.Name, err)
		}
	}
}

// TestReportMailWithDamagedBlob: a workbook changed or lost after queueing
// is a compose error of ours (configuration class: the mail waits for a
// fix), never a mail with the wrong file.
func TestReportMailWithDamagedBlob(t *testing.T) {
	_, items := queueReport(t, reportFigures(t))
	it := items[0]
	wb := it.Attachments[1]
	if err := os.WriteFile(wb.Path, []byte("not the workbook"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Render(&it); err == nil || !strings.Contains(err.Error(), "does not hold sha256") {
		t.Errorf("damaged workbook: %v", err)
	}
	os.Remove(wb.Path)
	errs := (&SMTP{cfg: SMTPConfig{Host: "127.0.0.1", Port: 1, Security: SecurityNone}}).Deliver(t.Context(), []store.OutboxItem{it})
	if !IsConfigError(errs[0]) {
		t.Errorf("lost workbook: %v is not a configuration error", errs[0])
	}
}

// TestGoMailRepeatsFixedBoundary documents why the report body is built
// with go-message: go-mail (v0.8.1) gives the boundary of WithBoundary to
// every nested multipart, so the inner ones end the outer. If this fails
// after an upgrade, go-mail has fixed it and setReportBody may go.
func TestGoMailRepeatsFixedBoundary(t *testing.T) {
	dir := t.TempDir()
	png, xlsx := dir+"/chart.png", dir+"/book.xlsx"
	os.WriteFile(png, []byte("png"), 0o600)
	os.WriteFile(xlsx, []byte("xlsx"), 0o600)
	m := mail.NewMsg(mail.WithBoundary("FIXED"))
	m.From("a@example.com")
	m.To("b@example.com")
	m.SetBodyString(mail.TypeTextPlain, "text")
	m.AddAlternativeString(mail.TypeTextHTML, "<p>html</p>")
	m.EmbedFile(png)
	m.AttachFile(xlsx)
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "boundary=FIXED"); n != 3 {
		t.Errorf("go-mail now writes boundary=FIXED %d times (v0.8.1: 3, once per nested multipart): it may nest correctly now; see setReportBody", n)
	}
}
