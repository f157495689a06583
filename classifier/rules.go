package classifier

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Limits of a rules file. They keep a mistaken or hostile file from
// costing memory or time at every message.
const (
	maxRulesBytes   = 1 << 20
	maxPhraseWords  = 6
	minStemBytes    = 3 // "dym*" is fine, "uk*" matches half the language
	maxWeight       = 100
	maxFactPatterns = 64
	maxPatternBytes = 2000
)

// Label spaces the keyword rules vote in.
const (
	spaceCategory uint8 = iota
	spaceRemedy
	spacePriority
	numSpaces
)

// Language bits of a term: it counts only when the message is in one of its
// languages, or when the language is unknown.
const (
	langBitPL uint8 = 1 << iota
	langBitEN
	langBitDE
	langBitsAll = langBitPL | langBitEN | langBitDE
)

// priorityLevels are the priorities a rule can raise a case to; normal is
// what remains when none triggers.
func priorityLevels() []string { return []string{PriorityUrgent, PriorityHigh} }

// spaceLabels returns the labels of a space, in tie-breaking order.
func spaceLabels(space uint8) []string {
	switch space {
	case spaceCategory:
		return Categories()
	case spaceRemedy:
		return Remedies()
	default:
		return priorityLevels()
	}
}

// Rules are the keyword rules: weighted words, stems and phrases per
// category, remedy and priority level, in Polish, English and German, and
// the regular expressions that extract facts. A Rules value is immutable
// after DefaultRules or LoadRules returns it and is safe for concurrent
// use. rules.yaml documents the file format.
type Rules struct {
	set      settings
	patterns []pattern
	// index maps the head of a pattern's first word (its first
	// minStemBytes bytes, or the whole word when shorter) to the
	// patterns, so that a word of the text costs one map look-up, however
	// many rules there are.
	index map[string][]int32
	// defaultRemedy maps a category index to a remedy index, or -1.
	defaultRemedy []int
	// fixedRemedy maps a category index to the remedy it always has
	// (enquiries ask for none, whatever words they use), or -1.
	fixedRemedy []int
	facts       []factPattern
	hints       *hintIndex // over the hint literals of facts
}

// settings are the numbers of the decision; rules.yaml explains each.
type settings struct {
	subjectWeight     float64
	evidenceScale     float64
	rulesDecide       float64
	modelDecides      float64
	priorityThreshold float64
}

// settingSpec describes one key of the settings section.
type settingSpec struct {
	name     string
	min, max float64
	set      func(*settings, float64)
}

func settingSpecs() []settingSpec {
	return []settingSpec{
		{"subject_weight", 0, 10, func(s *settings, v float64) { s.subjectWeight = v }},
		{"evidence_scale", 0.1, 100, func(s *settings, v float64) { s.evidenceScale = v }},
		{"rules_decide", 0, 1, func(s *settings, v float64) { s.rulesDecide = v }},
		{"model_decides", 0, 1, func(s *settings, v float64) { s.modelDecides = v }},
		{"priority_threshold", 0.01, 100, func(s *settings, v float64) { s.priorityThreshold = v }},
	}
}

// wordPat is one word of a term: a whole word, or a stem matching every
// word that starts with it.
type wordPat struct {
	s      string
	prefix bool
}

// pattern is one compiled term.
type pattern struct {
	words  []wordPat
	space  uint8
	label  uint8
	langs  uint8
	weight float64
}

// RuleProblem is one thing wrong with a rules file: where, which rule, what
// and how to fix it.
type RuleProblem struct {
	Line    int    // 1-based line in the file; 0 when not tied to a line
	Rule    string // e.g. `categories.transport_damage.pl "ku*"`
	Message string
	Fix     string
}

func (p RuleProblem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Rule != "" {
		b.WriteString(p.Rule + ": ")
	}
	b.WriteString(p.Message)
	if p.Fix != "" {
		b.WriteString(" (fix: " + p.Fix + ")")
	}
	return b.String()
}

// RulesError lists every problem found in a rules file, so that one edit
// round fixes them all.
type RulesError struct{ Problems []RuleProblem }

func (e *RulesError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "rules: " + strings.Join(parts, "; ")
}

// DefaultRules returns the rules shipped in rules.yaml (embedded as
// defaultRulesYAML, see rulesyaml.go). It parses the file
// at each call, so that no parsed state is shared between callers; the
// result is immutable, so call it once and keep it.
func DefaultRules() (*Rules, error) {
	raw, probs := parseRules(defaultRulesYAML)
	if len(probs) > 0 {
		return nil, &RulesError{probs}
	}
	return compileRules(raw)
}

// LoadRules parses a rules file. By default (inherit_defaults: true) it
// overrides the shipped rules entry by entry: a category, remedy, priority
// level or fact kind it names replaces the shipped one, settings it sets
// replace the shipped values, and everything else stays. With
// inherit_defaults: false the file stands alone. Errors are a *RulesError
// naming the line, the rule and the fix of every problem.
func LoadRules(data []byte) (*Rules, error) {
	if len(data) > maxRulesBytes {
		return nil, &RulesError{[]RuleProblem{{
			Message: fmt.Sprintf("the file has %d bytes, more than the %d allowed", len(data), maxRulesBytes),
			Fix:     "keep the rules to keywords and phrases; long lists of product names belong in the model, not the rules",
		}}}
	}
	raw, probs := parseRules(data)
	if len(probs) > 0 {
		return nil, &RulesError{probs}
	}
	if raw.inherit {
		def, probs := parseRules(defaultRulesYAML)
		if len(probs) > 0 {
			return nil, &RulesError{probs}
		}
		raw = mergeRules(def, raw)
	}
	return compileRules(raw)
}

// rawRules is a parsed but not yet compiled rules file. A nil map is a
// section the file does not have.
type rawRules struct {
	inherit    bool
	settings   map[string]float64
	categories map[string]*rawLabel
	remedies   map[string]*rawLabel
	priority   map[string]*rawLabel
	facts      map[string][]rawFact
}

type rawLabel struct {
	terms         []rawTerm
	defaultRemedy string
	fixedRemedy   string
}

type rawTerm struct {
	text   string
	weight float64
	lang   string // pl, en, de or any
	line   int
}

type rawFact struct {
	pattern string
	line    int
}

// mergeRules overrides def with the entries of over.
func mergeRules(def, over *rawRules) *rawRules {
	out := &rawRules{inherit: true}
	out.settings = mergeMap(def.settings, over.settings)
	out.categories = mergeMap(def.categories, over.categories)
	out.remedies = mergeMap(def.remedies, over.remedies)
	out.priority = mergeMap(def.priority, over.priority)
	out.facts = mergeMap(def.facts, over.facts)
	return out
}

func mergeMap[V any](def, over map[string]V) map[string]V {
	out := make(map[string]V, len(def)+len(over))
	for k, v := range def {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// parser walks the YAML tree, so that every problem carries its line.
type parser struct{ probs []RuleProblem }

func (p *parser) add(line int, rule, msg, fix string) {
	p.probs = append(p.probs, RuleProblem{Line: line, Rule: rule, Message: msg, Fix: fix})
}

func parseRules(data []byte) (*rawRules, []RuleProblem) {
	raw := &rawRules{inherit: true}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return raw, nil // an empty file changes nothing
	}
	if err != nil {
		return nil, []RuleProblem{{
			Line:    yamlErrorLine(err),
			Message: "invalid YAML: " + err.Error(),
			Fix:     "indent with spaces, not tabs, and quote terms that contain \": \", \" #\" or start with a special character such as * & ! % @",
		}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, []RuleProblem{{
			Line:    extra.Line,
			Message: "the file holds more than one YAML document",
			Fix:     "remove the \"---\" separator and merge the documents into one",
		}}
	}
	p := &parser{}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return raw, nil
	}
	if !p.mapping(root, "the file") {
		return nil, p.probs
	}
	for key, val := range p.pairs(root, "") {
		switch key.Value {
		case "version":
			if val.Kind != yaml.ScalarNode || val.Value != "1" {
				p.add(val.Line, "version", "unsupported version "+strconv.Quote(val.Value), "write version: 1")
			}
		case "inherit_defaults":
			switch {
			case val.Kind == yaml.ScalarNode && val.Tag == "!!bool":
				raw.inherit = val.Value == "true"
			default:
				p.add(val.Line, "inherit_defaults", "not true or false", "write inherit_defaults: true to override the shipped rules entry by entry, false to replace them")
			}
		case "settings":
			raw.settings = p.settings(val)
		case "categories":
			raw.categories = p.labels(val, "categories", Categories(), true)
		case "remedies":
			raw.remedies = p.labels(val, "remedies", Remedies(), false)
		case "priority":
			raw.priority = p.labels(val, "priority", priorityLevels(), false)
		case "facts":
			raw.facts = p.facts(val)
		default:
			p.add(key.Line, key.Value, "unknown section", "use version, inherit_defaults, settings, categories, remedies, priority or facts")
		}
	}
	if len(p.probs) > 0 {
		return nil, p.probs
	}
	return raw, nil
}

// yamlErrorLine digs the line out of a yaml error ("yaml: line 12: ...").
func yamlErrorLine(err error) int {
	s := err.Error()
	i := strings.Index(s, "line ")
	if i < 0 {
		return 0
	}
	s = s[i+len("line "):]
	j := 0
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(s[:j])
	return n
}

// mapping checks that n is a mapping without aliases.
func (p *parser) mapping(n *yaml.Node, what string) bool {
	switch n.Kind {
	case yaml.MappingNode:
		return true
	case yaml.AliasNode:
		p.add(n.Line, what, "YAML aliases (*name) are not supported", "write the entries out in full")
	default:
		p.add(n.Line, what, "expected a mapping (key: value lines)", "indent the entries under "+what+" as key: value")
	}
	return false
}

// pairs yields the key/value pairs of a mapping, reporting duplicate and
// non-scalar keys (yaml.v3 does not when decoding into a Node).
func (p *parser) pairs(n *yaml.Node, where string) func(func(*yaml.Node, *yaml.Node) bool) {
	return func(yield func(*yaml.Node, *yaml.Node) bool) {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				p.add(k.Line, where, "a key must be plain text", "write the key as a word or a quoted string")
				continue
			}
			if v.Kind == yaml.AliasNode {
				p.add(v.Line, joinRule(where, k.Value), "YAML aliases (*name) are not supported", "write the value out in full; quote a term that starts with *")
				continue
			}
			if first, dup := seen[k.Value]; dup {
				p.add(k.Line, joinRule(where, k.Value), fmt.Sprintf("given twice (first on line %d)", first), "keep one of them")
				continue
			}
			seen[k.Value] = k.Line
			if !yield(k, v) {
				return
			}
		}
	}
}

func joinRule(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func (p *parser) settings(n *yaml.Node) map[string]float64 {
	out := map[string]float64{}
	if !p.mapping(n, "settings") {
		return out
	}
	specs := settingSpecs()
	for k, v := range p.pairs(n, "settings") {
		i := slices.IndexFunc(specs, func(s settingSpec) bool { return s.name == k.Value })
		rule := "settings." + k.Value
		if i < 0 {
			names := make([]string, len(specs))
			for j, s := range specs {
				names[j] = s.name
			}
			p.add(k.Line, rule, "unknown setting", "use one of "+strings.Join(names, ", "))
			continue
		}
		f, ok := number(v)
		if !ok || f < specs[i].min || f > specs[i].max {
			p.add(v.Line, rule, "not a number from "+fmtNum(specs[i].min)+" to "+fmtNum(specs[i].max), "write a number in that range, e.g. "+k.Value+": "+fmtNum(specs[i].max/2))
			continue
		}
		out[k.Value] = f
	}
	return out
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// number reads a YAML int or float scalar.
func number(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// labels parses a section of labels (categories, remedies, priority
// levels), each with term lists per language.
func (p *parser) labels(n *yaml.Node, section string, valid []string, withDefaultRemedy bool) map[string]*rawLabel {
	out := map[string]*rawLabel{}
	if !p.mapping(n, section) {
		return out
	}
	for k, v := range p.pairs(n, section) {
		rule := section + "." + k.Value
		if !slices.Contains(valid, k.Value) {
			fix := "use one of " + strings.Join(valid, ", ")
			if section == "priority" && k.Value == PriorityNormal {
				fix = "remove it: normal is what a case gets when no urgent or high term matches"
			}
			noun := map[string]string{"categories": "category", "remedies": "remedy", "priority": "priority level"}[section]
			p.add(k.Line, rule, "unknown "+noun, fix)
			continue
		}
		lab := &rawLabel{}
		out[k.Value] = lab
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // "other:" with nothing under it: no terms
		}
		if !p.mapping(v, rule) {
			continue
		}
		for lk, lv := range p.pairs(v, rule) {
			switch lk.Value {
			case "pl", "en", "de", "any":
				lab.terms = append(lab.terms, p.terms(lv, rule+"."+lk.Value, lk.Value)...)
			case "default_remedy", "fixed_remedy":
				if !withDefaultRemedy {
					p.add(lk.Line, rule+"."+lk.Value, "only categories have a "+strings.ReplaceAll(lk.Value, "_", " "), "remove the line")
					continue
				}
				if lv.Kind != yaml.ScalarNode || !slices.Contains(Remedies(), lv.Value) {
					p.add(lv.Line, rule+"."+lk.Value, "unknown remedy "+strconv.Quote(lv.Value), "use one of "+strings.Join(Remedies(), ", "))
					continue
				}
				if lk.Value == "default_remedy" {
					lab.defaultRemedy = lv.Value
				} else {
					lab.fixedRemedy = lv.Value
				}
			default:
				fix := "use pl, en, de or any for term lists"
				if withDefaultRemedy {
					fix += ", or default_remedy / fixed_remedy"
				}
				p.add(lk.Line, rule+"."+lk.Value, "unknown key", fix)
			}
		}
	}
	return out
}

// terms parses one language's terms: a mapping of term to weight, or a
// list of terms of weight 1.
func (p *parser) terms(n *yaml.Node, rule, lang string) []rawTerm {
	var out []rawTerm
	switch n.Kind {
	case yaml.SequenceNode:
		for _, t := range n.Content {
			if t.Kind != yaml.ScalarNode {
				p.add(t.Line, rule, "a list entry must be a term", "write one term per \"- \" line; use term: weight lines to give weights")
				continue
			}
			if p.term(t.Line, rule, t.Value) {
				out = append(out, rawTerm{t.Value, 1, lang, t.Line})
			}
		}
	case yaml.MappingNode:
		for k, v := range p.pairs(n, rule) {
			w, ok := number(v)
			if !ok || w == 0 || math.Abs(w) > maxWeight {
				p.add(v.Line, rule+" "+strconv.Quote(k.Value), "weight "+strconv.Quote(v.Value)+" is not a non-zero number from -100 to 100",
					"write e.g. "+strconv.Quote(k.Value)+": 3 (a negative weight takes evidence away; delete the line to drop the term)")
				continue
			}
			if p.term(k.Line, rule, k.Value) {
				out = append(out, rawTerm{k.Value, w, lang, k.Line})
			}
		}
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		fallthrough
	default:
		p.add(n.Line, rule, "expected terms", "write term: weight lines, or a list of terms")
	}
	return out
}

// term checks a term as it is parsed, so that one pass reports every
// problem of the file.
func (p *parser) term(line int, rule, text string) bool {
	if _, msg, fix := compileTerm(text); msg != "" {
		p.add(line, rule+" "+strconv.Quote(text), msg, fix)
		return false
	}
	return true
}

// facts parses the facts section: fact kind to a list of patterns.
func (p *parser) facts(n *yaml.Node) map[string][]rawFact {
	out := map[string][]rawFact{}
	if !p.mapping(n, "facts") {
		return out
	}
	for k, v := range p.pairs(n, "facts") {
		rule := "facts." + k.Value
		if !slices.Contains(FactKinds(), k.Value) {
			p.add(k.Line, rule, "unknown fact kind", "use one of "+strings.Join(FactKinds(), ", "))
			continue
		}
		list := []rawFact{} // present but empty: the kind is switched off
		switch {
		case v.Kind == yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					p.add(e.Line, rule, "a pattern must be a string", "write one quoted regular expression per \"- \" line")
					continue
				}
				if _, msg, fix := compileFact(k.Value, e.Value); msg != "" {
					p.add(e.Line, rule+" "+strconv.Quote(headText(e.Value, 60)), msg, fix)
					continue
				}
				list = append(list, rawFact{e.Value, e.Line})
			}
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		default:
			p.add(v.Line, rule, "expected a list of patterns", "write one quoted regular expression per \"- \" line, or [] to switch the kind off")
			continue
		}
		out[k.Value] = list
	}
	return out
}

// compileRules checks and indexes a parsed rules file.
func compileRules(raw *rawRules) (*Rules, error) {
	r := &Rules{
		set:   settings{subjectWeight: 2, evidenceScale: 3, rulesDecide: 0.5, modelDecides: 0.7, priorityThreshold: 1},
		index: map[string][]int32{},
	}
	var probs []RuleProblem
	add := func(line int, rule, msg, fix string) {
		probs = append(probs, RuleProblem{Line: line, Rule: rule, Message: msg, Fix: fix})
	}
	for _, s := range settingSpecs() {
		if v, ok := raw.settings[s.name]; ok {
			s.set(&r.set, v)
		}
	}

	sections := []struct {
		name   string
		space  uint8
		labels map[string]*rawLabel
	}{
		{"categories", spaceCategory, raw.categories},
		{"remedies", spaceRemedy, raw.remedies},
		{"priority", spacePriority, raw.priority},
	}
	for _, sec := range sections {
		seen := map[string]int{}
		for li, name := range spaceLabels(sec.space) {
			lab := sec.labels[name]
			if lab == nil {
				continue
			}
			for _, t := range lab.terms {
				rule := sec.name + "." + name + "." + t.lang + " " + strconv.Quote(t.text)
				words, msg, fix := compileTerm(t.text)
				if msg != "" {
					add(t.line, rule, msg, fix)
					continue
				}
				langs := langBitsAll
				switch t.lang {
				case "pl":
					langs = langBitPL
				case "en":
					langs = langBitEN
				case "de":
					langs = langBitDE
				}
				key := name + "\x00" + t.lang + "\x00" + termKey(words)
				if first, dup := seen[key]; dup {
					add(t.line, rule, fmt.Sprintf("the same term as on line %d once letters are normalised (case and diacritics are ignored)", first), "keep one of them")
					continue
				}
				seen[key] = t.line
				id := int32(len(r.patterns))
				r.patterns = append(r.patterns, pattern{words: words, space: sec.space, label: uint8(li), langs: langs, weight: t.weight})
				h := wordHead(words[0].s)
				r.index[h] = append(r.index[h], id)
			}
		}
	}

	cats, rems := Categories(), Remedies()
	r.defaultRemedy = make([]int, len(cats))
	r.fixedRemedy = make([]int, len(cats))
	for i, c := range cats {
		r.defaultRemedy[i], r.fixedRemedy[i] = -1, -1
		if lab := raw.categories[c]; lab != nil && lab.defaultRemedy != "" {
			r.defaultRemedy[i] = slices.Index(rems, lab.defaultRemedy)
		}
		if lab := raw.categories[c]; lab != nil && lab.fixedRemedy != "" {
			r.fixedRemedy[i] = slices.Index(rems, lab.fixedRemedy)
		}
	}

	for _, kind := range FactKinds() {
		for _, f := range raw.facts[kind] {
			fp, msg, fix := compileFact(kind, f.pattern)
			if msg != "" {
				add(f.line, "facts."+kind+" "+strconv.Quote(headText(f.pattern, 60)), msg, fix)
				continue
			}
			r.facts = append(r.facts, fp)
		}
	}
	if len(r.facts) > maxFactPatterns {
		add(0, "facts", fmt.Sprintf("%d patterns, more than the %d allowed", len(r.facts), maxFactPatterns), "merge patterns with | alternatives")
	}
	if len(probs) > 0 {
		return nil, &RulesError{probs}
	}
	r.hints = newHintIndex(r.facts)
	return r, nil
}

// compileTerm turns a term as written ("uszkodz* w transporcie") into
// normalised words. On a problem it returns the message and the fix.
func compileTerm(text string) (words []wordPat, msg, fix string) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil, "empty term", "write a word, a stem ending in *, or a phrase"
	}
	for _, f := range fields {
		prefix := strings.HasSuffix(f, "*")
		body := strings.TrimSuffix(f, "*")
		if strings.Contains(body, "*") {
			return nil, "* inside a word", "put * only at the end of a word, to match every word starting with it"
		}
		toks := tokenize(body)
		runs := strings.FieldsFunc(body, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
		})
		switch {
		case len(runs) == 0:
			return nil, "no letters or digits in " + strconv.Quote(f), "write words; punctuation separates words and is ignored"
		case len(runs) != len(toks):
			return nil, "a word longer than " + strconv.Itoa(maxTokenBytes) + " bytes never matches", "use a shorter stem ending in *"
		}
		for j, t := range toks {
			wp := wordPat{s: t.s, prefix: prefix && j == len(toks)-1}
			if wp.prefix && len(wp.s) < minStemBytes {
				return nil, "stem " + strconv.Quote(t.s+"*") + " is shorter than " + strconv.Itoa(minStemBytes) + " letters and would match too many words", "lengthen the stem, or list the whole words without *"
			}
			words = append(words, wp)
		}
	}
	if len(words) > maxPhraseWords {
		return nil, "phrase of more than " + strconv.Itoa(maxPhraseWords) + " words", "use the shortest part of the phrase that still says it"
	}
	return words, "", ""
}

// termKey is a term's identity after normalisation.
func termKey(words []wordPat) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.s)
		if w.prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// hit is the first match of one pattern in one field.
type hit struct {
	id         int32
	subject    bool
	start, end int32 // byte range of the matched words in the field
}

// matches collects the hits of a message. Each pattern counts at most once
// per field: a complaint that says "reklamacja" five times is not five
// times more a complaint, and long mails must not outvote short ones.
type matches struct {
	seen [2][]uint64 // per field (text, subject): one bit per pattern
	hits []hit
}

func (r *Rules) newMatches() *matches {
	n := (len(r.patterns) + 63) / 64
	words := make([]uint64, 2*n)
	return &matches{seen: [2][]uint64{words[:n], words[n:]}, hits: make([]hit, 0, 32)}
}

// match finds the patterns in toks whose language is in langs.
func (r *Rules) match(m *matches, toks []token, subject bool, langs uint8) {
	field := 0
	if subject {
		field = 1
	}
	seen := m.seen[field]
	try := func(id int32, i int) {
		if seen[id>>6]&(1<<(id&63)) != 0 {
			return
		}
		p := &r.patterns[id]
		if p.langs&langs == 0 || i+len(p.words) > len(toks) {
			return
		}
		for j := 1; j < len(p.words); j++ {
			w, t := p.words[j], toks[i+j].s
			if w.prefix && !strings.HasPrefix(t, w.s) || !w.prefix && t != w.s {
				return
			}
		}
		if p.space == spacePriority && p.label == urgentLabel && negated(toks, i) {
			// "nie było dymu", "no smoke": a denied hazard. Not marked
			// seen, so the same word stated elsewhere still counts.
			return
		}
		seen[id>>6] |= 1 << (id & 63)
		m.hits = append(m.hits, hit{id: id, subject: subject, start: toks[i].start, end: toks[i+len(p.words)-1].end})
	}
	for i := range toks {
		s := toks[i].s
		for _, id := range r.index[wordHead(s)] {
			if w := r.patterns[id].words[0]; w.prefix && strings.HasPrefix(s, w.s) || !w.prefix && s == w.s {
				try(id, i)
			}
		}
	}
}

// urgentLabel is the index of PriorityUrgent in priorityLevels.
const urgentLabel = 0

// negators deny what follows them closely: "nie było dymu", "bez iskier",
// "no smoke", "there wasn't any smell" ("wasn", "t", "any"), "kein Rauch".
// Only safety terms are read this way, and only within negationWindow
// words, so "czajnik nie działa i dymi" still counts as smoke.
// Read-only.
var negators = map[string]bool{
	"nie": true, "bez": true, "ani": true, "zadnego": true, "zadnej": true, "zadnych": true,
	"no": true, "not": true, "without": true, "never": true, "nor": true, "t": true,
	"kein": true, "keine": true, "keinen": true, "keiner": true, "keinerlei": true, "ohne": true, "nicht": true, "weder": true,
}

// negationWindow is how many words before a term a negator may stand.
const negationWindow = 2

// negated reports whether toks[i] follows a negator closely.
func negated(toks []token, i int) bool {
	for j := i - 1; j >= 0 && j >= i-negationWindow; j-- {
		if negators[toks[j].s] {
			return true
		}
	}
	return false
}

// wordHead is the key of a word in Rules.index. A stem has at least
// minStemBytes bytes, so every word it matches has the same head.
func wordHead(s string) string {
	if len(s) > minStemBytes {
		return s[:minStemBytes]
	}
	return s
}

// contribution is what one hit adds to its label's score.
func (r *Rules) contribution(h hit) float64 {
	w := r.patterns[h.id].weight
	if h.subject {
		return w * r.set.subjectWeight
	}
	return w
}

// scores sums the hits of a space per label; negative weights take away,
// but a score is never below zero.
func (r *Rules) scores(m *matches, space uint8, n int) []float64 {
	s := make([]float64, n)
	for _, h := range m.hits {
		if p := &r.patterns[h.id]; p.space == space {
			s[p.label] += r.contribution(h)
		}
	}
	for i := range s {
		s[i] = math.Max(0, s[i])
	}
	return s
}
