package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration file. Its Error form is
//
//	key.path: what is wrong (line N); fix: what to do
//
// where the line appears only for problems found while decoding the YAML
// (unknown keys, wrong value types) and the fix may instead be a hint such as
// "did you mean password_env?".
type Problem struct {
	// Key is the dotted path of the key, with indexes for list entries,
	// e.g. "imap.password_env" or "staff[1].email". It is empty for
	// problems with the file as a whole, such as a YAML syntax error.
	Key string
	// Line is the 1-based line of the key in the YAML, or 0 when not known.
	Line int
	// Message says what is wrong.
	Message string
	// Hint is a short suggestion shown instead of a fix, e.g.
	// "did you mean password_env?". It is empty when Fix is set.
	Hint string
	// Fix says what to do about it.
	Fix string
}

// Error formats the problem as "key: message (line N); fix: fix".
func (p Problem) Error() string {
	var b strings.Builder
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	if p.Hint != "" {
		b.WriteString("; ")
		b.WriteString(p.Hint)
	}
	if p.Fix != "" {
		b.WriteString("; fix: ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// ValidationError is returned by Load and Parse when the configuration cannot
// be used. It lists every problem found, not only the first one.
type ValidationError struct {
	// File is the path of the configuration file, when loaded by Load.
	File string
	// Problems lists what is wrong, in the order of the keys in Config.
	Problems []Problem
}

// Error lists all problems, one per line after a header naming the file.
func (e *ValidationError) Error() string {
	head := "config"
	if e.File != "" {
		head += " " + e.File
	}
	switch len(e.Problems) {
	case 0:
		return head + ": invalid configuration"
	case 1:
		return head + ": " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", head, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems as errors, so that errors.As can find a
// Problem.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}
