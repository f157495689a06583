package classifier

import (
	"strings"
	"testing"
)

func TestLanguage(t *testing.T) {
	englishBody := "Hello,\nI received my order yesterday but the screen is cracked. " +
		"Please send a replacement or refund my money.\nThank you, John\n"
	ourAck := "> Dzień dobry,\n> dziękujemy za zgłoszenie reklamacji nr CLM-2026-000123.\n" +
		"> Odpowiemy w ciągu 14 dni. Prosimy nie zmieniać tematu wiadomości.\n" +
		"> Pozdrawiamy, zespół reklamacji\n"
	tests := []struct {
		name   string
		text   string
		want   string
		reason string // a fragment of the reason
	}{
		{"Polish with diacritics",
			"Dzień dobry, w zeszłym tygodniu zamówiłem pralkę, która przyszła uszkodzona. " +
				"Proszę o wymianę na nową.\nPozdrawiam, Jan Kowalski",
			"pl", "polish diacritics"},
		{"Polish without diacritics",
			"Dzien dobry, zamowilem telefon i ekran jest pekniety, prosze o wymiane",
			"pl", "polish diacritics 0"},
		{"Polish in capitals",
			"DZIEŃ DOBRY, TOWAR JEST USZKODZONY, PROSZĘ O ZWROT PIENIĘDZY",
			"pl", ""},
		{"English", englishBody, "en", ""},
		{"German",
			"Sehr geehrte Damen und Herren, ich habe die Bestellung erhalten, aber das Display " +
				"ist kaputt. Bitte schicken Sie mir einen Ersatz.\nMit freundlichen Grüßen, Hans Müller",
			"de", ""},
		{"German without umlauts",
			"Hallo, ich habe die Ware bekommen, aber sie funktioniert nicht. Bitte um Erstattung.",
			"de", "german letters 0"},
		{"English body, our Polish acknowledgement quoted", englishBody + "\n" + ourAck, "en", "quoted text skipped"},
		{"English note above a forwarded Polish mail",
			"Hi, forwarding this from my wife. Could you send the missing parts to the same address? Thanks, Kevin\n\n" +
				"---------- Forwarded message ---------\nFrom: Kasia\n\nkochanie, w tym biurku nie ma dwóch nóżek i klucza, sprawdzałam wszystkie kartony. napiszesz do nich?\n",
			"en", ""},
		{"Polish without diacritics full of words English shares (to, do, a)",
			"czesc, pad do konsoli ma drift na lewej galce. wiem ze gwarancja juz minela. da sie to u was naprawic? ile by to kosztowalo",
			"pl", ""},
		{"English body, Polish signature",
			englishBody + "-- \nJan Kowalski\nul. Złota 5, 00-120 Łódź\nPozdrawiam\n",
			"en", ""},
		{"English above an Outlook original in Polish",
			englishBody + "\n-----Oryginalna wiadomość-----\nOd: reklamacje@sklep.example\n" +
				strings.Repeat("Dzień dobry, dziękujemy za zgłoszenie reklamacji, odpowiemy w ciągu 14 dni. ", 5),
			"en", "quoted text skipped"},
		{"only a quoted Polish text: the quote is read",
			"Fwd:\n" + ourAck + "> Proszę o szybką odpowiedź, reklamacja jest pilna i towar nie działa.\n",
			"pl", "quoted text read"},
		{"empty", "", "", "no words"},
		{"whitespace", " \n\t\r\n", "", "no words"},
		{"too short", "Hi", "", "too little text"},
		{"greeting only", "Dzień dobry", "", "too little text"},
		{"numbers only", "12345 678 / 2026-01-01 +48 600 700 800", "", "no words"},
		{"words without evidence", "Samsung Galaxy S24 Ultra", "", "too little text"},
		{"no clear winner",
			"Dzień dobry, proszę o zwrot. Hello, please refund my order.",
			"", "no clear winner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lang, conf, reason := Language(tt.text)
			if lang != tt.want || !strings.Contains(reason, tt.reason) {
				t.Fatalf("Language = %q, %.2f, %q; want %q with reason containing %q", lang, conf, reason, tt.want, tt.reason)
			}
			if lang == "" && conf != 0 || lang != "" && (conf <= 0 || conf > 1) {
				t.Errorf("confidence %v for %q", conf, lang)
			}
			if reason == "" {
				t.Error("empty reason")
			}
			t.Logf("%q %.2f %s", lang, conf, reason)
		})
	}
}

func TestLanguagePronounI(t *testing.T) {
	// The only evidence is the letter i: capitalised it is English,
	// lower case Polish.
	tests := []struct {
		text string
		want string
	}{
		{"Tomek i Ola i Ania", "pl"},
		{"Tomek, I think I wrote", "en"},
		{"Tomek, I’m sure I’ve", "en"},
	}
	for _, tt := range tests {
		if lang, _, reason := Language(tt.text); lang != tt.want {
			t.Errorf("Language(%q) = %q (%s), want %q", tt.text, lang, reason, tt.want)
		}
	}
}

func TestLanguageConfidence(t *testing.T) {
	_, short, _ := Language("Dzien dobry, zamowilem telefon i ekran jest pekniety")
	_, full, _ := Language(strings.Repeat("Dzień dobry, zamówiłem telefon i ekran jest pęknięty, proszę o wymianę. ", 5))
	if !(short > 0 && short < full && full == 1) {
		t.Errorf("confidence: short %v, long %v; want 0 < short < long = 1", short, full)
	}
}

func TestLanguageOnlyFirst4KB(t *testing.T) {
	text := strings.Repeat("Please send the refund to my account. ", 4096/38+1) +
		strings.Repeat("Proszę o zwrot pieniędzy na moje konto, dziękuję. ", 1000)
	if lang, _, reason := Language(text); lang != "en" {
		t.Fatalf("Language = %q (%s): looked past the first 4 KB", lang, reason)
	}
	// A multi-byte rune cut at the 4 KB boundary is harmless.
	cut := strings.Repeat("a", languageScanBytes-1) + "ż proszę"
	Language(cut)
}

// FuzzLanguage checks that any input, valid UTF-8 or not, gets a
// well-formed answer.
func FuzzLanguage(f *testing.F) {
	f.Add("Dzien dobry, zamowilem telefon i ekran jest pekniety, prosze o wymiane")
	f.Add("> quoted\n-----Original Message-----\nI\xe2\x80\x99m here")
	f.Add("\xc5")
	f.Fuzz(func(t *testing.T, text string) {
		lang, conf, reason := Language(text)
		switch lang {
		case "", LangPolish, LangEnglish, LangGerman:
		default:
			t.Fatalf("lang %q", lang)
		}
		if reason == "" || conf < 0 || conf > 1 || (lang == "") != (conf == 0) {
			t.Fatalf("Language(%q) = %q, %v, %q", text, lang, conf, reason)
		}
	})
}

func BenchmarkLanguage(b *testing.B) {
	para := "Dzień dobry, w zeszłym tygodniu zamówiłem w Państwa sklepie pralkę, która przyszła " +
		"uszkodzona: drzwi się nie domykają, a na obudowie jest wgniecenie. Proszę o wymianę na nową " +
		"albo zwrot pieniędzy. Zdjęcia w załączniku, numer zamówienia 2026/01/12345.\n"
	text := strings.Repeat(para, 1024/len(para)+1)[:1024]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if lang, _, _ := Language(text); lang != "pl" {
			b.Fatal(lang)
		}
	}
}

func BenchmarkLanguageEnglish(b *testing.B) {
	para := "Hello, I received my order last week but the washing machine arrived damaged: the door " +
		"does not close and there is a dent in the casing. Please send a replacement or refund my money.\n"
	text := strings.Repeat(para, 1024/len(para)+1)[:1024]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if lang, _, _ := Language(text); lang != "en" {
			b.Fatal(lang)
		}
	}
}
