package staff

import (
	"strings"
	"testing"
)

func FuzzParseAuthResults(f *testing.F) {
	for _, s := range []string{
		ms365,
		"mx.sklep.example 1; none",
		"mx.sklep.example; dkim=pass (a; (b)) header.d=sklep.example header.b=Ab/c=; dmarc=fail header.from=sklep.example",
		`"mx"; dkim/1=pass reason="x; y" smtp.mailfrom="a b"@c`,
		"((", `"`, ";;=/", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		_, results, err := ParseAuthResults(v)
		if err != nil && results != nil {
			t.Fatalf("results %v with error %v", results, err)
		}
		for _, r := range results {
			if r.Method == "" || r.Result == "" || r.Props == nil {
				t.Fatalf("incomplete result %#v from %q", r, v)
			}
		}
	})
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{
		"#status resolved\n#decision accepted\n\nDzień dobry",
		"\r\n#status: open\r\n#merge [clm-2026-000001]\r\nx\r\n",
		"#note\n#123\n# \n#\n",
		"Tekst\n#status resolved",
		"\ufeff#priority=urgent",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := ParseCommands(text)
		if !strings.HasSuffix(text, p.Body) {
			t.Fatalf("Body %q is not a suffix of %q", p.Body, text)
		}
		inLines := map[string]bool{}
		for _, l := range strings.Split(text, "\n") {
			inLines[l] = true
		}
		for _, l := range strings.Split(p.Body, "\n") {
			if !inLines[l] && l != "" {
				t.Fatalf("Body line %q not in input %q", l, text)
			}
		}
		names := map[string]bool{}
		for _, c := range p.Commands {
			if !knownCommand(c.Name) || c.Line < 1 || names[c.Name] {
				t.Fatalf("bad command %#v in %#v", c, p)
			}
			names[c.Name] = true
		}
		if p.Note != names["note"] {
			t.Fatalf("Note = %v with commands %#v", p.Note, p.Commands)
		}
	})
}
