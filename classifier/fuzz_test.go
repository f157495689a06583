package classifier

import (
	"testing"

	"github.com/claimsd/claimsd/message"
)

// FuzzClassify: any subject, text and attachment name gives a valid
// result, with and without a model, and never panics.
func FuzzClassify(f *testing.F) {
	f.Add("Reklamacja", benchComplaint().Text, "faktura.pdf")
	f.Add("", "", "")
	f.Add("Re: Odp: [CLM-2026-000001]", "> cytat\n-- \npodpis", "IMG_0001.JPG")
	f.Add("\xff\xfe", "zamówienie nr \x00\xff 12.13.2026 1.2.3,4 zł $ €", "\u0301")
	f.Add("DYM", "a\u0328\u0328\u0328 ß İ ﬁ ŉ", "x")
	plain := New(nil, nil)
	withModel := New(nil, trainedModel(f))
	f.Fuzz(func(t *testing.T, subject, text, name string) {
		in := Input{Subject: subject, Text: text, Attachments: []message.Attachment{{Name: name, ContentType: "image/png"}}}
		checkResult(t, plain.Classify(in))
		checkResult(t, withModel.Classify(in))
	})
}

// FuzzLoadRules: any file is either rejected with problems or gives rules
// that classify without panicking.
func FuzzLoadRules(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("categories:\n  billing:\n    pl: {faktur*: 2, \"korekta faktury\": 5}\n"))
	f.Add([]byte("inherit_defaults: false\npriority:\n  urgent:\n    any: [dym]\nfacts:\n  amount: ['\\d+ zł']\n"))
	f.Add([]byte("settings: {subject_weight: 0}\nremedies:\n  refund:\n    en:\n      refund: -3\n"))
	f.Add([]byte("a: &a [x]\nb: *a\n"))
	f.Add([]byte("facts:\n  product:\n    - '(?i)^(?P<value>.+)$'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := LoadRules(data)
		if err != nil {
			if re, ok := err.(*RulesError); !ok || len(re.Problems) == 0 {
				t.Fatalf("error %v is not a *RulesError with problems", err)
			}
			return
		}
		checkResult(t, New(r, nil).Classify(Input{Subject: "Reklamacja", Text: "kurier dym faktura nr FV/1/2026 12,50 zł\nProdukt: X"}))
	})
}

// FuzzUnmarshalModel: any bytes are a model or an error, never a panic;
// a model that decodes predicts without panicking.
func FuzzUnmarshalModel(f *testing.F) {
	m := NewModel()
	trainCorpus(m)
	good, _ := m.MarshalBinary()
	f.Add(good)
	f.Add([]byte(modelMagic))
	f.Add(append([]byte(modelMagic), modelVersion, 1, 1, 'c', 2, 1, 'a', 5, 1, 'b', 0, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalModel(data)
		if err != nil {
			return
		}
		m.Predict(SpaceCategory, Input{Text: "kurier faktura"})
		checkResult(t, New(nil, m).Classify(Input{Text: "kurier faktura"}))
	})
}
