package reliability

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/claimsd/claimsd/message"
)

// FuzzTarget is one fuzz function of the module and how corpus messages
// become its seed inputs.
type FuzzTarget struct {
	Package string // import path
	Name    string
	// seeds turns one corpus message into inputs, each one value per
	// argument of the fuzz function (string or []byte as it declares).
	seeds func(m corpusMessage) [][]any
}

// corpusMessage is one corpus file with what the seeders read from it.
type corpusMessage struct {
	raw    []byte
	header mail.Header // nil when the header does not parse
	parsed *message.Parsed
}

const module = "github.com/claimsd/claimsd"

// FuzzTargets lists the parsers' fuzzers and their seeds from the corpus:
// whole messages for MIME, Subject values for subject normalisation,
// bodies for commands, reply splitting, language and classification,
// delivery-status parts for DSN parsing, Authentication-Results values,
// and names and subjects for the outgoing headers. Targets that read no
// mail (the classifier's rules and model files) run on their own seeds.
func FuzzTargets() []FuzzTarget {
	text := func(m corpusMessage) string { return clipBytes(m.parsed.Text, 16<<10) }
	headerValues := func(name string) func(corpusMessage) [][]any {
		return func(m corpusMessage) [][]any {
			var out [][]any
			for _, v := range m.header[name] {
				out = append(out, []any{v})
			}
			return out
		}
	}
	return []FuzzTarget{
		{module + "/message", "FuzzParse", func(m corpusMessage) [][]any {
			if len(m.raw) > 256<<10 {
				return nil
			}
			return [][]any{{m.raw}}
		}},
		{module + "/message", "FuzzNormalizeSubject", headerValues("Subject")},
		{module + "/message", "FuzzSplitReply", func(m corpusMessage) [][]any { return [][]any{{text(m)}} }},
		{module + "/message", "FuzzCleanText", func(m corpusMessage) [][]any { return [][]any{{text(m)}} }},
		{module + "/message", "FuzzOriginalMessageLine", func(m corpusMessage) [][]any {
			var out [][]any
			for _, line := range strings.Split(text(m), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "--") || strings.Contains(strings.ToLower(line), "original") {
					out = append(out, []any{line})
				}
			}
			return out
		}},
		{module + "/message", "FuzzDeliveryStatus", func(m corpusMessage) [][]any {
			var out [][]any
			for _, part := range deliveryStatusParts(m.raw) {
				out = append(out, []any{part})
			}
			return out
		}},
		{module + "/staff", "FuzzParseAuthResults", headerValues("Authentication-Results")},
		{module + "/staff", "FuzzParseCommands", func(m corpusMessage) [][]any { return [][]any{{clipBytes(m.parsed.NewText, 4<<10)}} }},
		{module + "/classifier", "FuzzClassify", func(m corpusMessage) [][]any {
			name := ""
			if len(m.parsed.Attachments) > 0 {
				name = m.parsed.Attachments[0].Name
			}
			return [][]any{{m.parsed.Subject, text(m), name}}
		}},
		{module + "/classifier", "FuzzLanguage", func(m corpusMessage) [][]any { return [][]any{{text(m)}} }},
		{module + "/classifier", "FuzzLoadRules", nil},
		{module + "/classifier", "FuzzUnmarshalModel", nil},
		{module + "/outbox", "FuzzRenderHeaders", func(m corpusMessage) [][]any {
			ref := ""
			if refs := strings.Fields(m.header.Get("References")); len(refs) > 0 {
				ref = trimAngles(refs[len(refs)-1])
			}
			return [][]any{{m.header.Get("Subject"), m.parsed.From.Name, ref, m.header.Get("Thread-Index")}}
		}},
	}
}

func clipBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var dsnPart = regexp.MustCompile(`(?is)content-type:\s*message/(?:global-)?delivery-status[^\n]*\n(?:[ \t][^\n]*\n)*(?:[^\n]+\n)*?\r?\n(.*?)\r?\n--`)

// deliveryStatusParts finds the bodies of message/delivery-status parts
// in a raw message, roughly: seeds need not be exact.
func deliveryStatusParts(raw []byte) [][]byte {
	var out [][]byte
	for _, m := range dsnPart.FindAllSubmatch(raw, -1) {
		out = append(out, bytes.Clone(m[1]))
	}
	return out
}

// WriteFuzzSeeds reads every message of the corpus folder and writes the
// seed inputs of each target where `go test -fuzz` reads its cached
// corpus ($GOCACHE/fuzz/PACKAGE/NAME), so every fuzzer starts from real
// mail without a test file carrying megabytes of it. It returns how many
// inputs it wrote per target.
func WriteFuzzSeeds(corpus, gocache string) (map[string]int, error) {
	var msgs []corpusMessage
	err := filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext != ".eml" && ext != ".raw" {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m := corpusMessage{raw: raw}
		if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
			m.header = msg.Header
		}
		m.parsed, _ = message.Parse(bytes.NewReader(raw), nil)
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read corpus %s: %w", corpus, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("corpus %s holds no .eml or .raw messages", corpus)
	}
	written := map[string]int{}
	for _, target := range FuzzTargets() {
		if target.seeds == nil {
			continue
		}
		dir := filepath.Join(gocache, "fuzz", target.Package, target.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		for _, m := range msgs {
			for _, args := range target.seeds(m) {
				data := encodeFuzzInput(args)
				name := fmt.Sprintf("corpus-%x", sha256.Sum256(data))[:23]
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					return nil, err
				}
				written[target.Package+"."+target.Name]++
			}
		}
	}
	return written, nil
}

// encodeFuzzInput writes one input in the format of Go's fuzzing corpus
// files ("go test fuzz v1", then one Go literal per argument).
func encodeFuzzInput(args []any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		default:
			panic(fmt.Sprintf("fuzz input of type %T", a))
		}
	}
	return b.Bytes()
}

// GoCache returns `go env GOCACHE`.
func GoCache() (string, error) {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOCACHE: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" || dir == "off" {
		return "", errors.New("the Go build cache is off (GOCACHE): go test -fuzz needs it")
	}
	return dir, nil
}

// ListFuzzTargets lists every fuzz function of the module whose root is
// dir (`go test -list ^Fuzz ./...`), with the corpus seeders of
// FuzzTargets where there is one: a fuzzer added later runs too.
func ListFuzzTargets(dir string) ([]FuzzTarget, error) {
	cmd := exec.Command("go", "test", "-list", "^Fuzz", "./...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -list ^Fuzz ./...: %w", err)
	}
	known := map[string]FuzzTarget{}
	for _, t := range FuzzTargets() {
		known[t.Package+"."+t.Name] = t
	}
	var targets []FuzzTarget
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			names = append(names, f[0])
		case len(f) >= 2 && f[0] == "ok":
			for _, name := range names {
				t, ok := known[f[1]+"."+name]
				if !ok {
					t = FuzzTarget{Package: f[1], Name: name}
				}
				targets = append(targets, t)
			}
			names = nil
		}
	}
	return targets, nil
}

// FuzzRun is the outcome of fuzzing one target.
type FuzzRun struct {
	Target FuzzTarget
	Execs  int64 // from go test's last progress line
	Failed bool
	Output string // the tail of go test's output, for a failure
	Took   time.Duration
}

var execsRe = regexp.MustCompile(`execs: (\d+)`)

// Fuzz runs `go test -run ^$ -fuzz ^NAME$ -fuzztime d PACKAGE` in the
// module whose root is dir.
func Fuzz(dir string, target FuzzTarget, d time.Duration) FuzzRun {
	start := time.Now()
	cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+target.Name+"$", "-fuzztime", d.String(), target.Package)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	r := FuzzRun{Target: target, Failed: err != nil, Took: time.Since(start)}
	if all := execsRe.FindAllSubmatch(out, -1); len(all) > 0 {
		r.Execs, _ = strconv.ParseInt(string(all[len(all)-1][1]), 10, 64)
	}
	if r.Failed {
		r.Output = tail(string(out), 3000)
	}
	return r
}
