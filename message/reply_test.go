package message

import "testing"

func TestSplitReply(t *testing.T) {
	tests := []struct {
		name, text, newText, quoted string
	}{
		{
			name:    "no quote",
			text:    "Dzień dobry,\nekran jest pęknięty.\n\n",
			newText: "Dzień dobry,\nekran jest pęknięty.",
		},
		{
			name:    "Gmail English",
			text:    "Still broken.\n\nOn Mon, 2 Mar 2026 at 09:00, Support <support@example.com> wrote:\n> Please send a photo.\n",
			newText: "Still broken.",
			quoted:  "On Mon, 2 Mar 2026 at 09:00, Support <support@example.com> wrote:\n> Please send a photo.",
		},
		{
			name:    "Gmail attribution wrapped over two lines",
			text:    "Thanks.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Customer Support Team <\nsupport@example.com> wrote:\n\n> old\n",
			newText: "Thanks.",
			quoted:  "On Mon, Mar 2, 2026 at 9:00 AM Customer Support Team <\nsupport@example.com> wrote:\n\n> old",
		},
		{
			name:    "Thunderbird Polish",
			text:    "Nadal nie działa.\n\nW dniu 2.03.2026 o 09:00, Obsługa pisze:\n> Prosimy o zdjęcie.",
			newText: "Nadal nie działa.",
			quoted:  "W dniu 2.03.2026 o 09:00, Obsługa pisze:\n> Prosimy o zdjęcie.",
		},
		{
			name:    "Gmail Polish napisał(a)",
			text:    "Przesyłam zdjęcie.\n\npon., 2 mar 2026 o 09:00 Obsługa <obsluga@example.com> napisał(a):\n\n> Prosimy o zdjęcie.",
			newText: "Przesyłam zdjęcie.",
			quoted:  "pon., 2 mar 2026 o 09:00 Obsługa <obsluga@example.com> napisał(a):\n\n> Prosimy o zdjęcie.",
		},
		{
			name:    "Gmail Polish wrapped before napisał(a)",
			text:    "Proszę o szybką odpowiedź.\n\nwt., 3 mar 2026 o 12:34 Dział Reklamacji <reklamacje@example.com>\nnapisał(a):\n\n> Dzień dobry",
			newText: "Proszę o szybką odpowiedź.",
			quoted:  "wt., 3 mar 2026 o 12:34 Dział Reklamacji <reklamacje@example.com>\nnapisał(a):\n\n> Dzień dobry",
		},
		{
			name:    "Polish W dniu ... napisał wrapped",
			text:    "Dziękuję.\nW dniu 2 marca 2026 Jan Kowalski\nnapisał:\ncytat bez znaczników",
			newText: "Dziękuję.",
			quoted:  "W dniu 2 marca 2026 Jan Kowalski\nnapisał:\ncytat bez znaczników",
		},
		{
			name:    "Outlook original message",
			text:    "See below.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nold text",
			newText: "See below.",
			quoted:  "-----Original Message-----\nFrom: Support\nSent: Monday\nold text",
		},
		{
			name:    "Outlook Polish original message",
			text:    "Poniżej.\n-----Wiadomość oryginalna-----\nOd: Obsługa\nstara treść",
			newText: "Poniżej.",
			quoted:  "-----Wiadomość oryginalna-----\nOd: Obsługa\nstara treść",
		},
		{
			name:    "Outlook header block English",
			text:    "Reply text.\n\nFrom: Support <support@example.com>\nSent: Monday, March 2, 2026 9:00 AM\nTo: Jan <jan@example.pl>\nSubject: RE: claim\n\nold",
			newText: "Reply text.",
			quoted:  "From: Support <support@example.com>\nSent: Monday, March 2, 2026 9:00 AM\nTo: Jan <jan@example.pl>\nSubject: RE: claim\n\nold",
		},
		{
			name:    "Outlook header block Polish with Wysłano",
			text:    "Odpowiedź.\nOd: Obsługa <obsluga@example.com>\nWysłano: poniedziałek, 2 marca 2026 09:00\nDo: Jan\nTemat: reklamacja\nstare",
			newText: "Odpowiedź.",
			quoted:  "Od: Obsługa <obsluga@example.com>\nWysłano: poniedziałek, 2 marca 2026 09:00\nDo: Jan\nTemat: reklamacja\nstare",
		},
		{
			name:    "Outlook Polish with Wysłane and Data",
			text:    "Tak.\n\nOd: Obsługa\nData: 2026-03-02\nTemat: reklamacja\n\nstare",
			newText: "Tak.",
			quoted:  "Od: Obsługa\nData: 2026-03-02\nTemat: reklamacja\n\nstare",
		},
		{
			name:    "underscore rule before From",
			text:    "OK\n\n________________________________\nFrom: Support <s@example.com>\nold",
			newText: "OK",
			quoted:  "________________________________\nFrom: Support <s@example.com>\nold",
		},
		{
			name:    "underscore rule before Od",
			text:    "OK\n________________________________\n\nOd: Obsługa\nstare",
			newText: "OK",
			quoted:  "________________________________\n\nOd: Obsługa\nstare",
		},
		{
			name:    "German",
			text:    "Danke.\n\nAm 02.03.2026 um 09:00 schrieb Support <s@example.com>:\n> alt",
			newText: "Danke.",
			quoted:  "Am 02.03.2026 um 09:00 schrieb Support <s@example.com>:\n> alt",
		},
		{
			name:    "Apple Mail",
			text:    "Sent from my iPhone\n\n> On 2 Mar 2026, at 09:00, Support <s@example.com> wrote:\n> \n> old",
			newText: "Sent from my iPhone",
			quoted:  "> On 2 Mar 2026, at 09:00, Support <s@example.com> wrote:\n> \n> old",
		},
		{
			name:    "Apple Mail unquoted attribution",
			text:    "Yes.\nOn 2 Mar 2026, at 09:00, Support <s@example.com> wrote:\nold",
			newText: "Yes.",
			quoted:  "On 2 Mar 2026, at 09:00, Support <s@example.com> wrote:\nold",
		},
		{
			name:    "interleaved quote lines without header",
			text:    "> question one\nanswer one\n> question two\nanswer two",
			newText: "answer one\nanswer two",
			quoted:  "> question one\n> question two",
		},
		{
			name:    "Gmail forward is content",
			text:    "Please handle this.\n\n---------- Forwarded message ---------\nFrom: Klient <k@example.pl>\nDate: Mon, 2 Mar 2026\nSubject: Reklamacja\nTo: sklep@example.com\n\nEkran pęknięty.\n> earlier quote",
			newText: "Please handle this.\n\n---------- Forwarded message ---------\nFrom: Klient <k@example.pl>\nDate: Mon, 2 Mar 2026\nSubject: Reklamacja\nTo: sklep@example.com\n\nEkran pęknięty.\n> earlier quote",
		},
		{
			name:    "Apple forward is content",
			text:    "FYI\n\nBegin forwarded message:\n\nFrom: Klient <k@example.pl>\nSubject: Reklamacja\nDate: 2 March 2026\nTo: sklep@example.com\n\nTreść.",
			newText: "FYI\n\nBegin forwarded message:\n\nFrom: Klient <k@example.pl>\nSubject: Reklamacja\nDate: 2 March 2026\nTo: sklep@example.com\n\nTreść.",
		},
		{
			name:    "Polish forward is content",
			text:    "Przekazuję.\n-------- Przekazana wiadomość --------\nTemat: Reklamacja\nData: 2.03.2026\nOd: Klient\nDo: Sklep\n\nTreść.",
			newText: "Przekazuję.\n-------- Przekazana wiadomość --------\nTemat: Reklamacja\nData: 2.03.2026\nOd: Klient\nDo: Sklep\n\nTreść.",
		},
		{
			name:    "signature stays",
			text:    "Proszę o kontakt.\n-- \nJan Kowalski\ntel. 600 000 000\n\nW dniu 1.03.2026 Obsługa napisała:\n> x",
			newText: "Proszę o kontakt.\n-- \nJan Kowalski\ntel. 600 000 000",
			quoted:  "W dniu 1.03.2026 Obsługa napisała:\n> x",
		},
		{
			name:    "a sentence ending in a colon is not an attribution",
			text:    "My friend wrote:\nthe screen is broken",
			newText: "My friend wrote:\nthe screen is broken",
		},
		{
			name:    "CRLF input",
			text:    "Hi\r\n\r\nOn Mon, 2 Mar 2026, X wrote:\r\n> y\r\n",
			newText: "Hi",
			quoted:  "On Mon, 2 Mar 2026, X wrote:\n> y",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			newText, quoted := SplitReply(tc.text)
			if newText != tc.newText {
				t.Errorf("newText = %q, want %q", newText, tc.newText)
			}
			if quoted != tc.quoted {
				t.Errorf("quoted = %q, want %q", quoted, tc.quoted)
			}
		})
	}
}

func TestNormalizeSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Odp: PD: Re[2]: Pęknięty ekran [CLM-2026-000123]", "pęknięty ekran"},
		{"Re: Reklamacja", "reklamacja"},
		{"RE: RE: re: Reklamacja", "reklamacja"},
		{"Fwd: Re: Reklamacja", "reklamacja"},
		{"FW: Reklamacja", "reklamacja"},
		{"AW: WG: Reklamation", "reklamation"},
		{"SV: VS: Antw: Doorst: x", "x"},
		{"Res: Enc: RV: TR: x", "x"},
		{"R: I: Rif: Ref: x", "x"},
		{"VB: x", "x"},
		{"Re(3): x", "x"},
		{"RE^2: x", "x"},
		{"Re [2]: x", "x"},
		{"RE : sujet", "sujet"},
		{"Re：全角", "全角"},
		{"[EXTERNAL] Re: Zażółć Gęślą Jaźń", "zażółć gęślą jaźń"},
		{"Re: [SPAM] [EXTERNAL] oferta", "oferta"},
		{"[CLM-2026-000123] Re: Uszkodzona pralka", "uszkodzona pralka"},
		{"Re: Uszkodzona [CLM-2026-000123] pralka", "uszkodzona pralka"},
		{"Uszkodzona pralka [pilne]", "uszkodzona pralka"},
		{"Re: Problem (fwd)", "problem"},
		{"I need help", "i need help"},
		{"R2D2 is broken", "r2d2 is broken"},
		{"Reklamacja: telewizor", "reklamacja: telewizor"},
		{"Re:", ""},
		{"[SPAM]", "[spam]"},
		{"  Wiele   \t spacji\u00a0tutaj  ", "wiele spacji tutaj"},
		{"ŁÓDŹ", "łódź"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeSubject(tc.in); got != tc.want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := NormalizeSubject(tc.want); got != tc.want {
			t.Errorf("NormalizeSubject not idempotent on %q: %q", tc.want, got)
		}
	}
}
