package classifier

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Languages Language can name.
const (
	LangPolish  = "pl"
	LangEnglish = "en"
	LangGerman  = "de"
)

// Tuning of Language. The numbers are judgement checked against the
// examples in the tests, not fitted to a corpus: a short complaint has
// 5-15 stopwords, a page 100 or more.
const (
	// languageScanBytes bounds the text looked at: the first lines of a
	// complaint say enough, and a 20 MB pasted log must not cost 20 MB of
	// work.
	languageScanBytes = 4 << 10
	// languageMinWords is the fewest words worth a guess: "Hi" or "Dzień
	// dobry" alone do not tell whose language the case is in.
	languageMinWords = 3
	// languageMinScore is the least evidence for the winner.
	languageMinScore = 2
	// languageWinRatio: the winner needs at least this many times the
	// runner-up's evidence, or there is no clear winner.
	languageWinRatio = 2
	// diacriticWeight is what one language-specific letter (ą, ß...) counts
	// against one stopword: a Polish word often has two of them, and a
	// foreign name (Müller, Łódź) must not outweigh a sentence.
	diacriticWeight = 0.5
	// languageFullConfidenceScore is the winner's score from which the
	// amount of evidence no longer limits the confidence.
	languageFullConfidenceScore = 10
)

// Stopword language bits; a word common in two languages carries both and
// counts for neither.
const (
	swPL uint8 = 1 << iota
	swEN
	swDE
)

// stopwords maps a lower-case word to the languages it is common in. Polish
// words are listed with and without diacritics, because many customers type
// without them ("prosze o wymiane"). The single letter "i" is not here: see
// (*languageEvidence).word. Read-only after initialisation.
var stopwords = buildStopwords(map[uint8]string{
	swPL: `nie jest sie się ze że w z na do o od po za przez dla przy bez pod nad
		jak czy ale bo lub oraz albo już juz tak tylko jeszcze bardzo to on ja
		mam ma mamy jestem był byl była byla było bylo były byly są sa
		został zostal została zostala zostało zostalo zostały zostaly
		mi mnie mój moj moja moje mojego mojej moim ta tego tym tej te
		który ktory która ktora które ktore którego ktorego której ktorej
		gdy kiedy jednak niestety dziękuję dziekuje dzięki dzieki
		proszę prosze pozdrawiam pozdrowienia witam dzień dzien dobry
		szanowni szanowny szanowna państwo panstwo państwa panstwa pan pani
		reklamację reklamacje reklamacja reklamacji reklamuję reklamuje
		zamówienie zamowienie zamówienia zamowienia zamówiłem zamowilem
		zamówiłam zamowilam zakupiłem zakupilem kupiłem kupilem
		towar towaru przesyłka przesylka przesyłki przesylki paczka paczki
		paczkę paczke zwrot zwrotu wymianę wymiane wymiany naprawę naprawe
		naprawy uszkodzony uszkodzona uszkodzone pieniędzy pieniedzy
		fakturę fakture faktura faktury też tez może moze można mozna
		jeśli jesli żeby zeby aby będzie bedzie sklep sklepu numer`,
	swEN: `the and is are was were be been being my me mine you your yours we our
		us they their them he she his her it its this that these those of to
		for on in at by from with without not no yes but or if as so an do
		does did done have has had having can could would should will shall
		may might must please order ordered received receive item items
		refund return returned broken damaged replacement replace hello hi
		dear regards thanks thank sincerely kind there which what when where
		why how who just still yet any some after before about into than then
		also sent send package parcel arrived delivery delivered complaint
		warranty faulty defective working don doesn didn isn wasn am`,
	swDE: `und ist sind war waren wurde wurden werden wird nicht ich du er sie es
		wir ihr ihnen ihre ihren mein meine meinen meiner meinem mich mir uns
		unser unsere die der das den dem des ein eine einen einem einer kein
		keine keinen zu zum zur auf für fuer mit von vom bei nach aus über
		ueber unter vor bis durch ohne um im in am an auch noch schon aber
		oder wenn dass daß weil ob wie was wo wer hier jetzt nur sehr bitte
		danke vielen dank leider habe haben hat hatte hatten kann können
		koennen könnte möchte moechte würde wuerde soll sollte muss so also
		will ja bestellung bestellt bestellte bestellnummer lieferung
		geliefert paket ware artikel rechnung rücksendung ruecksendung
		umtausch erstattung reklamation defekt kaputt beschädigt beschaedigt
		erhalten geehrte geehrter geehrten damen herren grüße grüßen grüsse
		grüssen gruesse gruessen freundlichen freundliche mfg hallo`,
})

func buildStopwords(lists map[uint8]string) map[string]uint8 {
	m := make(map[string]uint8, 512)
	for bit, words := range lists {
		for _, w := range strings.Fields(words) {
			m[w] |= bit
		}
	}
	return m
}

// languageEvidence is what one pass over the text found.
type languageEvidence struct {
	words               int
	plLetters, deLetter int  // ąćęłńóśźż; äöüß
	pl, en, de          int  // stopwords
	quoted              int  // quoted lines skipped
	cut                 bool // stopped at a reply separator
	withQuotes          bool // quoted text was read (too little without)
}

// Language guesses the language of text a customer wrote: "pl", "en" or
// "de", or "" when it cannot tell (too little text, or no clear winner).
// reason names the evidence (e.g. "polish diacritics 7, german letters 0,
// stopwords pl 12 en 1 de 0"); confidence is in [0, 1] and 0 with "".
//
// Evidence: letters only Polish or only German uses, and short stopword
// lists (Polish also without diacritics). Case is ignored except for the
// single letter i: "I" is English, "i" Polish ("and"). Only the first 4 KB
// are looked at. Quoted lines ("> ...") and everything after an "Original
// Message" separator are skipped, since they are usually our own Polish
// acknowledgement quoted back; if what is left is too little text, the
// quoted text is used after all (a bare forward is still the customer's).
func Language(text string) (lang string, confidence float64, reason string) {
	if len(text) > languageScanBytes {
		text = text[:languageScanBytes] // a rune cut in two is not a letter
	}
	ev := languageScan(text, true)
	if ev.words < languageMinWords && (ev.quoted > 0 || ev.cut) {
		ev = languageScan(text, false)
		ev.withQuotes = true
	}
	return languageDecide(ev)
}

// languageScan counts the evidence in text, skipping quoted lines and the
// text after a reply separator when skipQuotes is set.
func languageScan(text string, skipQuotes bool) languageEvidence {
	var ev languageEvidence
	var buf [64]byte // a lower-cased word; longer words are no stopword
	for line := range strings.Lines(text) {
		if skipQuotes {
			trimmed := strings.TrimLeft(line, " \t")
			if strings.HasPrefix(trimmed, ">") {
				ev.quoted++
				continue
			}
			if isReplySeparator(trimmed) {
				ev.cut = true
				break
			}
		}
		// n is the length of the lower-cased word in buf, or more than
		// len(buf) once it is too long to be a stopword; start is where
		// the word began in line, or -1 between words.
		n, start := 0, -1
		for i := 0; i < len(line); {
			c := line[i]
			if c < utf8.RuneSelf { // fast path: ASCII
				if lc := c | 0x20; 'a' <= lc && lc <= 'z' {
					if start < 0 {
						start, n = i, 0
					}
					if n < len(buf) {
						buf[n] = lc
					}
					n++
				} else if start >= 0 {
					ev.word(buf[:], n, line[start] == 'I')
					start = -1
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(line[i:])
			i += size
			if !unicode.IsLetter(r) {
				if start >= 0 { // e.g. "I’m": the apostrophe is U+2019
					ev.word(buf[:], n, line[start] == 'I')
					start = -1
				}
				continue
			}
			if start < 0 {
				start, n = i-size, 0
			}
			lr := unicode.ToLower(r)
			switch lr {
			case 'ą', 'ć', 'ę', 'ł', 'ń', 'ó', 'ś', 'ź', 'ż':
				ev.plLetters++
			case 'ä', 'ö', 'ü', 'ß':
				ev.deLetter++
			}
			if n+utf8.UTFMax <= len(buf) {
				n += utf8.EncodeRune(buf[n:], lr)
			} else {
				n = len(buf) + 1
			}
		}
		if start >= 0 {
			ev.word(buf[:], n, line[start] == 'I')
		}
	}
	return ev
}

// word counts the word of n bytes in buf (lower case; n > len(buf) for a
// word too long to be a stopword). capitalI tells whether a one-letter word
// was written "I".
func (ev *languageEvidence) word(buf []byte, n int, capitalI bool) {
	ev.words++
	switch {
	case n > len(buf):
	case n == 1 && buf[0] == 'i':
		// English writes the pronoun capitalised; Polish "i" ("and") is
		// lower case except at the start of a sentence.
		if capitalI {
			ev.en++
		} else {
			ev.pl++
		}
	default:
		bits := stopwords[string(buf[:n])] // no allocation
		if bits&(bits-1) != 0 {
			// Common in two languages ("to", "do", "in"): no evidence
			// between them, and counting it for both would blur the
			// ratio the decision rests on.
			return
		}
		if bits&swPL != 0 {
			ev.pl++
		}
		if bits&swEN != 0 {
			ev.en++
		}
		if bits&swDE != 0 {
			ev.de++
		}
	}
}

// isReplySeparator reports whether line (left-trimmed) is a line that mail
// clients put above a quoted original without ">" marks (Outlook,
// Thunderbird), e.g. "-----Original Message-----", in the languages we
// expect.
func isReplySeparator(line string) bool {
	if !strings.HasPrefix(line, "-----") {
		return false
	}
	switch strings.ToLower(strings.Trim(line, "- \t\r\n")) {
	case "original message", "oryginalna wiadomość", "wiadomość oryginalna",
		"ursprüngliche nachricht", "originalnachricht",
		// Forwards: the customer's own words are above the separator.
		"forwarded message", "wiadomość przekazana dalej", "przekazana wiadomość",
		"weitergeleitete nachricht":
		return true
	}
	return false
}

// languageDecide turns the evidence into an answer.
func languageDecide(ev languageEvidence) (string, float64, string) {
	scores := [...]struct {
		lang  string
		score float64
	}{
		{LangPolish, float64(ev.pl) + diacriticWeight*float64(ev.plLetters)},
		{LangEnglish, float64(ev.en)},
		{LangGerman, float64(ev.de) + diacriticWeight*float64(ev.deLetter)},
	}
	best, second := 0, -1
	for i := 1; i < len(scores); i++ {
		if scores[i].score > scores[best].score {
			best = i
		}
	}
	for i := range scores {
		if i != best && (second < 0 || scores[i].score > scores[second].score) {
			second = i
		}
	}
	b, s := scores[best].score, scores[second].score

	detail := languageReason(ev)
	switch {
	case ev.words == 0:
		return "", 0, "no words"
	case ev.words < languageMinWords || b < languageMinScore:
		return "", 0, "too little text: " + strconv.Itoa(ev.words) + " words; " + detail
	case b < languageWinRatio*s:
		return "", 0, "no clear winner: " + detail
	}
	conf := (b - s) / b * math.Min(1, b/languageFullConfidenceScore)
	return scores[best].lang, math.Round(conf*100) / 100, detail
}

func languageReason(ev languageEvidence) string {
	r := make([]byte, 0, 96)
	r = append(r, "polish diacritics "...)
	r = strconv.AppendInt(r, int64(ev.plLetters), 10)
	r = append(r, ", german letters "...)
	r = strconv.AppendInt(r, int64(ev.deLetter), 10)
	r = append(r, ", stopwords pl "...)
	r = strconv.AppendInt(r, int64(ev.pl), 10)
	r = append(r, " en "...)
	r = strconv.AppendInt(r, int64(ev.en), 10)
	r = append(r, " de "...)
	r = strconv.AppendInt(r, int64(ev.de), 10)
	if ev.quoted > 0 || ev.cut {
		r = append(r, "; quoted text skipped"...)
	}
	if ev.withQuotes {
		r = append(r, "; quoted text read (too little without)"...)
	}
	return string(r)
}
