package classifier

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Label spaces of the model.
const (
	SpaceCategory = "category"
	SpaceRemedy   = "remedy"
)

// Tuning of the model. Judgement, not fitted: a desk's corrections are a
// few hundred examples, not a corpus.
const (
	// MinTrainingExamples is the fewest examples in a space before Predict
	// answers: below that it has seen too few cases to beat the rules.
	MinTrainingExamples = 20
	// modelStemBytes: a word is cut to its first 7 bytes, a crude stem
	// that makes "reklamacja", "reklamacji" and "reklamację" one feature;
	// Polish inflects too much for whole words to recur in a small set.
	modelStemBytes = 7
	// maxDocFeatures bounds the features of one message.
	maxDocFeatures = 4000
	// maxModelFeatures bounds the vocabulary of a space; once full, new
	// features are ignored and known ones still counted, so memory stays
	// bounded however long the desk trains.
	maxModelFeatures = 1 << 19
	// evidenceCap tempers naive Bayes: its independence assumption counts
	// 300 correlated words of one mail as 300 pieces of evidence and says
	// 0.9999 about everything. The log-likelihood is scaled down to what
	// evidenceCap independent features would give, so that 0.7 means
	// something.
	evidenceCap = 25
	// maxAttachmentFeatures: the attachments looked at; a mail with a
	// thousand inline images says no more than one with thirty.
	maxAttachmentFeatures = 32
	// Bounds a model file must respect.
	maxModelLabels = 64
	maxNameBytes   = 64
)

// Model is a multinomial naive Bayes classifier with Laplace smoothing over
// normalised words (unigrams and bigrams of stems, subject words, and
// attachment types), with one label space per decision ("category",
// "remedy"). Each message counts a feature once (binarised naive Bayes,
// which works better on short texts).
//
// Concurrency: Train modifies the model and must not run at the same time
// as any other use of the same Model (Predict, Clone, MarshalBinary, or
// New reading it); lock, or train a Clone. Predict, Clone and
// MarshalBinary may run concurrently with each other. A Classifier holds
// its own copy made by New, so classifying never races with training: to
// use new training, build a new Classifier.
type Model struct {
	// vocab numbers the features (hashes, see featureHash) seen in any
	// space, so that a message's features are looked up once for all
	// spaces and the counts are plain arrays.
	vocab  map[uint64]int32
	hashes []uint64 // feature id -> hash
	spaces map[string]*nbSpace
}

// nbSpace is one label space.
type nbSpace struct {
	labels []string
	docs   []int // messages per label
	total  []int // feature occurrences per label
	// counts[label][feature id] is how many messages of the label had the
	// feature; a slice shorter than the vocabulary means zero beyond it.
	counts [][]uint32
	vocab  int // features with a count in this space
}

// NewModel returns an untrained model.
func NewModel() *Model {
	return &Model{vocab: map[uint64]int32{}, spaces: map[string]*nbSpace{}}
}

// Train adds one example: in is labelled label in space. Training on a
// specialist's correction adds to what the model learned from the first
// answer; to forget, rebuild the model from the stored cases.
func (m *Model) Train(space, label string, in Input) {
	if space == "" || label == "" || len(space) > maxNameBytes || len(label) > maxNameBytes {
		return
	}
	if m.spaces == nil {
		m.spaces = map[string]*nbSpace{}
	}
	if m.vocab == nil {
		m.vocab = map[uint64]int32{}
	}
	sp := m.spaces[space]
	if sp == nil {
		sp = &nbSpace{}
		m.spaces[space] = sp
	}
	li := slices.Index(sp.labels, label)
	if li < 0 {
		if len(sp.labels) >= maxModelLabels {
			return
		}
		li = len(sp.labels)
		sp.labels = append(sp.labels, label)
		sp.docs = append(sp.docs, 0)
		sp.total = append(sp.total, 0)
		sp.counts = append(sp.counts, nil)
	}
	sp.docs[li]++
	for _, f := range modelFeatures(prepare(in)) {
		id, known := m.vocab[f]
		if !known {
			if len(m.hashes) >= maxModelFeatures {
				continue
			}
			id = int32(len(m.hashes))
			m.vocab[f] = id
			m.hashes = append(m.hashes, f)
		}
		if !sp.has(int(id)) {
			sp.vocab++
		}
		c := sp.counts[li]
		if int(id) >= len(c) {
			c = append(c, make([]uint32, int(id)+1-len(c))...)
			sp.counts[li] = c
		}
		if c[id] < math.MaxUint32 {
			c[id]++
			sp.total[li]++
		}
	}
}

// has reports whether feature id has a count in the space.
func (sp *nbSpace) has(id int) bool {
	for _, c := range sp.counts {
		if id < len(c) && c[id] > 0 {
			return true
		}
	}
	return false
}

// Examples returns how many examples the space was trained on.
func (m *Model) Examples(space string) int {
	if m == nil || m.spaces[space] == nil {
		return 0
	}
	n := 0
	for _, d := range m.spaces[space].docs {
		n += d
	}
	return n
}

// Predict returns the most probable label of in in space and its
// probability. ok is false when the space has fewer than
// MinTrainingExamples examples or fewer than two labels, or when none of
// the message's features was seen in training.
func (m *Model) Predict(space string, in Input) (label string, prob float64, ok bool) {
	if m.Examples(space) < MinTrainingExamples {
		return "", 0, false
	}
	return m.predictIDs(space, m.lookup(modelFeatures(prepare(in))))
}

// lookup returns the ids of the features the model knows.
func (m *Model) lookup(feats []uint64) []int32 {
	ids := make([]int32, 0, len(feats))
	for _, f := range feats {
		if id, ok := m.vocab[f]; ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// predictIDs is Predict on looked-up features.
func (m *Model) predictIDs(space string, ids []int32) (string, float64, bool) {
	if m == nil {
		return "", 0, false
	}
	sp := m.spaces[space]
	if sp == nil || len(sp.labels) < 2 || m.Examples(space) < MinTrainingExamples {
		return "", 0, false
	}
	ll := make([]float64, len(sp.labels))
	known := 0
	for _, id := range ids {
		seen := false
		for l, c := range sp.counts {
			if int(id) < len(c) && c[id] > 0 {
				ll[l] += math.Log(float64(c[id]) + 1)
				seen = true
			}
		}
		if seen { // words this space never saw say nothing about its labels
			known++
		}
	}
	return sp.decide(ll, known)
}

// decide turns the summed log counts of a message's known features into
// the most probable label and its probability.
func (sp *nbSpace) decide(ll []float64, known int) (string, float64, bool) {
	if known == 0 {
		return "", 0, false
	}
	n := len(sp.labels)
	docs := 0
	for _, d := range sp.docs {
		docs += d
	}
	vocab := float64(sp.vocab)
	temper := math.Min(1, evidenceCap/float64(known))
	scores := make([]float64, n)
	for l := range n {
		prior := math.Log((float64(sp.docs[l]) + 1) / (float64(docs) + float64(n)))
		scores[l] = prior + temper*(ll[l]-float64(known)*math.Log(float64(sp.total[l])+vocab))
	}
	best := 0
	for l := range n {
		if scores[l] > scores[best] {
			best = l
		}
	}
	sum := 0.0
	for l := range n {
		sum += math.Exp(scores[l] - scores[best])
	}
	return sp.labels[best], 1 / sum, true
}

// compiledModel is a Model laid out for prediction, built once by New:
// an open-addressing table from feature hash to id (the hashes are
// already uniform, so a probe is a mask and a compare), and per space the
// non-zero log counts of each feature in one array. It makes the model's
// share of Classify a few microseconds, and is immutable.
type compiledModel struct {
	slots  []uint64 // feature hash, 0 for an empty slot
	ids    []int32  // feature id of the slot
	spaces map[string]*compiledSpace
}

type compiledSpace struct {
	sp    *nbSpace // labels, docs, totals and vocabulary size (copied)
	rowAt []int32  // feature id -> its entries rowAt[id]:rowAt[id+1]
	label []uint8
	logc  []float64 // log(count + 1)
}

// compile lays out m for prediction; nil when no space can answer.
func (m *Model) compile() *compiledModel {
	if m == nil {
		return nil
	}
	cm := &compiledModel{spaces: map[string]*compiledSpace{}}
	for name, sp := range m.spaces {
		if len(sp.labels) < 2 || m.Examples(name) < MinTrainingExamples {
			continue
		}
		cs := &compiledSpace{
			sp:    &nbSpace{labels: slices.Clone(sp.labels), docs: slices.Clone(sp.docs), total: slices.Clone(sp.total), vocab: sp.vocab},
			rowAt: make([]int32, len(m.hashes)+1),
		}
		for id := range m.hashes {
			for l, c := range sp.counts {
				if id < len(c) && c[id] > 0 {
					cs.label = append(cs.label, uint8(l))
					cs.logc = append(cs.logc, math.Log(float64(c[id])+1))
				}
			}
			cs.rowAt[id+1] = int32(len(cs.label))
		}
		cm.spaces[name] = cs
	}
	if len(cm.spaces) == 0 {
		return nil
	}
	size := 16
	for size < 2*len(m.hashes) {
		size *= 2
	}
	cm.slots = make([]uint64, size)
	cm.ids = make([]int32, size)
	for id, h := range m.hashes {
		if h == 0 {
			continue // the empty-slot marker; a one in 2^64 feature is lost
		}
		i := h & uint64(size-1)
		for cm.slots[i] != 0 {
			i = (i + 1) & uint64(size-1)
		}
		cm.slots[i], cm.ids[i] = h, int32(id)
	}
	return cm
}

// lookup returns the ids of the features the model knows.
func (cm *compiledModel) lookup(feats []uint64) []int32 {
	ids := make([]int32, 0, len(feats))
	mask := uint64(len(cm.slots) - 1)
	for _, f := range feats {
		for i := f & mask; cm.slots[i] != 0; i = (i + 1) & mask {
			if cm.slots[i] == f {
				ids = append(ids, cm.ids[i])
				break
			}
		}
	}
	return ids
}

// predict is Model.predictIDs on the compiled layout, with the same result.
func (cm *compiledModel) predict(space string, ids []int32) (string, float64, bool) {
	cs := cm.spaces[space]
	if cs == nil {
		return "", 0, false
	}
	ll := make([]float64, len(cs.sp.labels))
	known := 0
	for _, id := range ids {
		a, b := cs.rowAt[id], cs.rowAt[id+1]
		if a == b {
			continue
		}
		known++
		for k := a; k < b; k++ {
			ll[cs.label[k]] += cs.logc[k]
		}
	}
	return cs.sp.decide(ll, known)
}

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	out := NewModel()
	if m == nil {
		return out
	}
	out.vocab = maps.Clone(m.vocab)
	if out.vocab == nil {
		out.vocab = map[uint64]int32{}
	}
	out.hashes = slices.Clone(m.hashes)
	for name, sp := range m.spaces {
		c := &nbSpace{
			labels: slices.Clone(sp.labels),
			docs:   slices.Clone(sp.docs),
			total:  slices.Clone(sp.total),
			counts: make([][]uint32, len(sp.counts)),
			vocab:  sp.vocab,
		}
		for i, v := range sp.counts {
			c.counts[i] = slices.Clone(v)
		}
		out.spaces[name] = c
	}
	return out
}

// modelFeatures returns the sorted, distinct feature hashes of a message.
func modelFeatures(p *prepared) []uint64 {
	fs := make([]uint64, 0, 2*len(p.textToks)+len(p.subjToks)+4)
	prev := ""
	for _, t := range p.textToks {
		if len(fs) >= maxDocFeatures {
			break
		}
		s, ok := modelStem(t.s)
		if !ok {
			prev = ""
			continue
		}
		fs = append(fs, featureHash('u', s, ""))
		if prev != "" {
			fs = append(fs, featureHash('b', prev, s))
		}
		prev = s
	}
	for _, t := range p.subjToks {
		if s, ok := modelStem(t.s); ok {
			// Subject words count twice: as words and as subject words.
			fs = append(fs, featureHash('u', s, ""), featureHash('s', s, ""))
		}
	}
	for i, a := range p.attachments {
		if i == maxAttachmentFeatures {
			break
		}
		kind := "other"
		ct := strings.ToLower(a.ContentType)
		switch {
		case strings.HasPrefix(ct, "image/"):
			kind = "image"
		case ct == "application/pdf":
			kind = "pdf"
		case strings.HasPrefix(ct, "video/"):
			kind = "video"
		}
		fs = append(fs, featureHash('a', kind, ""))
		for _, t := range tokenize(headText(a.Name, 200)) {
			if s, ok := modelStem(t.s); ok {
				fs = append(fs, featureHash('n', s, ""))
			}
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// modelStem cuts a word to its stem; one-letter words and numbers (order
// numbers, amounts) carry no category and are dropped.
func modelStem(s string) (string, bool) {
	if len(s) < 2 {
		return "", false
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
			break
		}
	}
	if digits {
		return "", false
	}
	if len(s) > modelStemBytes {
		s = headText(s, modelStemBytes)
	}
	return s, true
}

// featureHash is 64-bit FNV-1a over a tag and one or two words. Hashes
// keep the model small and the look-ups free of allocations; a collision
// among a million features has odds of about 1 in 30 million.
func featureHash(tag byte, a, b string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(tag)) * prime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * prime
	}
	if b != "" {
		h = (h ^ ' ') * prime
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * prime
		}
	}
	return h
}

// modelMagic starts a model file; the byte after it is the format version.
// Version 1: uvarint space count; per space (sorted by name): name, uvarint
// label count, per label its name and uvarint example count; then uvarint
// feature count and per feature (sorted by hash) its FNV-1a hash as 8
// bytes little endian followed by a uvarint count per label of each space,
// in the order above. Names are a uvarint length and UTF-8 bytes. Totals
// are recomputed on reading, never trusted.
const (
	modelMagic   = "claimsd-nb"
	modelVersion = 1
)

// MarshalBinary encodes the model in the versioned format above. The
// encoding is deterministic: the same model gives the same bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	b := append([]byte(modelMagic), modelVersion)
	if m == nil {
		m = NewModel()
	}
	names := slices.Sorted(maps.Keys(m.spaces))
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		sp := m.spaces[name]
		b = appendName(b, name)
		b = binary.AppendUvarint(b, uint64(len(sp.labels)))
		for i, l := range sp.labels {
			b = appendName(b, l)
			b = binary.AppendUvarint(b, uint64(sp.docs[i]))
		}
	}
	ids := make([]int32, len(m.hashes))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(a, c int32) int { return cmp.Compare(m.hashes[a], m.hashes[c]) })
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint64(b, m.hashes[id])
		for _, name := range names {
			for _, c := range m.spaces[name].counts {
				var v uint32
				if int(id) < len(c) {
					v = c[id]
				}
				b = binary.AppendUvarint(b, uint64(v))
			}
		}
	}
	return b, nil
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ErrModelFormat is wrapped by every UnmarshalModel error.
var ErrModelFormat = errors.New("classifier: not a valid model file")

// UnmarshalModel decodes what MarshalBinary wrote, checking every length
// against the data, so a truncated or foreign file is an error, never a
// panic or a huge allocation.
func UnmarshalModel(data []byte) (*Model, error) {
	if len(data) < len(modelMagic)+1 || string(data[:len(modelMagic)]) != modelMagic {
		return nil, fmt.Errorf("%w: no %q header", ErrModelFormat, modelMagic)
	}
	if v := data[len(modelMagic)]; v != modelVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d; retrain the model", ErrModelFormat, v, modelVersion)
	}
	r := &modelReader{b: data[len(modelMagic)+1:]}
	m := NewModel()
	var spaces []*nbSpace // in file order
	nspaces := r.count(2)
	labels := 0
	for range nspaces {
		name := r.name()
		if r.err == nil && m.spaces[name] != nil {
			r.fail("space %q twice", name)
		}
		nl := r.count(2)
		if nl > maxModelLabels {
			r.fail("%d labels, at most %d", nl, maxModelLabels)
		}
		if r.err != nil {
			break
		}
		sp := &nbSpace{}
		for range nl {
			l := r.name()
			if r.err == nil && slices.Contains(sp.labels, l) {
				r.fail("label %q twice", l)
			}
			sp.labels = append(sp.labels, l)
			sp.docs = append(sp.docs, int(r.uvarint(math.MaxInt32)))
			sp.total = append(sp.total, 0)
		}
		labels += nl
		m.spaces[name] = sp
		spaces = append(spaces, sp)
	}
	nf := r.count(8 + labels)
	if nf > maxModelFeatures {
		r.fail("%d features, at most %d", nf, maxModelFeatures)
	}
	if r.err == nil {
		for _, sp := range spaces {
			sp.counts = make([][]uint32, len(sp.labels))
			for l := range sp.counts {
				sp.counts[l] = make([]uint32, nf)
			}
		}
		m.hashes = make([]uint64, 0, nf)
	}
	for i := 0; i < nf && r.err == nil; i++ {
		f := r.uint64()
		if i > 0 && f <= m.hashes[i-1] {
			r.fail("features out of order")
			break
		}
		m.vocab[f] = int32(i)
		m.hashes = append(m.hashes, f)
		for _, sp := range spaces {
			seen := false
			for l := range sp.counts {
				v := uint32(r.uvarint(math.MaxUint32))
				sp.counts[l][i] = v
				sp.total[l] += int(v)
				seen = seen || v > 0
			}
			if seen {
				sp.vocab++
			}
		}
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d bytes after the end", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// modelReader reads the model format, remembering the first error.
type modelReader struct {
	b   []byte
	err error
}

func (r *modelReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrModelFormat, fmt.Sprintf(format, args...))
	}
}

func (r *modelReader) uvarint(max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated")
		return 0
	}
	r.b = r.b[n:]
	if v > max {
		r.fail("value %d out of range", v)
		return 0
	}
	return v
}

// count reads a number of items each taking at least minBytes, so that a
// corrupt count cannot ask for more memory than the data could fill.
func (r *modelReader) count(minBytes int) int {
	v := r.uvarint(math.MaxInt32)
	if r.err == nil && v*uint64(max(minBytes, 1)) > uint64(len(r.b)) {
		r.fail("count %d larger than the data", v)
		return 0
	}
	return int(v)
}

func (r *modelReader) name() string {
	n := r.uvarint(maxNameBytes)
	if r.err != nil {
		return ""
	}
	if n == 0 || n > uint64(len(r.b)) {
		r.fail("bad name length %d", n)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	if !utf8.ValidString(s) {
		r.fail("name is not UTF-8")
	}
	return s
}

func (r *modelReader) uint64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}
