package classifier

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// defaultClassifier is the shipped rules without a model.
func defaultClassifier(t testing.TB) *Classifier {
	t.Helper()
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return New(r, nil)
}

func TestClassifyCategory(t *testing.T) {
	c := defaultClassifier(t)
	tests := []struct {
		name, subject, text, want string
	}{
		// non_conformity
		{"pl defect", "Reklamacja pralki", "Dzień dobry, kupiłem u Państwa pralkę, która po dwóch tygodniach przestała działać. Bęben się nie obraca.", CatNonConformity},
		{"pl defect, no diacritics", "reklamacja", "Telefon nie dziala, ekran sie zawiesza i sam sie restartuje.", CatNonConformity},
		{"pl shoes", "Reklamacja butów", "Buty rozkleiły się po miesiącu noszenia, podeszwa odkleja się od cholewki.", CatNonConformity},
		{"pl wrong item", "Zły towar", "Otrzymałem inny towar niż zamówiłem: zamiast niebieskiej kurtki jest czerwona.", CatNonConformity},
		{"pl statutory claim", "Reklamacja z tytułu rękojmi", "Zgłaszam niezgodność towaru z umową, lampa mruga.", CatNonConformity},
		{"en defect", "Faulty blender", "The blender I ordered stopped working after a week. It is clearly defective.", CatNonConformity},
		{"de defect", "Reklamation", "Der Wasserkocher funktioniert nicht mehr, er ist defekt.", CatNonConformity},

		// guarantee
		{"pl guarantee", "Naprawa gwarancyjna", "Zgłaszam usterkę odkurzacza w ramach gwarancji producenta. Karta gwarancyjna w załączniku.", CatGuarantee},
		{"pl guarantee, no diacritics", "gwarancja", "Prosze o przyjecie odkurzacza na gwarancje, karta gwarancyjna jest w pudelku.", CatGuarantee},
		{"en warranty", "Warranty claim", "My vacuum cleaner is still under warranty and I would like to make a warranty claim.", CatGuarantee},
		{"de guarantee", "Garantie", "Ich möchte einen Garantiefall melden, das Gerät hat noch Herstellergarantie.", CatGuarantee},

		// withdrawal
		{"pl withdrawal", "Odstąpienie od umowy", "Odstępuję od umowy zakupu butów bez podania przyczyny. Proszę o zwrot pieniędzy.", CatWithdrawal},
		{"pl return, no diacritics", "Zwrot", "Chcialbym zwrocic kurtke, nie pasuje na mnie.", CatWithdrawal},
		{"en return", "Return", "I changed my mind and would like to return the item within the 14 days.", CatWithdrawal},
		{"de withdrawal", "Widerruf", "Hiermit widerrufe ich meinen Kaufvertrag. Die Ware schicke ich zurück.", CatWithdrawal},

		// repair
		{"pl repair status", "Status naprawy", "Jaki jest status naprawy mojego laptopa? Oddałem go do serwisu dwa tygodnie temu, numer RMA 12345.", CatRepair},
		{"pl paid repair", "Naprawa pogwarancyjna", "Proszę o wycenę naprawy, telewizor jest już po gwarancji.", CatRepair},
		{"en repair quote", "Repair", "Could you send me a repair quote? The TV is out of warranty.", CatRepair},
		{"de repair", "Reparatur", "Bitte senden Sie mir einen Kostenvoranschlag für die Reparatur meines Fernsehers.", CatRepair},

		// transport_damage
		{"pl transport", "Uszkodzona przesyłka", "Paczka dotarła uszkodzona, karton był zgnieciony, a szklany blat pęknięty. Kurier nie chciał spisać protokołu szkody.", CatTransportDamage},
		{"pl transport, no diacritics", "paczka", "Przesylka przyszla rozbita, kurier DPD zostawil ja pod drzwiami.", CatTransportDamage},
		{"en transport", "Damaged parcel", "The parcel arrived damaged, the box was crushed by the courier.", CatTransportDamage},
		{"de transport", "Transportschaden", "Das Paket ist beschädigt angekommen, der Karton war eingedrückt.", CatTransportDamage},

		// missing_item
		{"pl missing part", "Brak ładowarki", "W paczce brakowało ładowarki, zestaw jest niekompletny.", CatMissingItem},
		{"pl parcel lost, no diacritics", "Gdzie jest paczka", "Nie otrzymalem jeszcze przesylki, paczka chyba zaginela.", CatMissingItem},
		{"en missing", "Missing charger", "The charger was missing from the box, the order is incomplete.", CatMissingItem},
		{"de missing", "Unvollständige Lieferung", "Im Paket fehlt das Netzteil, die Lieferung ist unvollständig.", CatMissingItem},

		// billing
		{"pl invoice correction", "Korekta faktury", "Proszę o wystawienie faktury korygującej, na fakturze jest błędny NIP.", CatBilling},
		{"pl invoice, no diacritics", "faktura", "Prosze o fakture VAT na firme, NIP 1234567890.", CatBilling},
		{"en charged twice", "Payment", "I was charged twice for my order, please issue a credit note.", CatBilling},
		{"de double charge", "Rechnung", "Der Betrag wurde doppelt abgebucht, bitte um eine korrigierte Rechnung.", CatBilling},

		// other
		{"pl question", "Pytanie", "Czy ten model jest dostępny w kolorze czarnym? Mam też pytanie o termin wysyłki.", CatOther},
		{"en question", "Question", "Do you have this jacket in stock in size M? Just a question.", CatOther},
		{"de question", "Frage", "Ich habe eine Frage zur Verfügbarkeit des Artikels.", CatOther},
		{"nothing to go on", "", "Dzień dobry, dziękuję.", CatOther},
		{"empty", "", "", CatOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(Input{Subject: tt.subject, Text: tt.text}).Category
			if got.Value != tt.want {
				t.Errorf("category = %s %.2f (%s), want %s", got.Value, got.Confidence, got.Reason, tt.want)
			}
		})
	}
}

func TestClassifyRemedy(t *testing.T) {
	c := defaultClassifier(t)
	tests := []struct {
		name, text, want string
	}{
		{"pl repair", "Pralka nie działa, proszę o naprawę urządzenia.", RemedyRepair},
		{"pl repair, no diacritics", "Telefon nie dziala, prosze o naprawe.", RemedyRepair},
		{"en repair", "The kettle is faulty, please repair it.", RemedyRepair},
		{"de repair", "Das Gerät ist defekt, bitte reparieren Sie es.", RemedyRepair},
		{"pl replacement", "Ekran jest pęknięty, proszę o wymianę na nowy egzemplarz.", RemedyReplacement},
		{"en replacement", "The screen is cracked, please send a replacement.", RemedyReplacement},
		{"de replacement", "Das Display ist kaputt, bitte um Umtausch gegen ein neues Gerät.", RemedyReplacement},
		{"pl refuses repair, wants replacement", "Nie zgadzam się na naprawę, żądam wymiany na nowy.", RemedyReplacement},
		{"pl price reduction", "Kurtka ma przetarcie, zostawię ją, ale proszę o obniżenie ceny.", RemedyPriceReduction},
		{"pl partial refund is a reduction", "Proszę o częściowy zwrot pieniędzy, zatrzymam towar.", RemedyPriceReduction},
		{"en partial refund", "The jacket has a small stain; I would accept a partial refund and keep it.", RemedyPriceReduction},
		{"de reduction", "Der Stuhl wackelt, ich verlange eine Preisminderung.", RemedyPriceReduction},
		{"pl refund", "Towar jest wadliwy, proszę o zwrot pieniędzy na konto.", RemedyRefund},
		{"pl refund, no diacritics", "Prosze o zwrot srodkow za zamowienie.", RemedyRefund},
		{"en refund", "It broke after a day, I want my money back.", RemedyRefund},
		{"de refund", "Bitte erstatten Sie mir den Kaufpreis.", RemedyRefund},
		{"nothing asked", "Kiedy zostanie wysłane moje zamówienie?", RemedyNone},
		{"an enquiry asks for nothing, though it names a refund", "Pytanie przed zakupem: czy zwrot pieniędzy jest możliwy w 30 dni?", RemedyNone},
		{"missing item implies sending it", "W paczce nie było ładowarki.", RemedyReplacement},
		{"pl a new one", "Monitor przyszedł pęknięty. Wyślijcie nowy.", RemedyReplacement},
		{"de a new one", "Die Lampe ist kaputt angekommen. Bitte schicken Sie mir eine neue Lampe.", RemedyReplacement},
		{"no category, a refund asked", "Oddajcie mi pieniądze za to.", RemedyRefund},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(Input{Text: tt.text}).Remedy
			if got.Value != tt.want {
				t.Errorf("remedy = %s %.2f (%s), want %s", got.Value, got.Confidence, got.Reason, tt.want)
			}
		})
	}
}

// A withdrawal is answered with a refund even when the customer does not
// ask for one in words.
func TestDefaultRemedy(t *testing.T) {
	c := defaultClassifier(t)
	got := c.Classify(Input{Subject: "Rezygnacja", Text: "Rezygnuję z zakupu, odeślę buty w ciągu 14 dni bez podania przyczyny."})
	if got.Category.Value != CatWithdrawal || got.Remedy.Value != RemedyRefund || !strings.Contains(got.Remedy.Reason, "default_remedy") {
		t.Errorf("got %s / %s (%s)", got.Category.Value, got.Remedy.Value, got.Remedy.Reason)
	}
}

func TestClassifyPriority(t *testing.T) {
	c := defaultClassifier(t)
	tests := []struct {
		name, text, want string
	}{
		{"pl smoke and sparks", "Z ładowarki poszedł dym i iskry, zapaliła się wtyczka.", PriorityUrgent},
		{"pl electric shock", "Czajnik poraził mnie prądem, gdy go włączyłem.", PriorityUrgent},
		{"pl smoke, no diacritics", "z pralki wydobywa sie dym i czuc spalenizne", PriorityUrgent},
		{"pl overheating battery", "Bateria w laptopie przegrzewa się i spuchła.", PriorityUrgent},
		{"pl burn", "Dziecko doznało oparzenia od obudowy grzejnika.", PriorityUrgent},
		{"en fire", "The heater caught fire in the living room.", PriorityUrgent},
		{"en shock", "I got an electric shock from the lamp.", PriorityUrgent},
		{"de smoke", "Aus dem Gerät kam Rauch und es roch nach Brand.", PriorityUrgent},
		{"de shock", "Ich habe einen Stromschlag bekommen.", PriorityUrgent},
		{"pl warning light is no fire", "Po włączeniu zapaliła się czerwona kontrolka i pralka nie działa.", PriorityNormal},
		{"en brand new is no fire", "I received a brand new phone but the screen is broken and it does not work at all.", PriorityNormal},
		{"en smoke detector product", "The smoke detector I bought does not beep when I test it.", PriorityNormal},
		{"pl ombudsman", "Jeśli nie otrzymam odpowiedzi, sprawę skieruję do rzecznika konsumentów i UOKiK.", PriorityHigh},
		{"pl court", "Nie wykluczam skierowania sprawy do sądu.", PriorityHigh},
		{"pl lawyer, no diacritics", "Sprawa zostala przekazana mojemu prawnikowi.", PriorityHigh},
		{"en lawyer", "I will contact my lawyer and take legal action.", PriorityHigh},
		{"de lawyer", "Ich werde die Verbraucherzentrale einschalten und meinen Anwalt beauftragen.", PriorityHigh},
		{"safety beats legal", "Z czajnika poszedł dym, sprawę zgłoszę do UOKiK.", PriorityUrgent},
		{"ordinary complaint", "Buty się rozkleiły, proszę o zwrot pieniędzy.", PriorityNormal},
		{"pl sad is Polish court, not English sad", "I am so sad that the kettle broke after a week.", PriorityNormal},
		{"pl denied hazard", "Suszarka nie grzeje, ale nie było dymu ani iskier.", PriorityNormal},
		{"en denied hazard", "The heater clicks off; there was no smoke and it wasn't sparking.", PriorityNormal},
		{"de denied hazard", "Das Gerät geht aus, aber kein Rauch und keine Funken.", PriorityNormal},
		{"pl not working and smoking is smoke", "Czajnik nie działa i dymi.", PriorityUrgent},
		{"denied once, stated later", "Na początku nie było dymu, ale wczoraj z ładowarki poszedł dym.", PriorityUrgent},
		{"surname is no court", "Pozdrawiam, Jan Sadowski", PriorityNormal},
		{"a chargeback alone is not legal escalation", "I have opened a chargeback with my bank for the double payment.", PriorityNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(Input{Text: tt.text}).Priority
			if got.Value != tt.want {
				t.Errorf("priority = %s %.2f (%s), want %s", got.Value, got.Confidence, got.Reason, tt.want)
			}
		})
	}
}

func TestClassifyReasons(t *testing.T) {
	c := defaultClassifier(t)
	res := c.Classify(Input{
		Subject: "Uszkodzona przesyłka",
		Text:    "Kurier przywiózł paczkę, karton był zgnieciony. Proszę o wymianę. Z pralki poszedł dym.",
	})
	for _, tt := range []struct {
		d            Decision
		value, parts string // parts: fragments of the reason, |-separated
	}{
		{res.Category, CatTransportDamage, `rule transport_damage: |"zgnieciony"|"Kurier"|(subject)|score `},
		{res.Remedy, RemedyReplacement, `rule replacement: |"wymianę"`},
		{res.Priority, PriorityUrgent, `rule urgent: |"dym"`},
		{res.Language, LangPolish, "stopwords"},
	} {
		if tt.d.Value != tt.value {
			t.Errorf("got %s, want %s (%s)", tt.d.Value, tt.value, tt.d.Reason)
		}
		for _, part := range strings.Split(tt.parts, "|") {
			if !strings.Contains(tt.d.Reason, part) {
				t.Errorf("%s reason %q lacks %q", tt.value, tt.d.Reason, part)
			}
		}
		if tt.d.Confidence <= 0 || tt.d.Confidence > 1 {
			t.Errorf("%s confidence %v", tt.value, tt.d.Confidence)
		}
	}
	// At most five terms are named.
	if n := strings.Count(res.Category.Reason, `"`) / 2; n > maxReasonTerms {
		t.Errorf("reason names %d terms: %s", n, res.Category.Reason)
	}
}

// Confidence grows with the evidence and with the margin.
func TestRuleConfidence(t *testing.T) {
	c := defaultClassifier(t)
	conf := func(text string) float64 { return c.Classify(Input{Text: text}).Category.Confidence }
	weak := conf("Kurier był miły.")
	strong := conf("Kurier przywiózł zgnieciony karton, towar uszkodzony w transporcie, spisaliśmy protokół szkody.")
	mixed := conf("Kurier przywiózł paczkę, ale pralka nie działa, jest wadliwa i ma usterkę.")
	if !(weak < strong) || !(mixed < strong) {
		t.Errorf("confidence weak %v, mixed %v, strong %v", weak, mixed, strong)
	}
}

// Our acknowledgement quoted back must not decide the case.
func TestQuotedTextIgnored(t *testing.T) {
	c := defaultClassifier(t)
	text := "Dzień dobry, kurier zostawił paczkę z rozbitym kartonem, szklanka stłuczona.\n\n" +
		"> Dziękujemy za zgłoszenie reklamacji. Zwrot pieniędzy nastąpi w ciągu 14 dni od odstąpienia od umowy.\n" +
		"> Prosimy o fakturę i numer zamówienia.\n"
	res := c.Classify(Input{Subject: "Re: Reklamacja", Text: text})
	if res.Category.Value != CatTransportDamage || res.Remedy.Value == RemedyRefund {
		t.Errorf("got %s / %s: %s", res.Category.Value, res.Remedy.Value, res.Remedy.Reason)
	}
}

func TestClassifyValuesAreKnown(t *testing.T) {
	c := defaultClassifier(t)
	for _, text := range []string{"", "x", benchComplaint().Text, strings.Repeat("dym kurier faktura ", 5000)} {
		res := c.Classify(Input{Text: text})
		checkResult(t, res)
	}
}

// checkResult asserts the invariants of a Result.
func checkResult(t testing.TB, res Result) {
	t.Helper()
	for _, d := range []struct {
		d     Decision
		valid []string
	}{
		{res.Category, Categories()},
		{res.Remedy, Remedies()},
		{res.Priority, Priorities()},
		{res.Language, []string{"", LangPolish, LangEnglish, LangGerman}},
	} {
		if !slices.Contains(d.valid, d.d.Value) {
			t.Errorf("value %q not one of %v", d.d.Value, d.valid)
		}
		if d.d.Confidence < 0 || d.d.Confidence > 1 {
			t.Errorf("%s: confidence %v", d.d.Value, d.d.Confidence)
		}
		if d.d.Reason == "" {
			t.Errorf("%s: no reason", d.d.Value)
		}
	}
	for _, f := range res.Facts {
		if !slices.Contains(FactKinds(), f.Kind) || f.Value == "" || f.Reason == "" {
			t.Errorf("bad fact %+v", f)
		}
	}
}

func TestClassifyConcurrent(t *testing.T) {
	c := New(nil, trainedModel(t))
	in := benchComplaint()
	want := fmt.Sprint(c.Classify(in))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := fmt.Sprint(c.Classify(in)); got != want {
					t.Errorf("concurrent result differs:\n%s\nwant\n%s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// The model decides when the rules are weak and it is sure, never against
// confident rules; the reason says which decided.
func TestClassifyWithModel(t *testing.T) {
	m := trainedModel(t)
	c := New(nil, m)
	tests := []struct {
		name, text, want, reason string
	}{
		{"rules silent, model sure", "plumbus flarp grommet", CatBilling, "model: "},
		{"rules strong, model disagrees", "Kurier przywiózł zgnieciony karton, towar uszkodzony w transporcie. plumbus flarp grommet",
			CatTransportDamage, "model said billing"},
		{"rules and model agree", "Proszę o korektę faktury, błędny NIP. plumbus flarp grommet", CatBilling, "model agrees"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(Input{Text: tt.text}).Category
			if got.Value != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("category = %s %.2f (%s), want %s with %q", got.Value, got.Confidence, got.Reason, tt.want, tt.reason)
			}
		})
	}
	// New copied the model: training it further changes nothing.
	before := fmt.Sprint(c.Classify(Input{Text: "plumbus flarp grommet"}))
	for range 50 {
		m.Train(SpaceCategory, CatOther, Input{Text: "plumbus flarp grommet"})
	}
	if after := fmt.Sprint(c.Classify(Input{Text: "plumbus flarp grommet"})); after != before {
		t.Error("training the model after New changed the classifier")
	}
}

// An untrained model is no model.
func TestClassifyUntrainedModel(t *testing.T) {
	a := New(nil, nil).Classify(benchComplaint())
	b := New(nil, NewModel()).Classify(benchComplaint())
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("untrained model changed the result:\n%s\n%s", a, b)
	}
}

// trainedModel knows that nonsense words mean billing, and has seen enough
// ordinary complaints to answer.
func trainedModel(t testing.TB) *Model {
	t.Helper()
	m := NewModel()
	for i := range 15 {
		m.Train(SpaceCategory, CatBilling, Input{Text: fmt.Sprintf("plumbus flarp grommet %d", i)})
		m.Train(SpaceCategory, CatTransportDamage, Input{Text: fmt.Sprintf("kurier karton zgnieciony paczka %d", i)})
	}
	return m
}
