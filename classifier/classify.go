package classifier

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/claimsd/claimsd/message"
)

// Categories of a case. The values are stable: they are stored and shown
// in `cases list --json`. They follow the kinds of case a Polish
// after-sales desk sees (DOMAIN §1).
const (
	CatNonConformity   = "non_conformity"   // niezgodność z umową, rękojmia: the statutory claim
	CatGuarantee       = "guarantee"        // gwarancja: the voluntary guarantee, its own terms
	CatWithdrawal      = "withdrawal"       // zwrot, odstąpienie od umowy (14 days, no reason)
	CatRepair          = "repair"           // naprawa, serwis, RMA outside a complaint
	CatTransportDamage = "transport_damage" // uszkodzenie w transporcie
	CatMissingItem     = "missing_item"     // brak w przesyłce
	CatBilling         = "billing"          // faktura, korekta, payments
	CatOther           = "other"            // anything else
)

// Remedies a customer asks for (DOMAIN §1: repair or replacement first,
// then price reduction or withdrawal with a refund).
const (
	RemedyRepair         = "repair"
	RemedyReplacement    = "replacement"
	RemedyPriceReduction = "price_reduction"
	RemedyRefund         = "refund"
	RemedyNone           = "none"
)

// Priorities of a case: urgent for safety (fire, electric shock, injury),
// high for legal escalation (UOKiK, lawyer, court), normal otherwise.
const (
	PriorityUrgent = "urgent"
	PriorityHigh   = "high"
	PriorityNormal = "normal"
)

// Categories lists the categories; on a tie between rule scores the
// earlier one wins.
func Categories() []string {
	return []string{CatNonConformity, CatGuarantee, CatWithdrawal, CatRepair, CatTransportDamage, CatMissingItem, CatBilling, CatOther}
}

// Remedies lists the remedies; on a tie the earlier one wins.
func Remedies() []string {
	return []string{RemedyRepair, RemedyReplacement, RemedyPriceReduction, RemedyRefund, RemedyNone}
}

// Priorities lists the priorities, most pressing first.
func Priorities() []string { return []string{PriorityUrgent, PriorityHigh, PriorityNormal} }

// Decision is one answer with how sure it is and why.
type Decision struct {
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"` // 0..1
	// Reason names what decided: the rule and the customer's words
	// (`rule transport_damage: "kurier", "zgnieciony" (score 7; next
	// non_conformity 1)`), or the model (`model: 0.83 (rules weak: ...)`).
	Reason string `json:"reason"`
}

// Fact is something extracted from the message, with the text it came
// from. Kind is one of FactKinds(). Values are normalised: dates as
// 2026-11-12, amounts as "1299.00 PLN".
type Fact struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Result is what Classify decides about a message.
type Result struct {
	Category Decision `json:"category"`
	Remedy   Decision `json:"remedy"`
	Priority Decision `json:"priority"`
	Language Decision `json:"language"`
	Facts    []Fact   `json:"facts,omitempty"`
}

// Input is what the classifier reads of a message. Text is the readable
// body; message.Parsed.NewText (without quoted history) is best, Text works
// too since quoted lines and signatures are skipped here as well.
type Input struct {
	Subject     string
	Text        string
	Attachments []message.Attachment
}

// Classifier combines the keyword rules with an optional trained model.
// It is immutable and safe for concurrent use.
type Classifier struct {
	rules *Rules
	model *compiledModel // nil: no model, or one too little trained to answer
}

// New returns a classifier using r (nil: the shipped rules) and m (nil: no
// model). The model is copied into a layout made for prediction (costing
// time and memory in proportion to its size, once), so training m
// afterwards does not change the classifier: to use a retrained model,
// build a new Classifier and swap it in (e.g. through an atomic.Pointer).
func New(r *Rules, m *Model) *Classifier {
	if r == nil {
		var err error
		if r, err = DefaultRules(); err != nil {
			// rules.yaml is compiled into the binary and checked by the
			// tests: this is a build defect, not a runtime condition.
			panic("classifier: the embedded rules.yaml is invalid: " + err.Error())
		}
	}
	return &Classifier{rules: r, model: m.compile()}
}

// prepared is a message made ready for the rules and the model.
type prepared struct {
	subject, text      string // bounded; text without quotes and signature
	subjToks, textToks []token
	attachments        []message.Attachment
}

// maxSubjectBytes bounds the subject; real ones are far shorter.
const maxSubjectBytes = 1 << 10

func prepare(in Input) *prepared {
	p := &prepared{subject: headText(in.Subject, maxSubjectBytes), text: cleanText(in.Text), attachments: in.Attachments}
	p.subjToks = tokenize(p.subject)
	p.textToks = tokenize(p.text)
	return p
}

// Classify decides the category, remedy, priority and language of a
// message and extracts its facts. Only the first 8 KB of the text are
// read.
//
// Keyword rules count only in the language of the message when Language
// recognises it (so English "brand new" does not trip German "Brand"), in
// all languages otherwise. The rules decide when their confidence reaches
// rules_decide; below that a trained model decides when it is at least
// model_decides sure; otherwise the weak rule answer (or other / none)
// stands. Every Reason says which of them decided.
func (c *Classifier) Classify(in Input) Result {
	p := prepare(in)
	var res Result
	res.Language = languageDecision(in)
	langs := langBitsAll
	switch res.Language.Value {
	case LangPolish:
		langs = langBitPL
	case LangEnglish:
		langs = langBitEN
	case LangGerman:
		langs = langBitDE
	}
	m := c.rules.newMatches()
	c.rules.match(m, p.subjToks, true, langs)
	c.rules.match(m, p.textToks, false, langs)

	var feats []int32 // the model's ids of the message's features
	if c.model != nil {
		feats = c.model.lookup(modelFeatures(p))
	}

	cats := Categories()
	catRule := c.ruleVerdict(m, p, spaceCategory)
	res.Category = c.combine(SpaceCategory, catRule, cats, CatOther, feats)

	rems := Remedies()
	remRule := c.ruleVerdict(m, p, spaceRemedy)
	if remRule.label < 0 {
		// No remedy named: some categories imply one (a withdrawal is
		// answered with a refund).
		if ci := slices.Index(cats, res.Category.Value); ci >= 0 && c.rules.defaultRemedy[ci] >= 0 {
			remRule = verdict{
				label:  c.rules.defaultRemedy[ci],
				conf:   math.Min(0.6, res.Category.Confidence),
				reason: "category " + res.Category.Value + " implies " + rems[c.rules.defaultRemedy[ci]] + " (default_remedy)",
			}
		}
	}
	res.Remedy = c.combine(SpaceRemedy, remRule, rems, RemedyNone, feats)
	if ci := slices.Index(cats, res.Category.Value); ci >= 0 && c.rules.fixedRemedy[ci] >= 0 && res.Category.Reason != fallbackReason(CatOther) {
		// The category settles the remedy: an enquiry asks for none even
		// when it mentions returns or repairs. Not when the category is
		// only the fallback: then nothing says it is an enquiry.
		res.Remedy = Decision{
			Value:      rems[c.rules.fixedRemedy[ci]],
			Confidence: res.Category.Confidence,
			Reason:     "category " + res.Category.Value + " has remedy " + rems[c.rules.fixedRemedy[ci]] + " (fixed_remedy)",
		}
	}

	res.Priority = c.priority(m, p)
	res.Facts = c.rules.extractFacts(p.subject, p.text)
	return res
}

// languageDecision wraps Language; when the body alone does not tell, the
// subject is added as evidence.
func languageDecision(in Input) Decision {
	lang, conf, reason := Language(in.Text)
	if lang == "" && strings.TrimSpace(in.Subject) != "" {
		if l, c, r := Language(in.Subject + "\n" + headText(in.Text, scanBytes)); l != "" {
			return Decision{Value: l, Confidence: c, Reason: "subject and text: " + r}
		}
	}
	return Decision{Value: lang, Confidence: conf, Reason: reason}
}

// verdict is what the rules say in one space.
type verdict struct {
	label  int // -1: nothing scored
	conf   float64
	reason string
}

// defaultConfidence is the confidence of other / none when no rule
// matched: plausible, but below any sensible rules_decide, so a confident
// model may overrule it.
const defaultConfidence = 0.3

// ruleVerdict picks the best-scoring label of a space. The confidence
// grows with the margin over the runner-up and with the amount of
// evidence: (1 - second/best) * (1 - exp(-best/evidence_scale)); one strong
// term (weight 3) alone gives 0.63 with the shipped scale of 3.
func (c *Classifier) ruleVerdict(m *matches, p *prepared, space uint8) verdict {
	labels := spaceLabels(space)
	s := c.rules.scores(m, space, len(labels))
	best, second := -1, -1
	for i, v := range s {
		if v <= 0 {
			continue
		}
		switch {
		case best < 0 || v > s[best]:
			best, second = i, best
		case second < 0 || v > s[second]:
			second = i
		}
	}
	if best < 0 {
		return verdict{label: -1}
	}
	b, sec := s[best], 0.0
	if second >= 0 {
		sec = s[second]
	}
	conf := (1 - sec/b) * (1 - math.Exp(-b/c.rules.set.evidenceScale))
	reason := "rule " + labels[best] + ": " + c.terms(m, p, space, best) + " (score " + fmtScore(b)
	if second >= 0 {
		reason += "; next " + labels[second] + " " + fmtScore(sec)
	}
	return verdict{label: best, conf: round2(conf), reason: reason + ")"}
}

// fallbackReason is the reason of a decision nothing pointed to.
func fallbackReason(def string) string { return "no rule matched; default " + def }

// combine settles a space between the rules and the model.
func (c *Classifier) combine(space string, rv verdict, labels []string, def string, feats []int32) Decision {
	d := Decision{Value: def, Confidence: defaultConfidence, Reason: fallbackReason(def)}
	weak := "no rule matched"
	if rv.label >= 0 {
		d = Decision{Value: labels[rv.label], Confidence: rv.conf, Reason: rv.reason}
		weak = labels[rv.label] + " " + fmtScore(rv.conf)
	}
	if c.model == nil {
		return d
	}
	ml, mp, ok := c.model.predict(space, feats)
	if !ok || !slices.Contains(labels, ml) {
		return d
	}
	mp = round2(mp)
	switch {
	case ml == d.Value:
		// Agreement is stronger evidence than either alone.
		d.Confidence = round2(1 - (1-d.Confidence)*(1-mp))
		d.Reason += "; model agrees: " + fmtScore(mp)
	case rv.label >= 0 && rv.conf >= c.rules.set.rulesDecide:
		d.Reason += "; model said " + ml + ": " + fmtScore(mp)
	case mp >= c.rules.set.modelDecides:
		d = Decision{Value: ml, Confidence: mp, Reason: "model: " + fmtScore(mp) + " (rules weak: " + weak + ")"}
	}
	return d
}

// priority is urgent when the urgent terms reach priority_threshold, else
// high when the high terms do, else normal. A safety term right after a
// negation ("no smoke") does not count (see negated); nothing looser is
// read as a denial: a safety word costs a look, a missed fire more.
func (c *Classifier) priority(m *matches, p *prepared) Decision {
	levels := priorityLevels()
	s := c.rules.scores(m, spacePriority, len(levels))
	th := c.rules.set.priorityThreshold
	for i, lv := range levels {
		if s[i] >= th {
			conf := math.Min(0.95, 0.6+0.1*(s[i]-th)/th)
			return Decision{Value: lv, Confidence: round2(conf), Reason: "rule " + lv + ": " + c.terms(m, p, spacePriority, i)}
		}
	}
	return Decision{Value: PriorityNormal, Confidence: 0.6, Reason: "no urgent or high priority terms"}
}

// maxReasonTerms: a reason lists the strongest few words, not all.
const maxReasonTerms = 5

// terms lists the customer's words behind a label, strongest first.
func (c *Classifier) terms(m *matches, p *prepared, space uint8, label int) string {
	type term struct {
		text string
		w    float64
	}
	var ts []term
	for _, h := range m.hits {
		pt := &c.rules.patterns[h.id]
		if pt.space != space || int(pt.label) != label || pt.weight <= 0 {
			continue
		}
		src := p.text
		if h.subject {
			src = p.subject
		}
		t := strconv.Quote(excerptWords(src[h.start:h.end]))
		if h.subject {
			t += " (subject)"
		}
		if !slices.ContainsFunc(ts, func(x term) bool { return x.text == t }) {
			ts = append(ts, term{t, c.rules.contribution(h)})
		}
	}
	slices.SortStableFunc(ts, func(a, b term) int {
		switch {
		case a.w > b.w:
			return -1
		case a.w < b.w:
			return 1
		}
		return 0
	})
	if len(ts) > maxReasonTerms {
		ts = ts[:maxReasonTerms]
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.text
	}
	return strings.Join(parts, ", ")
}

// excerptWords puts matched words on one line, bounded.
func excerptWords(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 40 {
		s = headText(s, 40) + "…"
	}
	return s
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func fmtScore(f float64) string { return strconv.FormatFloat(round2(f), 'f', -1, 64) }

// String shows a result on one line per decision, for logs and the CLI.
func (r Result) String() string {
	var b strings.Builder
	for _, d := range []struct {
		name string
		d    Decision
	}{{"category", r.Category}, {"remedy", r.Remedy}, {"priority", r.Priority}, {"language", r.Language}} {
		fmt.Fprintf(&b, "%s: %s %.2f (%s)\n", d.name, d.d.Value, d.d.Confidence, d.d.Reason)
	}
	for _, f := range r.Facts {
		fmt.Fprintf(&b, "fact %s: %s (%s)\n", f.Kind, f.Value, f.Reason)
	}
	return b.String()
}
