package outbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/wneessen/go-mail"

	"github.com/claimsd/claimsd/message"
	"github.com/claimsd/claimsd/report"
	"github.com/claimsd/claimsd/store"
	"github.com/claimsd/claimsd/templates"
)

// PurposeReport is the weekly report mail to supervisors.
const PurposeReport = "report"

// Content types of the report's files.
const (
	ContentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	ContentTypePNG  = "image/png"
)

// The report mail lists this many categories and repeat defects; the
// workbook has them all.
const (
	reportMailCategories = 8
	reportMailRepeats    = 5
)

// ReportFiles are a report's workbook and chart, stored as attachment
// blobs by StoreReportFiles.
type ReportFiles struct {
	Workbook, Chart store.OutboxAttachment
}

// StoreReportFiles renders the workbook and the chart of f in lang and
// stores them among the attachment blobs. Unlike a customer's attachments
// they cannot be extracted again from a raw message, so each file and its
// directory are synced before this returns, i.e. before the commit of the
// mail that refers to them.
func StoreReportFiles(db *store.DB, f report.Figures, lang string) (ReportFiles, error) {
	l := report.LabelsFor(lang)
	var xlsx, png bytes.Buffer
	if err := report.XLSX(&xlsx, f, l, nil); err != nil {
		return ReportFiles{}, err
	}
	if err := report.Chart(&png, f, l); err != nil {
		return ReportFiles{}, err
	}
	prefix, chart := "claims-report", "chart.png"
	if l.Lang == "pl" {
		prefix, chart = "raport-reklamacji", "wykres.png"
	}
	var files ReportFiles
	var err error
	if files.Workbook, err = storeDurable(db, fmt.Sprintf("%s-%s-%s.xlsx", prefix, f.From, f.To), ContentTypeXLSX, xlsx.Bytes()); err != nil {
		return ReportFiles{}, err
	}
	if files.Chart, err = storeDurable(db, chart, ContentTypePNG, png.Bytes()); err != nil {
		return ReportFiles{}, err
	}
	return files, nil
}

// storeDurable writes data as an attachment blob, synced.
func storeDurable(db *store.DB, name, contentType string, data []byte) (store.OutboxAttachment, error) {
	blobs := db.Attachments()
	f, err := os.CreateTemp(db.TempDir(), "report-*")
	if err != nil {
		return store.OutboxAttachment{}, fmt.Errorf("store %s: %w", name, err)
	}
	defer os.Remove(f.Name()) // no-op after Adopt
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	if _, err := f.Write(data); err != nil {
		f.Close()
		return store.OutboxAttachment{}, fmt.Errorf("store %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return store.OutboxAttachment{}, fmt.Errorf("store %s: sync: %w", name, err)
	}
	if err := blobs.Adopt(f, hexSum); err != nil {
		return store.OutboxAttachment{}, fmt.Errorf("store %s: %w", name, err)
	}
	path := blobs.Path(hexSum)
	if err := store.SyncDir(filepath.Dir(path)); err != nil {
		return store.OutboxAttachment{}, fmt.Errorf("store %s: %w", name, err)
	}
	return store.OutboxAttachment{Name: name, ContentType: contentType, SHA256: hexSum, Path: path}, nil
}

// QueueReport queues the report of f to each of to, in tx: the text and
// HTML of the report template in the staff's language, the chart inline
// and the workbook attached (files from StoreReportFiles). It returns the
// ids of the queued mails.
func (r *Responder) QueueReport(tx *store.Tx, f report.Figures, files ReportFiles, to []message.Address, now time.Time) ([]uint64, error) {
	lang := r.set.Templates.DefaultLanguage()
	var ids []uint64
	for _, rcpt := range to {
		d := reportData(f, r.set.Location)
		d.RecipientName, d.Organization = rcpt.Name, r.set.Organization
		d.ChartCID, d.Attachment = ReportChartCID(files.Chart.SHA256, r.set.IDs.Domain), files.Workbook.Name
		body, used, err := r.set.Templates.Report(lang, d)
		if err != nil {
			return nil, fmt.Errorf("report mail: %w", err)
		}
		it, err := r.staffItem(tx, nil, PurposeReport, rcpt, body, used, now)
		if err != nil {
			return nil, err
		}
		it.Attachments = []store.OutboxAttachment{files.Chart, files.Workbook}
		if err := r.addStaffItem(tx, nil, it, now); err != nil {
			return nil, err
		}
		ids = append(ids, it.ID)
	}
	return ids, nil
}

// ReportChartCID is the Content-ID (without <>) of a report's chart with
// SHA-256 sum, in the report mail from domain: the HTML part, rendered
// when the mail is queued, and the image part, written when it is sent,
// both derive it so.
func ReportChartCID(sum, domain string) string {
	return "chart." + sum[:min(len(sum), 24)] + "@" + domain
}

// reportData is what the report template shows of f.
func reportData(f report.Figures, loc *time.Location) templates.ReportData {
	deadlines := func(d report.Deadlines) templates.ReportDeadlines {
		return templates.ReportDeadlines{Due: d.Due, Met: d.Met, Missed: d.Missed, Pending: d.Pending, OnTime: templates.Ratio(d.OnTime)}
	}
	d := templates.ReportData{
		From: f.From.Start(loc), To: f.To.Start(loc),
		Opened: f.Opened, Closed: f.Closed,
		Legal: deadlines(f.Legal), FirstAnswer: deadlines(f.FirstAnswer),
		Answered:    f.TimeToFirstAnswer.Answered,
		MedianHours: templates.Hours(f.TimeToFirstAnswer.MedianHours), P90Hours: templates.Hours(f.TimeToFirstAnswer.P90Hours),
		Open: f.Backlog.Open, LegalOverdue: f.Backlog.LegalOverdue,
		RepeatDefectsTotal: len(f.RepeatDefects),
	}
	for _, c := range f.ByCategory {
		if (c.Opened > 0 || c.Closed > 0) && len(d.Categories) < reportMailCategories {
			d.Categories = append(d.Categories, templates.ReportCount{Name: c.Key, Opened: c.Opened, Closed: c.Closed})
		}
	}
	for _, rd := range f.RepeatDefects[:min(len(f.RepeatDefects), reportMailRepeats)] {
		d.RepeatDefects = append(d.RepeatDefects, templates.ReportRepeat{Serial: rd.Kind == report.RepeatSerial, Value: rd.Value, Cases: len(rd.Cases)})
	}
	return d
}

// setReportBody writes the report mail's body:
//
//	multipart/mixed
//	├── multipart/related
//	│   ├── multipart/alternative: text/plain, text/html
//	│   └── image/png (Content-ID, inline): the chart
//	└── the workbook (attachment)
//
// go-mail writes this nesting, but its fixed boundary (WithBoundary, which
// Compose needs so that an item renders to the same bytes on every attempt)
// is given to all three multiparts, and a boundary repeated inside a part
// ends the outer one (RFC 2046 §5.1.1). So the body is built here with
// go-message's writer, a boundary per multipart derived from the
// Message-ID, and handed to go-mail as one part of type multipart/mixed
// written as it is ("8bit": go-mail re-encodes anything else; the content
// is 7-bit anyway, quoted-printable and base64). go-mail still writes
// every header, as for every other mail.
//
// Image attachments of the item are the inline parts; the Content-ID of
// each is ReportChartCID of its sum and the Message-ID's domain.
func setReportBody(m *mail.Msg, it *store.OutboxItem) error {
	body, contentType, err := reportBody(it)
	if err != nil {
		return err
	}
	m.SetBodyWriter(mail.ContentType(contentType), func(w io.Writer) (int64, error) {
		n, err := w.Write(body)
		return int64(n), err
	}, mail.WithPartEncoding(mail.NoEncoding))
	return nil
}

// reportBody returns the body of the report mail it and its top-level
// Content-Type.
func reportBody(it *store.OutboxItem) ([]byte, string, error) {
	_, domain, _ := strings.Cut(it.MessageID, "@")
	boundary := func(kind string) string { return boundaryFor(it.MessageID + "\x00" + kind) }
	var top gomessage.Header
	top.SetContentType("multipart/mixed", map[string]string{"boundary": boundary("mixed")})
	var buf bytes.Buffer
	mixed, err := gomessage.CreateWriter(&buf, top)
	if err != nil {
		return nil, "", err
	}
	var rh gomessage.Header
	rh.SetContentType("multipart/related", map[string]string{"boundary": boundary("related"), "type": "multipart/alternative"})
	related, err := mixed.CreatePart(rh)
	if err != nil {
		return nil, "", err
	}
	var ah gomessage.Header
	ah.SetContentType("multipart/alternative", map[string]string{"boundary": boundary("alternative")})
	alt, err := related.CreatePart(ah)
	if err != nil {
		return nil, "", err
	}
	for _, p := range []struct{ ctype, body string }{{"text/plain", it.Text}, {"text/html", it.HTML}} {
		if p.body == "" {
			continue
		}
		var h gomessage.Header
		h.SetContentType(p.ctype, map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		if err := writePart(alt, h, strings.NewReader(strings.ToValidUTF8(p.body, "\uFFFD"))); err != nil {
			return nil, "", err
		}
	}
	if err := alt.Close(); err != nil {
		return nil, "", err
	}
	var attached []store.OutboxAttachment
	for _, a := range it.Attachments {
		if !strings.HasPrefix(a.ContentType, "image/") {
			attached = append(attached, a)
			continue
		}
		h := fileHeader(a, "inline")
		h.Set("Content-Id", "<"+ReportChartCID(a.SHA256, domain)+">")
		if err := writeFile(related, h, a); err != nil {
			return nil, "", err
		}
	}
	if err := related.Close(); err != nil {
		return nil, "", err
	}
	for _, a := range attached {
		if err := writeFile(mixed, fileHeader(a, "attachment"), a); err != nil {
			return nil, "", err
		}
	}
	if err := mixed.Close(); err != nil {
		return nil, "", err
	}
	// CreateWriter wrote the top-level header, which go-mail writes
	// itself: keep what follows the blank line that ends it.
	_, body, ok := bytes.Cut(buf.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		return nil, "", errors.New("report body: no header end")
	}
	return body, "multipart/mixed; boundary=" + boundary("mixed"), nil
}

// fileHeader is the header of an attached file, its name made safe for a
// header (mime.FormatMediaType encodes any non-ASCII, RFC 2231).
func fileHeader(a store.OutboxAttachment, disposition string) gomessage.Header {
	name := SafeHeaderText(a.Name, 200)
	ctype := a.ContentType
	if ctype == "" || strings.ContainsAny(ctype, "\r\n;") {
		ctype = "application/octet-stream"
	}
	var h gomessage.Header
	h.SetContentType(ctype, map[string]string{"name": name})
	h.SetContentDisposition(disposition, map[string]string{"filename": name})
	h.Set("Content-Transfer-Encoding", "base64")
	return h
}

// writeFile writes the blob of a as a part of w, after checking that it
// is the file the item was queued with.
func writeFile(w *gomessage.Writer, h gomessage.Header, a store.OutboxAttachment) error {
	data, err := os.ReadFile(a.Path)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", a.Name, err)
	}
	if sum := sha256.Sum256(data); a.SHA256 != "" && hex.EncodeToString(sum[:]) != a.SHA256 {
		return fmt.Errorf("attachment %s: %s does not hold sha256 %s", a.Name, a.Path, a.SHA256)
	}
	return writePart(w, h, bytes.NewReader(data))
}

func writePart(w *gomessage.Writer, h gomessage.Header, body io.Reader) error {
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(pw, body); err != nil {
		return err
	}
	return pw.Close()
}
