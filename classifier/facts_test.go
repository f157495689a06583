package classifier

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestExtractFacts(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, subject, text string
		want                []string // "kind=value"
	}{
		{"Polish order, date and amount", "Reklamacja zamówienia nr 2026/11/004512",
			"Zakupiłem pralkę 12.11.2026 za 2 349,00 zł.",
			[]string{"order_number=2026/11/004512", "purchase_date=2026-11-12", "amount=2349.00 PLN"}},
		{"without diacritics", "", "numer zamowienia: ZAM-88123, kupilem 3 marca 2026, zaplacilem 199 zl",
			[]string{"order_number=ZAM-88123", "purchase_date=2026-03-03", "amount=199.00 PLN"}},
		{"invoice number forms", "", "Faktura VAT nr FV/2026/11/0871 oraz korekta FK 12/2026",
			[]string{"invoice_number=FV/2026/11/0871", "invoice_number=FK 12/2026"}},
		{"serial numbers", "", "Numer seryjny: 4829-XK-2231\nS/N: ABC123456\nna tabliczce SN12345678",
			[]string{"serial_number=4829-XK-2231", "serial_number=ABC123456", "serial_number=SN12345678"}},
		{"product code and name", "", "Model: WAN28281PL\nProdukt: Pralka Bosch Serie 6\n",
			[]string{"product=WAN28281PL", "product=Pralka Bosch Serie 6"}},
		{"English", "Order #A-10023", "I bought it on November 3, 2026 for $1,299.99. Invoice no. INV-2026-77.",
			[]string{"order_number=A-10023", "invoice_number=INV-2026-77", "purchase_date=2026-11-03", "amount=1299.99 USD"}},
		{"German", "", "Bestellnummer: 302-118, gekauft am 5. März 2026, Preis 49,90 €, Rechnungsnummer RE-2026-0042",
			[]string{"order_number=302-118", "invoice_number=RE-2026-0042", "purchase_date=2026-03-05", "amount=49.90 EUR"}},
		{"ISO date after purchase word", "", "Data zakupu: 2026-01-31.", []string{"purchase_date=2026-01-31"}},
		{"currency first", "", "zapłaciłem EUR 120 i PLN 1.299,50", []string{"amount=120.00 EUR", "amount=1299.50 PLN"}},
		{"a date without a purchase word is no purchase date", "", "Paczka przyszła 14.11.2026.", nil},
		{"an impossible date is dropped", "", "kupiłem 31.02.2026", nil},
		{"no digit, no order number", "", "zamówienie złożone wczoraj, order confirmed", nil},
		{"a number without currency is no amount", "", "zapłaciłem 2349 przelewem", nil},
		{"zl inside a word is no currency", "", "kupiłem 12 zlewów", nil},
		{"duplicates collapse", "zamówienie nr 12345", "zamówienie nr 12345", []string{"order_number=12345"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range r.extractFacts(tt.subject, tt.text) {
				got = append(got, f.Kind+"="+f.Value)
				if !strings.HasPrefix(f.Reason, "pattern "+f.Kind+": ") {
					t.Errorf("reason %q does not name the pattern", f.Reason)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("facts = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractFactsBounded(t *testing.T) {
	r, _ := DefaultRules()
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "pozycja %d: %d,00 zł\n", i, 100+i)
	}
	n := 0
	for _, f := range r.extractFacts("", b.String()) {
		if f.Kind == FactAmount {
			n++
		}
	}
	if n != maxFactsPerKind {
		t.Errorf("%d amounts, want %d", n, maxFactsPerKind)
	}
}

func TestFactsFromRulesFile(t *testing.T) {
	r, err := LoadRules([]byte("facts:\n  order_number:\n    - '\\b(?P<value>ALG-\\d{6})\\b'\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := r.extractFacts("", "Allegro ALG-123456, zamówienie nr 999999")
	if len(got) != 1 || got[0].Value != "ALG-123456" {
		t.Errorf("facts = %+v, want only ALG-123456 (the file replaced the order patterns)", got)
	}
}

func TestNormaliseAmount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1 299,00 zł", "1299.00 PLN"},
		{"1.299,50 PLN", "1299.50 PLN"},
		{"1,299.99 USD", "1299.99 USD"},
		{"$25", "25.00 USD"},
		{"€ 12,5", "12.50 EUR"},
		{"12.500 zł", "12500.00 PLN"},
		{"0,99 zl", "0.99 PLN"},
		{"199 złotych", "199.00 PLN"},
		{"1\u00a0299 zł", "1299.00 PLN"},
		{"100 dolarów", "100.00 USD"},
		{"zł", ""},
		{"12 kg", ""},
	}
	for _, tt := range tests {
		got, ok := normaliseAmount(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normaliseAmount(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestNormaliseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"12.11.2026", "2026-11-12"},
		{"12/11/2026", "2026-11-12"},
		{"1-2-2026", "2026-02-01"},
		{"2026-11-12", "2026-11-12"},
		{"12 listopada 2026", "2026-11-12"},
		{"3 września 2026", "2026-09-03"},
		{"3 wrzesnia 2026", "2026-09-03"},
		{"12 lis 2026", "2026-11-12"},
		{"5. März 2026", "2026-03-05"},
		{"November 3, 2026", "2026-11-03"},
		{"3 Nov. 2026", "2026-11-03"},
		{"29.02.2028", "2028-02-29"},
		{"29.02.2026", ""},
		{"32.01.2026", ""},
		{"12.13.2026", ""},
		{"12.11.1850", ""},
		{"12 listopada", ""},
	}
	for _, tt := range tests {
		got, ok := normaliseDate(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normaliseDate(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// The literal analysis behind the fast path must never lose a match: on
// many lines, the hint filter and the anchored search find exactly what
// the plain regular expression finds.
func TestFactPrefilterIsExact(t *testing.T) {
	r, _ := DefaultRules()
	lines := []string{
		"Zamówienie nr 2026/11/004512, faktura FV/2026/11/0871, 2 349,00 zł",
		"ZAMÓWIENIA NR 12345 z dnia 12.11.2026",
		"order #A-123 bought on Nov 3, 2026 for $19.99 and € 5",
		"Bestellnummer: 302-118 vom 05.03.2026, Rechnungsnummer RE-1, 49,90 EUR",
		"SN12345678 S/N: X-99999 serial number ABCDE1 numer seryjny 77777",
		"model WAN28281PL, art.-nr. 1234, SKU: AB-12, EAN 5901234123457",
		"Produkt: Pralka Bosch",
		"kupiłem 3 marca 2026, zakup 2026-01-02, zamowilem 1 lis 2026",
		"xzamówienie nr 1 (a word before the keyword), 12zł, 3 PLNx, pln 4",
		"1.299,99zł 100 złotych 5 zl. 7 dolarów 8 dollars",
		"nr 1 nr 22 nr 333 order 4444 #55555",
		"fv/1/2 FV 12/2026 fa-3/4 KFV 5/6",
		"\u00a0\t 12\u00a0300 zł \t",
		"İSTANBUL zamówienie nr ÇÖĞ-123 2 zł",
	}
	for i := range r.facts {
		fp := &r.facts[i]
		for _, line := range lines {
			for _, variant := range []string{line, strings.ToUpper(line), strings.ToLower(line)} {
				want := fp.re.FindAllStringSubmatchIndex(variant, maxFactsPerKind)
				lower := lowerSameLength(variant)
				seen := r.hints.scan(lower)
				for _, set := range r.hints.setsOf[i] {
					if len(want) > 0 && len(seen[set]) == 0 {
						t.Errorf("pattern %d (%s) matches %q but its hint set %d is missing", i, fp.kind, variant, set)
					}
				}
				if got := fp.find(variant, lower, maxFactsPerKind); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("pattern %d (%s) on %q: find = %v, regexp = %v", i, fp.kind, variant, got, want)
				}
			}
		}
	}
}

func TestRequiredSets(t *testing.T) {
	tests := []struct {
		re   string
		want string // fmt of the sets
	}{
		{`(?i)\bzam[oó]wieni(?:a|e)\s*nr`, "[[zamowienia zamowienie zamówienia zamówienie] [nr]]"},
		{`(?i)(?:faktura|invoice)\s*(?:nr|no)`, "[[faktura invoice] [no nr]]"},
		{`\d+`, "[]"},
		{`(?i)z[lł]`, "[[zl zł]]"},
		{`(?:€|\$)\d`, "[[$ €]]"},
		{`a*b`, "[]"},
		{`(?:abc|d)`, "[]"},
	}
	for _, tt := range tests {
		re, err := syntax.Parse(tt.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(requiredSets(re.Simplify())); got != tt.want {
			t.Errorf("requiredSets(%s) = %s, want %s", tt.re, got, tt.want)
		}
	}
}
