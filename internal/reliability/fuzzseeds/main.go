// Command fuzzseeds writes the messages of ../shared/corpus as seed
// inputs of every parser's fuzzer into Go's fuzz cache, so that
// `go test -fuzz` (make fuzz, the long reliability suite) starts from
// real-world mail. Usage: go run ./internal/reliability/fuzzseeds [CORPUS]
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/claimsd/claimsd/internal/mailtest"
	"github.com/claimsd/claimsd/internal/reliability"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fuzzseeds:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var corpus string
	switch len(args) {
	case 0:
		var err error
		if corpus, err = mailtest.FindCorpus(); err != nil {
			return fmt.Errorf("%w (give the corpus folder as the argument)", err)
		}
	case 1:
		corpus = args[0]
	default:
		return fmt.Errorf("usage: fuzzseeds [CORPUS_DIR]")
	}
	cache, err := reliability.GoCache()
	if err != nil {
		return err
	}
	written, err := reliability.WriteFuzzSeeds(corpus, cache)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(written))
	for name := range written {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Printf("fuzzseeds: %s: %d inputs from %s\n", name, written[name], corpus)
	}
	return nil
}
