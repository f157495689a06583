package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// The functions below were rewritten for speed; these tests hold them to
// the simpler code they replaced.

// errAfter yields data, then err.
type errAfter struct {
	data []byte
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// TestReadCapped compares readCapped with readCappedBuffer, which reads
// through a bytes.Buffer as the original did.
func TestReadCapped(t *testing.T) {
	ioErr := errors.New("broken")
	wrappedEOF := &wrapErr{io.EOF}
	for _, data := range []string{"", "a", "hello world", strings.Repeat("ą", 5000)} {
		for _, limit := range []int64{-1, 0, 1, 5, int64(len(data)) - 1, int64(len(data)), int64(len(data)) + 1, 1 << 20} {
			for _, end := range []error{io.EOF, ioErr, wrappedEOF} {
				mk := func() io.Reader { return iotest.HalfReader(&errAfter{data: []byte(data), err: end}) }
				wantData, wantDropped, wantErr := readCappedBuffer(mk(), limit)
				gotData, gotDropped, gotErr := readCapped(make([]byte, 0, 3), mk(), limit)
				if string(gotData) != string(wantData) || gotDropped != wantDropped || !errors.Is(gotErr, wantErr) || (gotErr == nil) != (wantErr == nil) {
					t.Errorf("len %d limit %d end %v: got %d bytes, %d dropped, %v; want %d, %d, %v",
						len(data), limit, end, len(gotData), gotDropped, gotErr, len(wantData), wantDropped, wantErr)
				}
			}
		}
	}
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "wrapped: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

// shortWriter accepts at most n bytes per Write, or fails.
type shortWriter struct {
	buf  bytes.Buffer
	max  int
	fail error
}

func (w *shortWriter) Write(p []byte) (int, error) {
	if w.fail != nil && w.buf.Len() > 0 {
		return 0, w.fail
	}
	if w.max > 0 && len(p) > w.max {
		w.buf.Write(p[:w.max])
		return w.max, nil
	}
	return w.buf.Write(p)
}

// TestStopAtErrorWriteTo compares WriteTo with io.Copy through Read.
func TestStopAtErrorWriteTo(t *testing.T) {
	ioErr := errors.New("broken")
	writeErr := errors.New("disk full")
	for _, data := range []string{"", "abc", strings.Repeat("x", 100<<10)} {
		for _, end := range []error{io.EOF, ioErr, &wrapErr{io.EOF}} {
			for _, w := range []func() *shortWriter{
				func() *shortWriter { return &shortWriter{} },
				func() *shortWriter { return &shortWriter{max: 10} },
				func() *shortWriter { return &shortWriter{fail: writeErr} },
			} {
				viaRead := &stopAtError{r: &errAfter{data: []byte(data), err: end}}
				w1 := w()
				n1, err1 := io.Copy(w1, struct{ io.Reader }{viaRead})
				viaWriteTo := &stopAtError{r: &errAfter{data: []byte(data), err: end}, buf: make([]byte, copyBufferSize)}
				w2 := w()
				n2, err2 := viaWriteTo.WriteTo(w2)
				if n1 != n2 || w1.buf.String() != w2.buf.String() || !errors.Is(err2, err1) || (err1 == nil) != (err2 == nil) ||
					!errors.Is(viaWriteTo.err, viaRead.err) {
					t.Errorf("len %d end %v: io.Copy %d, %v (stop %v); WriteTo %d, %v (stop %v)",
						len(data), end, n1, err1, viaRead.err, n2, err2, viaWriteTo.err)
				}
			}
		}
	}
}

var textSeeds = []string{
	"", "a", "a\r\nb\rc\n", "\r\r\n", "\r", "\n\r", "x\r\n\r\ny\r", "tab\tand\x00nul", "del\x7f", "\xff\xfe bad", "ok \uFFFD replacement",
	"  spaced  out  ", "a  b", " a", "a ", "a\tb", "a\u00a0b", "a\u0085b", "żółć gęślą", "x\xc5", "\u2028",
}

func FuzzCleanText(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cleanText(s), cleanTextSlow(s); got != want {
			t.Fatalf("cleanText(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(crlfToLF([]byte(s))), strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"); got != want {
			t.Fatalf("crlfToLF(%q) = %q, want %q", s, got, want)
		}
		for _, sep := range []string{"", " "} {
			if got, want := joinFields(s, sep), strings.Join(strings.Fields(s), sep); got != want {
				t.Fatalf("joinFields(%q, %q) = %q, want %q", s, sep, got, want)
			}
		}
	})
}

// TestMayOpenForward checks that the cheap test never rejects a line that
// the forward expression accepts, Unicode case-folding included.
func TestMayOpenForward(t *testing.T) {
	phrases := []string{
		"forwarded message", "wiadomość przekazana dalej", "przekazana wiadomość", "wiadomość przekazana",
		"weitergeleitete nachricht", "message transféré", "begin forwarded message:",
		"początek przekazanej wiadomości:", "anfang der weitergeleiteten nachricht :",
	}
	for _, p := range phrases {
		for _, v := range []string{p, strings.ToUpper(p), strings.ToTitle(p),
			strings.ReplaceAll(p, "s", "ſ"), strings.ReplaceAll(p, "k", "\u212a"), strings.ReplaceAll(p, "S", "ſ")} {
			for _, line := range []string{v, "  " + v, "---------- " + v + " ---------", "\t--" + v + "--", "--\t" + v} {
				if forwardLine.MatchString(line) && !mayOpenForward(line) {
					t.Errorf("mayOpenForward rejects %q", line)
				}
			}
		}
	}
}

// TestScanControls puts every byte value at every position of a string
// long enough for the eight-byte steps.
func TestScanControls(t *testing.T) {
	base := []byte("abcdefghijklmnopqrstuvwxyzżółć")
	for c := 0; c < 256; c++ {
		for pos := range base {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			wantCR := c == '\r'
			wantControl := c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f
			if cr, ctl := scanControls(string(b)); cr != wantCR || ctl != wantControl {
				t.Fatalf("byte %#x at %d: scanControls = %v, %v", c, pos, cr, ctl)
			}
		}
	}
}

// originalMessageLine is what isOriginalMessageLine implements.
var originalMessageLine = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|wiadomość oryginalna|oryginalna wiadomość|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}\s*$`)

func FuzzOriginalMessageLine(f *testing.F) {
	for _, s := range []string{
		"-----Original Message-----", "----- Original Message -----", "-------- Oryginalna wiadomość --------",
		"-----Wiadomość oryginalna-----", " \t--ursprüngliche NACHRICHT--\r", "--original message-", "-original message--",
		"--original  message--", "--message d'origine--", "--MENSAJE ORIGINAL--\f", "----", "--original meſſage--",
		"-- original message -- --", "--\xffriginal message--", "---original message\n---", "--Original Message--x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isOriginalMessageLine(s), originalMessageLine.MatchString(s); got != want {
			t.Fatalf("isOriginalMessageLine(%q) = %v, the expression says %v", s, got, want)
		}
	})
}

// TestParseConcurrent parses messages from several goroutines at once, so
// that buffers recycled between Parse calls (see parseBuffers) would show
// if they leaked from one call into another.
func TestParseConcurrent(t *testing.T) {
	var raws []string
	for _, tc := range parseCases(t) {
		raws = append(raws, tc.raw)
	}
	raws = append(raws, string(complaintMessage()))
	want := make([]*Parsed, len(raws))
	for i, raw := range raws {
		want[i], _ = Parse(strings.NewReader(raw), hashSink{})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 20; round++ {
				for i := range raws {
					i := (i + g + round) % len(raws)
					got, _ := Parse(iotest.HalfReader(strings.NewReader(raws[i])), hashSink{})
					if !reflect.DeepEqual(got, want[i]) {
						select {
						case errs <- fmt.Sprintf("message %d: concurrent parse differs:\n%+v\nwant\n%+v", i, got, want[i]):
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
