package mailtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// CorpusDir returns the folder of real-world messages from other
// projects' test suites (enmime, the mail gem, stalwart mail-parser, with
// their licences) that lives beside the repository as ../shared/corpus.
// Without it the test is skipped, or fails when $CI is set: CI must test
// against it.
func CorpusDir(t testing.TB) string {
	t.Helper()
	corpus, err := FindCorpus()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mailtest: the corpus is required in CI: %v", err)
		}
		t.Skipf("mailtest: %v", err)
	}
	return corpus
}

// FindCorpus locates ../shared/corpus beside the module root (the
// directory holding go.mod), walking up from the working directory.
func FindCorpus() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "corpus")
	if st, err := os.Stat(corpus); err != nil || !st.IsDir() {
		return "", fmt.Errorf("corpus %s not present", corpus)
	}
	return corpus, nil
}

// CorpusMessage is one message file of the corpus.
type CorpusMessage struct {
	Name string // path below the corpus folder, e.g. "enmime/mail_attachment.raw"
	Raw  []byte
}

// CorpusMessages reads every message (.eml, .raw) of the corpus, sorted
// by name.
func CorpusMessages(t testing.TB) []CorpusMessage {
	t.Helper()
	corpus := CorpusDir(t)
	var out []CorpusMessage
	err := filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext != ".eml" && ext != ".raw" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		out = append(out, CorpusMessage{Name: rel, Raw: data})
		return nil
	})
	if err != nil {
		t.Fatalf("mailtest: read corpus: %v", err)
	}
	slices.SortFunc(out, func(a, b CorpusMessage) int { return strings.Compare(a.Name, b.Name) })
	return out
}
