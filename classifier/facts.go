package classifier

import (
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of Fact.
const (
	FactOrderNumber   = "order_number"
	FactInvoiceNumber = "invoice_number"
	FactSerialNumber  = "serial_number"
	FactProduct       = "product"
	FactPurchaseDate  = "purchase_date"
	FactAmount        = "amount"
)

// FactKinds lists the kinds of Fact, in the order Classify returns them.
func FactKinds() []string {
	return []string{FactOrderNumber, FactInvoiceNumber, FactSerialNumber, FactProduct, FactPurchaseDate, FactAmount}
}

// Bounds of fact extraction: a mail quoting a price list must not yield
// hundreds of "amounts".
const (
	maxFactsPerKind  = 5
	maxFactValue     = 80 // runes
	maxReasonExcerpt = 60 // bytes
)

// factPattern is one compiled pattern of the facts section.
type factPattern struct {
	kind  string
	re    *regexp.Regexp
	group int // the submatch holding the value; 0 for the whole match
	// anyLine: the pattern is tried on every line; the others only on
	// lines with a digit (see extractFacts).
	anyLine bool
	// hints are sets of lower-case literals derived from the pattern:
	// every match contains a literal of each set, so a line lacking one is
	// not tried.
	hints [][]string
	// prefixes, when known, are lower-case literals every match starts
	// with. The pattern is then run anchored at each place a prefix occurs
	// (anchored, or anchoredAfter with the rune before the place so that
	// \b sees it), instead of being tried at every position of the line:
	// that is what makes fact extraction cheap.
	prefixes                []string
	anchored, anchoredAfter *regexp.Regexp
	// wordStart: the pattern starts with \b, so no match starts right
	// after a word character (Go's \b is ASCII: [0-9A-Za-z_]) when the
	// prefix begins with one. An amount ("\b\d...") is then tried at the
	// start of each number, not at every digit.
	wordStart bool
}

// compileFact compiles a pattern of the facts section. The value is the
// submatch named "value", else the first submatch, else the whole match.
func compileFact(kind, src string) (factPattern, string, string) {
	if len(src) > maxPatternBytes {
		return factPattern{}, "pattern longer than " + strconv.Itoa(maxPatternBytes) + " bytes", "split it into several patterns"
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return factPattern{}, "not a valid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: "),
			"use Go (RE2) syntax: no look-ahead or back-references; in single quotes write \\d and \\b as they are, '' for a quote"
	}
	if re.MatchString("") {
		return factPattern{}, "the pattern matches empty text", "require at least one character, e.g. + instead of *"
	}
	group := 0
	if i := re.SubexpIndex("value"); i > 0 {
		group = i
	} else if re.NumSubexp() > 0 {
		group = 1
	}
	fp := factPattern{kind: kind, re: re, group: group, anyLine: kind == FactProduct}
	if tree, err := syntax.Parse(src, syntax.Perl); err == nil {
		tree = tree.Simplify()
		fp.hints = requiredSets(tree)
		pre, ok := prefixLiterals(tree)
		pre = oneLine(pre, true)
		fp.wordStart = startsWithWordBoundary(tree)
		if ok && (usefulHints(pre) || fp.wordStart && !slices.Contains(pre, "")) {
			a, err1 := regexp.Compile(`^(?:` + src + `)`)
			b, err2 := regexp.Compile(`^(?s:.)(?:` + src + `)`)
			if err1 == nil && err2 == nil {
				fp.prefixes, fp.anchored, fp.anchoredAfter = pre, a, b
			}
		}
	}
	return fp, "", ""
}

// find returns the matches of fp in line (lower is line lower-cased), at
// most n, as FindAllStringSubmatchIndex would.
func (fp *factPattern) find(line, lower string, n int) [][]int {
	if fp.prefixes == nil {
		return fp.re.FindAllStringSubmatchIndex(line, n)
	}
	var starts []int
	for _, p := range fp.prefixes {
		for i := 0; i < len(lower); {
			j := strings.Index(lower[i:], p)
			if j < 0 {
				break
			}
			at := i + j
			i = at + 1
			if fp.wordStart && at > 0 && isASCIIWord(lower[at-1]) && isASCIIWord(lower[at]) {
				continue
			}
			starts = append(starts, at)
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	var out [][]int
	next := 0 // matches do not overlap
	for _, at := range starts {
		if at < next || len(out) >= n {
			continue
		}
		var m []int
		if at == 0 {
			m = fp.anchored.FindStringSubmatchIndex(line)
		} else {
			_, size := utf8.DecodeLastRuneInString(line[:at])
			from := at - size
			if m = fp.anchoredAfter.FindStringSubmatchIndex(line[from:]); m != nil {
				for k := range m {
					if m[k] >= 0 {
						m[k] += from
					}
				}
				m[0] = at
			}
		}
		if m == nil || m[1] <= m[0] {
			continue
		}
		out = append(out, m)
		next = m[1]
	}
	return out
}

// Bounds of the literal analysis.
const (
	maxHintClass = 6  // [oó] is a set of literals; [0-9] is no useful filter
	maxHintSet   = 64 // literals in one set
	maxHintSets  = 2  // sets checked per line
)

// litSet is what a part of a pattern says about the text it matches: one
// of strs occurs in it, or, when exact, it is one of strs.
type litSet struct {
	strs  []string
	exact bool
}

// requiredSets returns up to maxHintSets literal sets of re, the most
// selective first: every match of re contains a literal from each.
// Checking them with strings.Contains is far cheaper than running a
// regular expression with case folding and long alternations, which would
// otherwise cost most of Classify's time. The analysis must never miss: a
// literal is only required when every path through re passes it.
func requiredSets(re *syntax.Regexp) [][]string {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	var cands [][]string
	if re.Op == syntax.OpConcat {
		for _, c := range concatSets(re.Sub) {
			cands = append(cands, c.strs)
		}
	} else if l, ok := requiredLiterals(re); ok {
		cands = append(cands, l.strs)
	}
	for i, c := range cands {
		cands[i] = oneLine(c, false)
	}
	cands = slices.DeleteFunc(cands, func(s []string) bool { return !usefulHints(s) })
	slices.SortStableFunc(cands, func(a, b []string) int {
		switch {
		case hintBetter(a, b):
			return -1
		case hintBetter(b, a):
			return 1
		}
		return 0
	})
	if len(cands) > maxHintSets {
		cands = cands[:maxHintSets]
	}
	return cands
}

// concatSets returns the literal sets of the parts of a concatenation.
// Consecutive exact parts are joined into their cross product ("z" then
// [lł] gives "zl", "zł"), which is far more selective than either.
func concatSets(subs []*syntax.Regexp) []litSet {
	var out []litSet
	var run *litSet
	flush := func() {
		if run != nil {
			out = append(out, *run)
		}
		run = nil
	}
	for _, sub := range subs {
		l, ok := requiredLiterals(sub)
		switch {
		case !ok:
			flush()
		case !l.exact:
			flush()
			out = append(out, l)
		case run == nil:
			run = &litSet{strs: l.strs, exact: true}
		case len(run.strs)*len(l.strs) > maxHintSet:
			flush()
			run = &litSet{strs: l.strs, exact: true}
		default:
			prod := make([]string, 0, len(run.strs)*len(l.strs))
			for _, a := range run.strs {
				for _, b := range l.strs {
					prod = append(prod, a+b)
				}
			}
			run.strs = prod
		}
	}
	flush()
	return out
}

// requiredLiterals analyses one part of a pattern; ok is false when it
// cannot tell.
func requiredLiterals(re *syntax.Regexp) (litSet, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return litSet{[]string{strings.ToLower(string(re.Rune))}, true}, true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litSet{[]string{""}, true}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 4*maxHintClass {
				return litSet{}, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, strings.ToLower(string(r)))
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
		if len(out) == 0 || len(out) > maxHintClass {
			return litSet{}, false
		}
		return litSet{out, true}, true
	case syntax.OpCapture:
		return requiredLiterals(re.Sub[0])
	case syntax.OpPlus:
		l, ok := requiredLiterals(re.Sub[0])
		return litSet{l.strs, false}, ok
	case syntax.OpRepeat:
		if re.Min >= 1 {
			l, ok := requiredLiterals(re.Sub[0])
			return litSet{l.strs, false}, ok
		}
	case syntax.OpQuest:
		if l, ok := requiredLiterals(re.Sub[0]); ok && l.exact && len(l.strs) < maxHintSet {
			return litSet{append([]string{""}, l.strs...), true}, true
		}
	case syntax.OpConcat:
		sets := concatSets(re.Sub)
		if len(sets) == 1 && sets[0].exact {
			return sets[0], true
		}
		var best []string
		for _, l := range sets {
			if best == nil || hintBetter(l.strs, best) {
				best = l.strs
			}
		}
		return litSet{best, false}, best != nil
	case syntax.OpAlternate:
		out := litSet{exact: true}
		for _, sub := range re.Sub {
			l, ok := requiredLiterals(sub)
			if !ok || len(out.strs)+len(l.strs) > maxHintSet {
				return litSet{}, false
			}
			out.strs = append(out.strs, l.strs...)
			out.exact = out.exact && l.exact
		}
		slices.Sort(out.strs)
		out.strs = slices.Compact(out.strs)
		return out, true
	}
	return litSet{}, false
}

// prefixLiterals returns lower-case literals one of which starts every
// match of re; ok is false when it cannot tell.
func prefixLiterals(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return prefixLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return prefixLiterals(re.Sub[0])
		}
	case syntax.OpQuest:
		if p, ok := prefixLiterals(re.Sub[0]); ok {
			return append(p, ""), true
		}
	case syntax.OpConcat:
		return prefixConcat(re.Sub)
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			p, ok := prefixLiterals(sub)
			if !ok || len(out)+len(p) > maxHintSet {
				return nil, false
			}
			out = append(out, p...)
		}
		slices.Sort(out)
		return slices.Compact(out), true
	case syntax.OpCharClass:
		// A larger class than requiredLiterals takes: [0-9] starts an
		// amount, and word starts (see wordStart) keep that selective.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] >= maxPrefixClass {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, strings.ToLower(string(r)))
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
		return out, len(out) > 0 && len(out) <= maxPrefixClass
	default:
		if l, ok := requiredLiterals(re); ok && l.exact {
			return l.strs, true
		}
	}
	return nil, false
}

// maxPrefixClass is the largest character class taken as prefixes.
const maxPrefixClass = 16

// startsWithWordBoundary reports whether every match of re starts at \b.
func startsWithWordBoundary(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpWordBoundary:
		return true
	case syntax.OpCapture:
		return startsWithWordBoundary(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && startsWithWordBoundary(re.Sub[0])
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !startsWithWordBoundary(sub) {
				return false
			}
		}
		return true
	}
	return false
}

// isASCIIWord is Go's \w: what \b tells from other characters.
func isASCIIWord(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// prefixConcat is prefixLiterals of a concatenation.
func prefixConcat(subs []*syntax.Regexp) ([]string, bool) {
	if len(subs) == 0 {
		return []string{""}, true
	}
	if l, ok := requiredLiterals(subs[0]); ok && l.exact {
		rest, ok := prefixConcat(subs[1:])
		if !ok || len(l.strs)*len(rest) > maxHintSet {
			return l.strs, true // a prefix of the prefix still starts every match
		}
		out := make([]string, 0, len(l.strs)*len(rest))
		for _, a := range l.strs {
			for _, b := range rest {
				out = append(out, a+b)
			}
		}
		return out, true
	}
	p, ok := prefixLiterals(subs[0])
	if !ok {
		return nil, false
	}
	if !slices.Contains(p, "") {
		return p, true
	}
	// The first part may match nothing: then the rest starts the match.
	rest, ok := prefixConcat(subs[1:])
	if !ok {
		return nil, false
	}
	out := append(slices.DeleteFunc(p, func(s string) bool { return s == "" }), rest...)
	slices.Sort(out)
	return slices.Compact(out), true
}

// oneLine cuts each literal at its first line break (facts are matched
// line by line, and a literal's beginning is required wherever the
// literal is), then drops the literals that hold another one (as a
// prefix when prefix is set): finding "nr" already finds "nr.".
func oneLine(set []string, prefix bool) []string {
	cut := make([]string, len(set))
	for i, x := range set {
		cut[i], _, _ = strings.Cut(x, "\n")
	}
	slices.SortFunc(cut, func(a, b string) int {
		if d := len(a) - len(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var out []string
	for _, x := range cut {
		redundant := slices.ContainsFunc(out, func(y string) bool {
			if prefix {
				return strings.HasPrefix(x, y)
			}
			return strings.Contains(x, y)
		})
		if !redundant {
			out = append(out, x)
		}
	}
	return out
}

// usefulHints reports whether a literal set filters: it has literals, and
// none is empty or a single ASCII letter, digit or space, which most lines
// hold ("$" and "€" are fine).
func usefulHints(s []string) bool {
	if len(s) == 0 {
		return false
	}
	for _, x := range s {
		if x == "" || len(x) == 1 && (x[0] <= ' ' || '0' <= x[0] && x[0] <= '9' || 'a' <= x[0] && x[0] <= 'z') {
			return false
		}
	}
	return true
}

func minLen(s []string) int {
	n := math.MaxInt
	for _, x := range s {
		n = min(n, len(x))
	}
	return n
}

// hintBetter reports whether literal set a is likely to filter better than
// b: its shortest literal is longer, or it has fewer literals.
func hintBetter(a, b []string) bool {
	if ma, mb := minLen(a), minLen(b); ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

// extractFacts finds the facts in subject and text (already bounded and
// cleaned of quotes). Go's regular expressions cost about a microsecond
// per ten bytes tried, so a pattern is tried only where it can match:
// line by line (a fact never spans lines); all but product patterns only
// on lines holding a digit, which every order, invoice and serial number,
// date and amount has; only on lines holding the literals every match
// needs (found for all patterns in one pass, see hintIndex); and, when
// every match starts with known literals, only where they occur (see
// factPattern.find). The result is what the plain patterns would find,
// as TestFactPrefilterIsExact checks.
func (r *Rules) extractFacts(subject, text string) []Fact {
	if len(r.facts) == 0 {
		return nil
	}
	type found struct {
		kind, value, reason string
		pos                 int
	}
	var all []found
	pos := 0
	scan := func(src string) {
		// One pass finds every hint literal (see hintIndex); a pattern
		// runs only on the lines holding a literal of each of its sets.
		lower := lowerSameLength(src)
		seen := r.hints.scan(lower)
		cursor := make([]int, len(seen))
		has := func(set, line int) bool {
			l := seen[set]
			for cursor[set] < len(l) && int(l[cursor[set]]) < line {
				cursor[set]++
			}
			return cursor[set] < len(l) && int(l[cursor[set]]) == line
		}
		off, n := 0, 0
		for line := range strings.Lines(src) {
			digit := strings.ContainsAny(line, "0123456789")
			lowerLine := lower[off : off+len(line)]
			for i := range r.facts {
				fp := &r.facts[i]
				if !digit && !fp.anyLine || slices.ContainsFunc(r.hints.setsOf[i], func(set int) bool { return !has(set, n) }) {
					continue
				}
				for _, m := range fp.find(line, lowerLine, maxFactsPerKind) {
					a, b := m[2*fp.group], m[2*fp.group+1]
					if a < 0 {
						continue
					}
					v, ok := normaliseFact(fp.kind, line[a:b])
					if !ok {
						continue
					}
					all = append(all, found{fp.kind, v, excerpt(line[m[0]:m[1]]), pos + m[0]})
				}
			}
			off += len(line)
			pos += len(line)
			n++
		}
	}
	scan(subject)
	pos++ // the subject and the text are separate
	scan(text)

	kinds := FactKinds()
	slices.SortStableFunc(all, func(x, y found) int {
		if d := slices.Index(kinds, x.kind) - slices.Index(kinds, y.kind); d != 0 {
			return d
		}
		return x.pos - y.pos
	})
	var out []Fact
	perKind := map[string]int{}
	for _, f := range all {
		if perKind[f.kind] >= maxFactsPerKind || slices.ContainsFunc(out, func(o Fact) bool { return o.Kind == f.kind && o.Value == f.value }) {
			continue
		}
		perKind[f.kind]++
		out = append(out, Fact{Kind: f.kind, Value: f.value, Reason: "pattern " + f.kind + ": " + strconv.Quote(f.reason)})
	}
	return out
}

// hintIndex finds the hint literals of all fact patterns in one pass over
// the text: an Aho-Corasick automaton over bytes, as a full transition
// table over the bytes the literals use. Checking each literal with
// strings.Contains instead cost more than everything else Classify does.
type hintIndex struct {
	class [256]uint8 // byte -> column; 0 for bytes in no literal
	ncols int
	// delta: state*ncols + column -> next state, as -1-state when a
	// literal ends there, so that the common case costs one look-up.
	delta []int32
	// outAt[state]..outAt[state+1] indexes outSets: the hint sets with a
	// literal ending in that state.
	outAt   []int32
	outSets []int32
	nsets   int
	setsOf  [][]int // fact pattern -> its hint sets
}

// maxHintStates bounds the automaton (about 64 KB per 100 states at 64
// columns); beyond it the remaining patterns get no hints and simply run
// on every line with a digit.
const maxHintStates = 4000

// newHintIndex builds the automaton for the hint sets of facts.
func newHintIndex(facts []factPattern) *hintIndex {
	h := &hintIndex{setsOf: make([][]int, len(facts))}
	type node struct {
		next map[byte]int32
		sets []int32
	}
	trie := []node{{next: map[byte]int32{}}}
	for i := range facts {
		var mine []int
		for _, set := range facts[i].hints {
			size := 0
			for _, lit := range set {
				size += len(lit)
			}
			if len(trie)+size > maxHintStates {
				facts[i].hints, mine = nil, nil // unfiltered, but correct
				break
			}
			id := int32(h.nsets)
			for _, lit := range set {
				st := int32(0)
				for j := 0; j < len(lit); j++ {
					nx, ok := trie[st].next[lit[j]]
					if !ok {
						nx = int32(len(trie))
						trie = append(trie, node{next: map[byte]int32{}})
						trie[st].next[lit[j]] = nx
					}
					st = nx
				}
				if !slices.Contains(trie[st].sets, id) {
					trie[st].sets = append(trie[st].sets, id)
				}
			}
			mine = append(mine, int(id))
			h.nsets++
		}
		h.setsOf[i] = mine
	}
	cols := 1
	colByte := []byte{0}
	for _, n := range trie {
		for b := range n.next {
			if h.class[b] == 0 && cols == math.MaxUint8 {
				// Literals using every byte value: no filtering at all
				// is slower but correct.
				return &hintIndex{ncols: 1, delta: []int32{0}, outAt: []int32{0, 0}, setsOf: make([][]int, len(facts))}
			}
			if h.class[b] == 0 {
				h.class[b] = uint8(cols)
				colByte = append(colByte, b)
				cols++
			}
		}
	}
	h.ncols = cols
	h.delta = make([]int32, len(trie)*cols)
	out := make([][]int32, len(trie))
	fail := make([]int32, len(trie))
	// Breadth first, so that a state's failure state is complete before
	// the state itself.
	queue := []int32{0}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		out[st] = append(slices.Clone(trie[st].sets), out[fail[st]]...)
		for c := 1; c < cols; c++ {
			if nx, ok := trie[st].next[colByte[c]]; ok {
				if st != 0 {
					fail[nx] = h.delta[int(fail[st])*cols+c]
				}
				h.delta[int(st)*cols+c] = nx
				queue = append(queue, nx)
			} else if st != 0 {
				h.delta[int(st)*cols+c] = h.delta[int(fail[st])*cols+c]
			}
		}
	}
	h.outAt = make([]int32, len(trie)+1)
	for st, o := range out {
		h.outSets = append(h.outSets, o...)
		h.outAt[st+1] = int32(len(h.outSets))
	}
	for i, nx := range h.delta {
		if len(out[nx]) > 0 {
			h.delta[i] = -1 - nx
		}
	}
	return h
}

// scan returns for each hint set the (ascending) numbers of the lines of
// lower that hold one of its literals.
func (h *hintIndex) scan(lower string) [][]int32 {
	lines := make([][]int32, h.nsets)
	delta, ncols := h.delta, h.ncols
	st, line := int32(0), int32(0)
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		st = delta[int(st)*ncols+int(h.class[c])]
		if st < 0 {
			st = -1 - st
			for _, set := range h.outSets[h.outAt[st]:h.outAt[st+1]] {
				if l := lines[set]; len(l) == 0 || l[len(l)-1] != line {
					lines[set] = append(l, line)
				}
			}
		}
		if c == '\n' {
			line++
		}
	}
	return lines
}

// excerpt shortens a match for a reason, on one line, without the
// punctuation a pattern may take after the value.
func excerpt(s string) string {
	s = strings.TrimRight(strings.Join(strings.Fields(s), " "), " .,;:)")
	if len(s) > maxReasonExcerpt {
		s = headText(s, maxReasonExcerpt) + "…"
	}
	return s
}

// normaliseFact turns a matched value into the stored form, or reports that
// the match is not a fact after all.
func normaliseFact(kind, v string) (string, bool) {
	v = strings.TrimSpace(v)
	switch kind {
	case FactAmount:
		return normaliseAmount(v)
	case FactPurchaseDate:
		return normaliseDate(v)
	case FactProduct:
		v = strings.Join(strings.Fields(v), " ")
		v = strings.TrimRight(v, " .,;:-")
		if utf8.RuneCountInString(v) > maxFactValue {
			v = string([]rune(v)[:maxFactValue])
		}
		return v, utf8.RuneCountInString(v) >= 2
	default:
		// Identifiers: "zamówienie z 12 maja" is no order number, and a
		// sentence's full stop is no part of one.
		v = strings.TrimRight(v, ".,;:-/_")
		if len(v) < 3 || len(v) > maxFactValue || !strings.ContainsAny(v, "0123456789") {
			return "", false
		}
		return v, true
	}
}

// normaliseAmount turns "1 299,00 zł", "€12.50" or "1,299.99 USD" into
// "1299.00 PLN", "12.50 EUR", "1299.99 USD".
func normaliseAmount(v string) (string, bool) {
	lower := strings.ToLower(v)
	var cur string
	switch {
	case strings.Contains(lower, "zł"), strings.Contains(lower, "zl"), strings.Contains(lower, "pln"):
		cur = "PLN"
	case strings.Contains(lower, "€"), strings.Contains(lower, "eur"):
		cur = "EUR"
	case strings.Contains(lower, "$"), strings.Contains(lower, "usd"), strings.Contains(lower, "dolar"), strings.Contains(lower, "dollar"):
		cur = "USD"
	default:
		return "", false
	}
	i := strings.IndexFunc(v, func(r rune) bool { return '0' <= r && r <= '9' })
	if i < 0 {
		return "", false
	}
	j := i
	for j < len(v) {
		r, size := utf8.DecodeRuneInString(v[j:])
		if !strings.ContainsRune("0123456789 .,\u00a0", r) {
			break
		}
		j += size
	}
	num := strings.TrimRight(v[i:j], " .,\u00a0")
	num = strings.ReplaceAll(strings.ReplaceAll(num, " ", ""), "\u00a0", "")
	// The decimal separator is the last . or , followed by one or two
	// digits; any other . or , groups thousands.
	intPart, frac := num, ""
	if k := strings.LastIndexAny(num, ".,"); k >= 0 && len(num)-k-1 >= 1 && len(num)-k-1 <= 2 {
		intPart, frac = num[:k], num[k+1:]
	}
	intPart = strings.ReplaceAll(strings.ReplaceAll(intPart, ".", ""), ",", "")
	if intPart == "" || len(intPart) > 12 {
		return "", false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	return intPart + "." + frac + " " + cur, true
}

// normaliseDate turns "12.11.2026", "12/11/2026", "2026-11-12",
// "12 listopada 2026", "12. November 2026" or "November 12, 2026" into
// "2026-11-12". Numeric dates are read day first, as Poles and Germans
// write them.
func normaliseDate(v string) (string, bool) {
	var nums []int
	month := 0
	for _, t := range tokenize(v) {
		if n, err := strconv.Atoi(t.s); err == nil {
			nums = append(nums, n)
		} else if m := monthNumber(t.s); m > 0 {
			month = m
		}
	}
	var y, m, d int
	switch {
	case month > 0 && len(nums) == 2:
		y, m, d = nums[1], month, nums[0]
		if nums[0] > 31 {
			y, d = nums[0], nums[1]
		}
	case month == 0 && len(nums) == 3 && nums[0] > 31:
		y, m, d = nums[0], nums[1], nums[2]
	case month == 0 && len(nums) == 3:
		y, m, d = nums[2], nums[1], nums[0]
	default:
		return "", false
	}
	if y < 1990 || y > 2100 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false // 31.02.2026
	}
	return t.Format(time.DateOnly), true
}

// monthNumber reads a normalised month name in Polish (nominative,
// genitive, Gmail's abbreviation), English or German.
func monthNumber(s string) int {
	switch s {
	case "stycznia", "styczen", "sty", "january", "jan", "januar", "janner":
		return 1
	case "lutego", "luty", "lut", "february", "feb", "februar":
		return 2
	case "marca", "marzec", "march", "mar", "marz", "maerz":
		return 3
	case "kwietnia", "kwiecien", "kwi", "april", "apr":
		return 4
	case "maja", "maj", "may", "mai":
		return 5
	case "czerwca", "czerwiec", "cze", "june", "jun", "juni":
		return 6
	case "lipca", "lipiec", "lip", "july", "jul", "juli":
		return 7
	case "sierpnia", "sierpien", "sie", "august", "aug":
		return 8
	case "wrzesnia", "wrzesien", "wrz", "september", "sep", "sept":
		return 9
	case "pazdziernika", "pazdziernik", "paz", "october", "oct", "oktober", "okt":
		return 10
	case "listopada", "listopad", "lis", "november", "nov":
		return 11
	case "grudnia", "grudzien", "gru", "december", "dec", "dezember", "dez":
		return 12
	}
	return 0
}
