package staff

import (
	"reflect"
	"testing"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Parsed
	}{
		{
			name: "no commands",
			in:   "Dzień dobry,\nreklamacja została przyjęta.\n",
			want: Parsed{Body: "Dzień dobry,\nreklamacja została przyjęta.\n"},
		},
		{
			name: "empty",
			in:   "",
			want: Parsed{},
		},
		{
			name: "commands then Polish text",
			in:   "#status resolved\n#decision accepted\n\nDzień dobry,\nzwracamy 120 zł.\n",
			want: Parsed{
				Commands: []Command{{Name: "status", Arg: "resolved", Line: 1}, {Name: "decision", Arg: "accepted", Line: 2}},
				Body:     "Dzień dobry,\nzwracamy 120 zł.\n",
			},
		},
		{
			name: "leading blank lines and indentation, colon and equals forms, case",
			in:   "\n  \n  #Status: Resolved\n\t#PRIORITY=High\n#category : Transport-Damage\n#remedy price reduction\nTreść.",
			want: Parsed{
				Commands: []Command{
					{Name: "status", Arg: "resolved", Line: 3},
					{Name: "priority", Arg: "high", Line: 4},
					{Name: "category", Arg: "transport_damage", Line: 5},
					{Name: "remedy", Arg: "price_reduction", Line: 6},
				},
				Body: "Treść.",
			},
		},
		{
			name: "CRLF",
			in:   "#status waiting\r\n#assign Anna  Nowak\r\n\r\nProszę o zdjęcia.\r\n",
			want: Parsed{
				Commands: []Command{{Name: "status", Arg: "waiting", Line: 1}, {Name: "assign", Arg: "Anna Nowak", Line: 2}},
				Body:     "Proszę o zdjęcia.\r\n",
			},
		},
		{
			name: "blank line between commands keeps the block going",
			in:   "#status open\n\n#priority urgent\n\nTekst",
			want: Parsed{
				Commands: []Command{{Name: "status", Arg: "open", Line: 1}, {Name: "priority", Arg: "urgent", Line: 3}},
				Body:     "Tekst",
			},
		},
		{
			name: "commands not at top are text",
			in:   "Dzień dobry,\n#status resolved\n#note\n",
			want: Parsed{Body: "Dzień dobry,\n#status resolved\n#note\n"},
		},
		{
			name: "a # line after the block is text",
			in:   "#status resolved\nNumer zamówienia:\n#123 jest w systemie\n",
			want: Parsed{
				Commands: []Command{{Name: "status", Arg: "resolved", Line: 1}},
				Body:     "Numer zamówienia:\n#123 jest w systemie\n",
			},
		},
		{
			name: "note with text",
			in:   "#note klient dzwonił, proszę oddzwonić\nSzczegóły w CRM.",
			want: Parsed{
				Commands: []Command{{Name: "note", Arg: "klient dzwonił, proszę oddzwonić", Line: 1}},
				Note:     true,
				Body:     "Szczegóły w CRM.",
			},
		},
		{
			name: "only commands",
			in:   "#note\n#assign anna@sklep.example\n\n",
			want: Parsed{
				Commands: []Command{{Name: "note", Line: 1}, {Name: "assign", Arg: "anna@sklep.example", Line: 2}},
				Note:     true,
			},
		},
		{
			name: "merge, with brackets and lower case",
			in:   "#merge [clm-2026-000123]\nx",
			want: Parsed{Commands: []Command{{Name: "merge", Arg: "CLM-2026-000123", Line: 1}}, Body: "x"},
		},
		{
			name: "bad status value",
			in:   "#assign Jan\n#status closed\nTekst",
			want: Parsed{
				Commands: []Command{{Name: "assign", Arg: "Jan", Line: 1}},
				Errors:   []string{`line 2: "#status closed": want waiting, resolved, rejected or open`},
				Body:     "Tekst",
			},
		},
		{
			name: "missing and bad values",
			in:   "#decision\n#remedy money\n#priority low\n#category broken\n#assign\n#merge 123\n#merge CLM-26-1\n#merge ABCDEFGHIJK-2026-1\n",
			want: Parsed{Errors: []string{
				`line 1: "#decision": want accepted, rejected or partial`,
				`line 2: "#remedy money": want repair, replacement, price_reduction, refund or none`,
				`line 3: "#priority low": want urgent, high or normal`,
				`line 4: "#category broken": want non_conformity, guarantee, withdrawal, repair, transport_damage, missing_item, billing or other`,
				`line 5: "#assign": want a name or e-mail address`,
				`line 6: "#merge 123": want a case id like CLM-2026-000123`,
				`line 7: "#merge CLM-26-1": want a case id like CLM-2026-000123`,
				`line 8: "#merge ABCDEFGHIJK-2026-1": want a case id like CLM-2026-000123`,
			}},
		},
		{
			name: "unknown words and digits at the top are errors",
			in:   "#stauts resolved\n#123 is the order\n#\n# Nagłówek\nTekst",
			want: Parsed{
				Errors: []string{
					`line 1: "#stauts resolved": unknown command`,
					`line 2: "#123 is the order": unknown command`,
					`line 3: "#": unknown command`,
					`line 4: "# Nagłówek": unknown command`,
				},
				Body: "Tekst",
			},
		},
		{
			name: "duplicate command",
			in:   "#status resolved\n#status open\n#note\n#NOTE again\n",
			want: Parsed{
				Commands: []Command{{Name: "status", Arg: "resolved", Line: 1}, {Name: "note", Line: 3}},
				Note:     true,
				Errors: []string{
					`line 2: "#status open": duplicate #status (first on line 1)`,
					`line 4: "#NOTE again": duplicate #note (first on line 3)`,
				},
			},
		},
		{
			name: "signature line is plain text",
			in:   "#status waiting\n-- \nAnna",
			want: Parsed{Commands: []Command{{Name: "status", Arg: "waiting", Line: 1}}, Body: "-- \nAnna"},
		},
		{
			name: "byte order mark",
			in:   "\ufeff#status rejected\nNie.",
			want: Parsed{Commands: []Command{{Name: "status", Arg: "rejected", Line: 1}}, Body: "Nie."},
		},
		{
			name: "long bad line is shortened in the error",
			in:   "#status " + "bardzo długi powód odrzucenia reklamacji bez sensu i bez końca",
			want: Parsed{Errors: []string{`line 1: "#status bardzo długi powód odrzucenia reklamacji bez sensu i…": want waiting, resolved, rejected or open`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseCommands(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCommands(%q) =\n%#v\nwant\n%#v", tt.in, got, tt.want)
			}
		})
	}
}
