package classifier

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDefaultRules(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	// Every category but other, every remedy but none and both priority
	// levels have terms in each language.
	for space, labels := range map[uint8][]string{spaceCategory: Categories(), spaceRemedy: Remedies(), spacePriority: priorityLevels()} {
		for li, label := range labels {
			if label == CatOther && space == spaceCategory || label == RemedyNone {
				continue
			}
			var langs uint8
			for _, p := range r.patterns {
				if p.space == space && int(p.label) == li && p.weight > 0 {
					langs |= p.langs
				}
			}
			if langs != langBitsAll {
				t.Errorf("%s has terms in languages %03b, want all of pl, en, de", label, langs)
			}
		}
	}
	for _, kind := range FactKinds() {
		if !slices.ContainsFunc(r.facts, func(f factPattern) bool { return f.kind == kind }) {
			t.Errorf("no fact pattern for %s", kind)
		}
	}
	if r.set != (settings{subjectWeight: 2, evidenceScale: 3, rulesDecide: 0.2, modelDecides: 0.9, priorityThreshold: 1}) {
		t.Errorf("settings = %+v", r.set)
	}
	if got := r.defaultRemedy[slices.Index(Categories(), CatWithdrawal)]; got != slices.Index(Remedies(), RemedyRefund) {
		t.Errorf("withdrawal default remedy = %d", got)
	}
}

func TestCompileTerm(t *testing.T) {
	tests := []struct {
		term    string
		want    string // termKey, "" when an error is expected
		problem string
	}{
		{"kurier", "kurier", ""},
		{"kurier*", "kurier*", ""},
		{"Przesyłka", "przesylka", ""},
		{"uszkodz* w transporcie", "uszkodz* w transporcie", ""},
		{"  nie   działa ", "nie dziala", ""},
		{"doesn't work", "doesn t work", ""},
		{"e-mail*", "e mail*", ""},
		{"", "", "empty term"},
		{"uk*", "", "shorter than 3"},
		{"usz*kodz", "", "inside a word"},
		{"*", "", "no letters"},
		{"!!!", "", "no letters"},
		{"a b c d e f g", "", "more than 6 words"},
		{strings.Repeat("x", maxTokenBytes+1), "", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.term, func(t *testing.T) {
			words, msg, fix := compileTerm(tt.term)
			if tt.problem != "" {
				if !strings.Contains(msg, tt.problem) || fix == "" {
					t.Errorf("compileTerm(%q) problem %q (fix %q), want one containing %q and a fix", tt.term, msg, fix, tt.problem)
				}
				return
			}
			if msg != "" {
				t.Fatalf("compileTerm(%q): %s", tt.term, msg)
			}
			if got := termKey(words); got != tt.want {
				t.Errorf("compileTerm(%q) = %q, want %q", tt.term, got, tt.want)
			}
		})
	}
}

func TestLoadRulesErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int    // expected line of the first problem; 0 to skip
		want       string // fragment of the error
	}{
		{"invalid YAML", "categories:\n  transport_damage:\n    pl: [kurier\n", 0, "invalid YAML"},
		{"tab indentation", "categories:\n\ttransport_damage: {}\n", 2, "invalid YAML"},
		{"two documents", "version: 1\n---\nversion: 1\n", 0, "more than one YAML document"},
		{"not a mapping", "- kurier\n", 1, "expected a mapping"},
		{"unknown section", "categorise: {}\n", 1, "unknown section"},
		{"bad version", "version: 2\n", 1, "unsupported version"},
		{"bad inherit", "inherit_defaults: maybe\n", 1, "not true or false"},
		{"unknown category", "categories:\n  transprot_damage:\n    pl: {kurier: 3}\n", 2, "unknown category"},
		{"fix lists the categories", "categories:\n  damage: {}\n", 2, "transport_damage"},
		{"unknown remedy", "remedies:\n  money: {}\n", 2, "unknown remedy"},
		{"normal priority", "priority:\n  normal:\n    pl: [dym]\n", 2, "normal is what a case gets"},
		{"unknown language", "categories:\n  billing:\n    fr: {facture: 3}\n", 3, "use pl, en, de or any"},
		{"weight not a number", "categories:\n  billing:\n    pl:\n      faktura: dużo\n", 4, "not a non-zero number"},
		{"zero weight", "categories:\n  billing:\n    pl:\n      faktura: 0\n", 4, "delete the line to drop the term"},
		{"weight too large", "categories:\n  billing:\n    pl:\n      faktura: 1000\n", 4, "from -100 to 100"},
		{"short stem", "categories:\n  billing:\n    pl:\n      fa*: 3\n", 4, `categories.billing.pl "fa*": stem "fa*" is shorter`},
		{"duplicate key", "categories:\n  billing:\n    pl:\n      faktura: 3\n      faktura: 2\n", 5, "given twice (first on line 4)"},
		{"same term after normalisation", "categories:\n  billing:\n    pl:\n      korekta: 3\n      KOREKTA: 2\n", 5, "the same term as on line 4"},
		{"diacritics duplicate", "categories:\n  billing:\n    pl:\n      płatność: 3\n      platnosc: 2\n", 5, "diacritics are ignored"},
		{"alias", "a: &x {faktura: 1}\ncategories:\n  billing:\n    pl: *x\n", 0, "aliases"},
		{"default remedy on a remedy", "remedies:\n  refund:\n    default_remedy: refund\n", 3, "only categories"},
		{"unknown default remedy", "categories:\n  withdrawal:\n    default_remedy: money\n", 3, "unknown remedy"},
		{"fixed remedy on a remedy", "remedies:\n  refund:\n    fixed_remedy: none\n", 3, "only categories"},
		{"unknown fixed remedy", "categories:\n  other:\n    fixed_remedy: nothing\n", 3, "unknown remedy"},
		{"unknown setting", "settings:\n  subject_weigth: 2\n", 2, "unknown setting"},
		{"setting out of range", "settings:\n  rules_decide: 2\n", 2, "from 0 to 1"},
		{"unknown fact kind", "facts:\n  phone: ['\\d+']\n", 2, "unknown fact kind"},
		{"bad regexp", "facts:\n  order_number:\n    - '(?<=nr)\\d+'\n", 3, "not a valid regular expression"},
		{"empty-matching regexp", "facts:\n  order_number:\n    - '\\d*'\n", 3, "matches empty text"},
		{"facts not a list", "facts:\n  order_number: 'x'\n", 2, "expected a list of patterns"},
		{"term list with a mapping", "priority:\n  urgent:\n    pl:\n      - {dym: 1}\n", 4, "must be a term"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadRules([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("LoadRules accepted:\n%s", tt.yaml)
			}
			var re *RulesError
			if !errors.As(err, &re) || len(re.Problems) == 0 {
				t.Fatalf("error %v is not a *RulesError with problems", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.line > 0 && re.Problems[0].Line != tt.line {
				t.Errorf("problem on line %d, want %d: %v", re.Problems[0].Line, tt.line, err)
			}
			if re.Problems[0].Fix == "" {
				t.Errorf("problem without a fix: %v", err)
			}
		})
	}
}

// Every problem of a file is reported at once.
func TestLoadRulesReportsAllProblems(t *testing.T) {
	_, err := LoadRules([]byte("categories:\n  billing:\n    pl:\n      fa*: 3\n      x: y\nsettings:\n  foo: 1\n"))
	var re *RulesError
	if !errors.As(err, &re) || len(re.Problems) != 3 {
		t.Fatalf("got %v, want 3 problems", err)
	}
}

func TestLoadRulesOverride(t *testing.T) {
	def, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, r *Rules)
	}{
		{"empty file is the defaults", "", func(t *testing.T, r *Rules) {
			if len(r.patterns) != len(def.patterns) || len(r.facts) != len(def.facts) {
				t.Errorf("%d patterns, %d facts; defaults have %d, %d", len(r.patterns), len(r.facts), len(def.patterns), len(def.facts))
			}
		}},
		{"a category replaces only itself", "categories:\n  billing:\n    pl: {rachunek: 3}\n", func(t *testing.T, r *Rules) {
			billing := slices.Index(Categories(), CatBilling)
			n := 0
			for _, p := range r.patterns {
				if p.space == spaceCategory && int(p.label) == billing {
					n++
				}
			}
			if n != 1 {
				t.Errorf("billing has %d terms, want 1", n)
			}
			if len(r.patterns) < len(def.patterns)/2 {
				t.Errorf("other categories lost: %d patterns", len(r.patterns))
			}
		}},
		{"settings merge", "settings:\n  subject_weight: 3\n", func(t *testing.T, r *Rules) {
			if r.set.subjectWeight != 3 || r.set.evidenceScale != def.set.evidenceScale {
				t.Errorf("settings = %+v", r.set)
			}
		}},
		{"a fact kind switched off", "facts:\n  amount: []\n", func(t *testing.T, r *Rules) {
			for _, f := range r.facts {
				if f.kind == FactAmount {
					t.Error("amount patterns remain")
				}
			}
			if len(r.facts) == 0 {
				t.Error("the other kinds were dropped")
			}
		}},
		{"standalone file", "inherit_defaults: false\ncategories:\n  billing:\n    any: [faktura]\n", func(t *testing.T, r *Rules) {
			if len(r.patterns) != 1 || len(r.facts) != 0 {
				t.Errorf("%d patterns, %d facts; want 1, 0", len(r.patterns), len(r.facts))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := LoadRules([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

// The shipped file, loaded as an override of itself, changes nothing.
func TestLoadRulesOfDefaults(t *testing.T) {
	r, err := LoadRules(defaultRulesYAML)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := DefaultRules()
	if len(r.patterns) != len(def.patterns) || len(r.facts) != len(def.facts) {
		t.Errorf("%d patterns, %d facts; want %d, %d", len(r.patterns), len(r.facts), len(def.patterns), len(def.facts))
	}
}

func TestLoadRulesTooLarge(t *testing.T) {
	if _, err := LoadRules(make([]byte, maxRulesBytes+1)); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("got %v", err)
	}
}

// Matching: whole words, stems, phrases, once per field, language scoped.
func TestMatch(t *testing.T) {
	r, err := LoadRules([]byte(`inherit_defaults: false
categories:
  transport_damage:
    pl:
      kurier: 3
      "uszkodz* w transporcie": 5
    en:
      courier: 3
  billing:
    any:
      faktur*: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, subject, text string
		langs               uint8
		want                []string // matched terms, in order
	}{
		{"whole word", "", "Kurier przyjechał", langBitsAll, []string{"Kurier"}},
		{"whole word does not match longer words", "", "kuriera nie było", langBitsAll, nil},
		{"stem", "", "Faktury, fakturę", langBitsAll, []string{"Faktury"}},
		{"phrase with stems", "", "towar uszkodzony w transporcie", langBitsAll, []string{"uszkodzony w transporcie"}},
		{"phrase needs adjacency", "", "uszkodzony był w transporcie", langBitsAll, nil},
		{"once per field", "", "kurier kurier kurier", langBitsAll, []string{"kurier"}},
		{"subject and text count apart", "Kurier", "kurier", langBitsAll, []string{"Kurier", "kurier"}},
		{"language scoped", "", "kurier courier", langBitPL, []string{"kurier"}},
		{"any counts in every language", "", "invoice faktura", langBitEN, []string{"faktura"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prepare(Input{Subject: tt.subject, Text: tt.text})
			m := r.newMatches()
			r.match(m, p.subjToks, true, tt.langs)
			r.match(m, p.textToks, false, tt.langs)
			var got []string
			for _, h := range m.hits {
				src := p.text
				if h.subject {
					src = p.subject
				}
				got = append(got, src[h.start:h.end])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matched %q, want %q", got, tt.want)
			}
		})
	}
}

// A negative weight takes evidence away, but no score falls below zero.
func TestNegativeWeights(t *testing.T) {
	r, err := LoadRules([]byte(`inherit_defaults: false
categories:
  billing:
    pl:
      faktur*: 2
      "w załączniku faktur*": -2
      "kopia faktury": -5
`))
	if err != nil {
		t.Fatal(err)
	}
	score := func(text string) float64 {
		p := prepare(Input{Text: text})
		m := r.newMatches()
		r.match(m, p.textToks, false, langBitsAll)
		return r.scores(m, spaceCategory, len(Categories()))[slices.Index(Categories(), CatBilling)]
	}
	if s := score("proszę o korektę, faktura ma błąd"); s != 2 {
		t.Errorf("billing score %v, want 2", s)
	}
	if s := score("w załączniku faktura zakupu"); s != 0 {
		t.Errorf("billing score %v, want 0", s)
	}
	if s := score("kopia faktury"); s != 0 {
		t.Errorf("billing score %v, want 0 (floored)", s)
	}
}
