package classifier

import (
	"strings"
	"testing"

	"github.com/claimsd/claimsd/message"
)

// benchComplaint is a typical complaint: 1-2 KB of Polish with an order
// number, a date, an amount, a signature and our acknowledgement quoted.
func benchComplaint() Input {
	text := `Dzień dobry,

w dniu 12.11.2026 zamówiłem w Państwa sklepie internetowym pralkę Bosch Serie 6
(zamówienie nr 2026/11/004512, faktura FV/2026/11/0871), za którą zapłaciłem 2 349,00 zł.
Przesyłkę dostarczył kurier DPD w poniedziałek. Niestety już przy rozpakowaniu okazało się,
że obudowa jest wgnieciona z prawej strony, a drzwiczki nie domykają się. Karton był
częściowo zgnieciony, ale kurier nie chciał czekać na spisanie protokołu szkody.

Po podłączeniu pralka uruchamia się, ale podczas wirowania bardzo głośno stuka i przesuwa
się po łazience. Po dwóch praniach pojawił się wyciek wody spod drzwiczek. Numer seryjny
urządzenia: SN 4829-XK-2231, model WAN28281PL.

W związku z powyższym, na podstawie przepisów o niezgodności towaru z umową, proszę o
wymianę pralki na nowy egzemplarz, wolny od wad. Jeżeli wymiana nie będzie możliwa, proszę
o zwrot pieniędzy na konto, z którego dokonałem płatności.

W załączeniu przesyłam zdjęcia uszkodzeń oraz kopię faktury. Proszę o informację, kiedy
kurier odbierze uszkodzone urządzenie i w jakim terminie otrzymam nową pralkę.

Z poważaniem
Jan Kowalski
tel. 600 100 200

-- 
Jan Kowalski
ul. Złota 5, 00-120 Warszawa

> Dzień dobry,
> dziękujemy za zgłoszenie reklamacji nr CLM-2026-000123.
> Odpowiemy w ciągu 14 dni. Prosimy nie zmieniać tematu wiadomości.
> Pozdrawiamy, zespół reklamacji
`
	return Input{
		Subject: "Re: Reklamacja - pralka uszkodzona [CLM-2026-000123]",
		Text:    text,
		Attachments: []message.Attachment{
			{Name: "IMG_2031.jpg", ContentType: "image/jpeg", Size: 2 << 20},
			{Name: "faktura FV-2026-11-0871.pdf", ContentType: "application/pdf", Size: 80 << 10},
		},
	}
}

func BenchmarkClassify(b *testing.B) {
	in := benchComplaint()
	b.Run("rules", func(b *testing.B) {
		c := New(nil, nil)
		b.SetBytes(int64(len(in.Subject) + len(in.Text)))
		b.ReportAllocs()
		for b.Loop() {
			c.Classify(in)
		}
	})
	b.Run("rules+model", func(b *testing.B) {
		c := New(nil, benchModel())
		b.SetBytes(int64(len(in.Subject) + len(in.Text)))
		b.ReportAllocs()
		for b.Loop() {
			c.Classify(in)
		}
	})
}

// benchModel is a model trained on a few hundred synthetic messages, so
// that the model's share of the cost is measured on a realistic
// vocabulary.
func benchModel() *Model {
	m := NewModel()
	in := benchComplaint()
	words := strings.Fields(in.Text)
	for i := range 400 {
		// Rotate the words so that the vocabulary grows like a real one.
		var b strings.Builder
		for j := range 120 {
			b.WriteString(words[(i*7+j)%len(words)])
			b.WriteString(" w")
			b.WriteString(string(rune('a' + (i+j)%26)))
			b.WriteString(string(rune('a' + (i*3+j)%26)))
			b.WriteByte(' ')
		}
		x := Input{Subject: in.Subject, Text: b.String()}
		m.Train(SpaceCategory, Categories()[i%len(Categories())], x)
		m.Train(SpaceRemedy, Remedies()[i%len(Remedies())], x)
	}
	return m
}
