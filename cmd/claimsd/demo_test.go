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
		// One acknowledgement per case, none to the auto-reply or bounce.
		"SMTP server received 4 mails:",
		"Subject: Re: Reklamacja - pęknięty ekran telefonu [CLM-2026-000001]",
		"Subject: Re: Blender stopped working after two weeks [CLM-2026-000002]",
		"Subject: Re: please send the refund to my account instead [CLM-2026-000004]",
		"Auto-Submitted: auto-replied",
		"konsumenta odpowiemy najpóźniej do 7 grudnia 2026 r.",
		"we will answer by 7 December 2026",
		// Time travel: reminders, escalation and digests.
		"to anna@sklep.example           [CLM-2026-000004] Przypomnienie: pierwsza odpowiedź",
		"to piotr@sklep.example          [CLM-2026-000001] Eskalacja: termin ustawowy 7 grudnia 2026 r.",
		"Reklamacje: 2 po terminie, 2 zagrożone (4 grudnia 2026 r.)",
		"Reklamacje: 4 po terminie, 0 zagrożonych (10 grudnia 2026 r.)",
		"termin ustawowy minął",
		// The classifier's decision and its reason.
		"classified: category transport_damage, remedy replacement, priority normal, language pl",
		"category because rule transport_damage:",
		// The weekly report of the samples' week, with chart and workbook.
		"to piotr@sklep.example          Raport reklamacji: 23 listopada 2026 r. – 29 listopada 2026 r.",
		"The first weekly report: Raport reklamacji: 23 listopada 2026 r. – 29 listopada 2026 r.",
		"attachment wykres.png (image/png",
		"raport-reklamacji-2026-11-23-2026-11-29.xlsx",
		"Nowe sprawy: 4",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("demo wrote to stderr: %s", errOut)
	}
}
