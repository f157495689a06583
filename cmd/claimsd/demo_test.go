package main

import (
	"context"
	"strings"
	"testing"
)

// TestDemo runs `claimsd demo` as the README's first command does and
// checks the story it tells: every kind of sample lands where it should.
func TestDemo(t *testing.T) {
	out, errOut, code := runCLI(t, context.Background(), "demo")
	if code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"4 cases:",
		"CLM-2026-000001  open",
		"#4 customer  references",   // reply with References
		"#5 customer  subject",      // Outlook RE: without References
		"#6 customer  subject",      // Polish Odp: without References
		"#7 auto_reply subject_tag", // out-of-office from the customer
		"karton zgnieciony.jpg",     // RFC 2231 name, Windows-1250 body
		"Dzień dobry, paczka z zamówienia",
		"tag CLM-2026-000001 ignored: sender is neither",
		"messages kept without a case: 1",
		"#8 bounce",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("demo wrote to stderr: %s", errOut)
	}
}
