package staff

import (
	"strings"
	"testing"
)

// assignStaff is the staff the assignment tests share: logistics has four members
// in this order, two of whom declare languages; Wiśniewski and Michał carry
// the diacritics names are folded for; there are two Annas.
func assignStaff() []Member {
	return []Member{
		{Name: "Anna Nowak", Email: "anna.nowak@example.com", Teams: []string{"logistics"}},
		{Name: "Piotr Wiśniewski", Email: "piotr@example.com", Teams: []string{"logistics", "quality"}, Languages: []string{"pl"}},
		{Name: "Ewa Zielińska", Email: "ewa@example.com", Teams: []string{"Logistics"}, Languages: []string{"pl", "en"}},
		{Name: "Michał Kowalczyk", Email: "michal@example.com", Teams: []string{"logistics"}},
		{Name: "Anna Maria Lis", Email: "anna.lis@example.com", Teams: []string{"vip"}, Languages: []string{"de"}},
		{Name: "Jan Kowalski", Email: "Jan.Kowalski@Example.com", Teams: []string{"quality"}},
	}
}

func TestAssignRuleOrder(t *testing.T) {
	rules := []Rule{
		{CustomerDomain: "bigcustomer.example", Assignee: "ANNA.LIS@example.com"},
		{Category: "transport_damage", Language: "pl", Team: "logistics"},
		{Category: "transport_damage", Team: "quality"},
		{Language: "de", Assignee: "anna.lis@example.com"},
	}
	tests := []struct {
		name   string
		facts  Facts
		want   Decision
		reason string // prefix of the reason
	}{
		{
			name:   "first rule wins over a later one that also matches",
			facts:  Facts{Category: "transport_damage", Language: "pl", Customer: "jan@bigcustomer.example"},
			want:   Decision{Assignee: "anna.lis@example.com"},
			reason: "rule 1 (domain bigcustomer.example): anna.lis@example.com (Anna Maria Lis)",
		},
		{
			name:   "all set fields must match",
			facts:  Facts{Category: "transport_damage", Language: "en", Customer: "jan@example.org"},
			want:   Decision{Assignee: "Jan.Kowalski@Example.com", Team: "quality"},
			reason: "rule 3 (category transport_damage): team quality, round-robin member 2 of 2, skipping 1 not handling en",
		},
		{
			name:   "language tag and category case are normalised",
			facts:  Facts{Category: "Transport_Damage", Language: "pl-PL", Customer: "jan@example.org"},
			want:   Decision{Assignee: "anna.nowak@example.com", Team: "logistics"},
			reason: "rule 2 (category transport_damage, language pl): team logistics, round-robin member 1 of 4",
		},
		{
			name:   "a later rule when earlier ones do not match",
			facts:  Facts{Category: "other", Language: "de", Customer: "hans@example.de"},
			want:   Decision{Assignee: "anna.lis@example.com"},
			reason: "rule 4 (language de): ",
		},
		{
			name:   "no rule",
			facts:  Facts{Category: "other", Language: "pl", Customer: "jan@example.org"},
			want:   Decision{},
			reason: ReasonNoRule,
		},
		{
			name:   "no facts at all",
			facts:  Facts{},
			want:   Decision{},
			reason: ReasonNoRule,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Assign(tt.facts, rules, assignStaff(), nil)
			if got.Assignee != tt.want.Assignee || got.Team != tt.want.Team {
				t.Errorf("Assign = %+v, want assignee %q team %q", got, tt.want.Assignee, tt.want.Team)
			}
			if !strings.HasPrefix(got.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to start with %q", got.Reason, tt.reason)
			}
		})
	}
	if got := Assign(Facts{Category: "x"}, nil, assignStaff(), nil); got != (Decision{Reason: "no rule matched: left to the team"}) {
		t.Errorf("no rules: %+v", got)
	}
}

func TestAssignDomain(t *testing.T) {
	tests := []struct {
		domain, customer string
		want             bool
	}{
		{"bigcustomer.example", "jan@bigcustomer.example", true},
		{"bigcustomer.example", "jan@BigCustomer.Example", true},
		{"bigcustomer.example", "jan@pl.bigcustomer.example", true},
		{"bigcustomer.example", "jan@a.b.bigcustomer.example", true},
		{"bigcustomer.example", "jan@notbigcustomer.example", false},
		{"bigcustomer.example", "jan@bigcustomer.example.evil.example", false},
		{"bigcustomer.example", "bigcustomer.example@evil.example", false},
		{"bigcustomer.example", `"a@bigcustomer.example"@evil.example`, false},
		{"bigcustomer.example", "Jan <jan@bigcustomer.example>", true},
		{"bigcustomer.example", "jan@bigcustomer.example.", true},
		{"bigcustomer.example", "", false},
		{"bigcustomer.example", "no-address", false},
		{"@bigcustomer.example", "jan@bigcustomer.example", true},
		{"*.bigcustomer.example", "jan@pl.bigcustomer.example", true},
		{" BigCustomer.Example ", "jan@bigcustomer.example", true},
		{"pl.bigcustomer.example", "jan@bigcustomer.example", false},
	}
	for _, tt := range tests {
		rules := []Rule{{CustomerDomain: tt.domain, Assignee: "anna.nowak@example.com"}}
		got := Assign(Facts{Customer: tt.customer}, rules, assignStaff(), nil).Assignee != ""
		if got != tt.want {
			t.Errorf("domain %q, customer %q: matched = %v, want %v", tt.domain, tt.customer, got, tt.want)
		}
	}
}

func TestAssignRoundRobin(t *testing.T) {
	rules := []Rule{{Team: "logistics"}}
	tests := []struct {
		name, lang, last string
		want             string
		reason           string // suffix of the reason
	}{
		{"first time starts with the first", "", "", "anna.nowak@example.com", "team logistics, round-robin member 1 of 4"},
		{"after the first", "", "anna.nowak@example.com", "piotr@example.com", "member 2 of 4"},
		{"after the second", "", "piotr@example.com", "ewa@example.com", "member 3 of 4"},
		{"after the third", "", "ewa@example.com", "michal@example.com", "member 4 of 4"},
		{"after the last wraps", "", "michal@example.com", "anna.nowak@example.com", "member 1 of 4"},
		{"last compared without case", "", "PIOTR@example.com", "ewa@example.com", "member 3 of 4"},
		{"last no longer in the team starts over", "", "gone@example.com", "anna.nowak@example.com", "member 1 of 4"},
		{"last in another team starts over", "", "jan.kowalski@example.com", "anna.nowak@example.com", "member 1 of 4"},
		// Piotr handles pl only and Ewa pl and en: for German both are
		// skipped; Anna and Michał declare nothing and take anything.
		{"language skips two", "de", "anna.nowak@example.com", "michal@example.com", "member 4 of 4, skipping 2 not handling de"},
		{"language skip wraps", "de", "michal@example.com", "anna.nowak@example.com", "member 1 of 4"},
		{"a member who handles it is not skipped", "en", "piotr@example.com", "ewa@example.com", "member 3 of 4"},
		{"skip after a member", "en", "anna.nowak@example.com", "ewa@example.com", "member 3 of 4, skipping 1 not handling en"},
		{"language tag", "EN-gb", "anna.nowak@example.com", "ewa@example.com", "skipping 1 not handling en"},
		{"unknown language skips nobody", "", "anna.nowak@example.com", "piotr@example.com", "member 2 of 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			last := func(team string) string { asked = team; return tt.last }
			got := Assign(Facts{Language: tt.lang}, rules, assignStaff(), last)
			if got.Assignee != tt.want || got.Team != "logistics" {
				t.Errorf("Assign = %+v, want %s in logistics", got, tt.want)
			}
			if !strings.HasSuffix(got.Reason, tt.reason) || !strings.HasPrefix(got.Reason, "rule 1 (any case): ") {
				t.Errorf("Reason = %q, want rule 1 (any case): … %q", got.Reason, tt.reason)
			}
			if asked != "logistics" {
				t.Errorf("last asked for team %q, want logistics", asked)
			}
		})
	}
}

// TestAssignTeamSpelling checks that rules writing a team in another case
// share its rotation: the store is asked, and told, one name.
func TestAssignTeamSpelling(t *testing.T) {
	for _, team := range []string{"logistics", "LOGISTICS", " Logistics "} {
		var asked string
		last := func(t string) string { asked = t; return "anna.nowak@example.com" }
		d := Assign(Facts{}, []Rule{{Team: team}}, assignStaff(), last)
		if asked != "logistics" || d.Team != "logistics" || d.Assignee != "piotr@example.com" {
			t.Errorf("team %q: asked %q, decision %+v", team, asked, d)
		}
	}
}

// TestAssignSequence follows the store through a run of cases: the previous
// assignee is fed back as last, as the caller's store does.
func TestAssignSequence(t *testing.T) {
	rules := []Rule{{Team: "logistics"}}
	langs := []string{"pl", "de", "de", "en", "", "pl"}
	want := []string{
		"anna.nowak@example.com", // first
		"michal@example.com",     // skips Piotr (pl) and Ewa (pl, en)
		"anna.nowak@example.com", // wraps
		"ewa@example.com",        // skips Piotr (pl)
		"michal@example.com",
		"anna.nowak@example.com",
	}
	prev := map[string]string{}
	last := func(team string) string { return prev[team] }
	for i, lang := range langs {
		d := Assign(Facts{Language: lang}, rules, assignStaff(), last)
		if d.Assignee != want[i] {
			t.Errorf("case %d (%q): %s, want %s (%s)", i+1, lang, d.Assignee, want[i], d.Reason)
		}
		prev[d.Team] = d.Assignee
	}
}

func TestAssignLeftToTeam(t *testing.T) {
	tests := []struct {
		name     string
		facts    Facts
		rule     Rule
		wantTeam string
		reason   string
	}{
		{"nobody handles the language", Facts{Language: "fr"}, Rule{Team: "vip"}, "vip",
			"rule 1 (any case): team vip: no member handles language fr: left to the team"},
		{"team without members", Facts{Category: "X"}, Rule{Category: "x", Team: "nobody"}, "nobody",
			"rule 1 (category x): team nobody has no members: left to the team"},
		{"assignee not staff", Facts{}, Rule{Assignee: "ghost@example.com"}, "",
			"rule 1 (any case): assignee ghost@example.com is not a staff member: left to the team"},
		{"both targets", Facts{}, Rule{Assignee: "anna.nowak@example.com", Team: "logistics"}, "logistics",
			"rule 1 (any case): names both an assignee and a team: left to the team"},
		{"no target", Facts{}, Rule{}, "",
			"rule 1 (any case): names no assignee or team: left to the team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A later rule that would place the case must not be used:
			// the first matching rule decides.
			rules := []Rule{tt.rule, {Assignee: "anna.nowak@example.com"}}
			got := Assign(tt.facts, rules, assignStaff(), nil)
			if got != (Decision{Team: tt.wantTeam, Reason: tt.reason}) {
				t.Errorf("Assign = %+v, want team %q reason %q", got, tt.wantTeam, tt.reason)
			}
		})
	}
}

func TestAssignDirectAssigneeKeepsConfiguredAddress(t *testing.T) {
	// The rule's spelling may differ; the member's own address is used.
	d := Assign(Facts{}, []Rule{{Assignee: " jan.kowalski@example.com "}}, assignStaff(), nil)
	if d.Assignee != "Jan.Kowalski@Example.com" || d.Team != "" {
		t.Errorf("Assign = %+v", d)
	}
	// A named assignee is taken whatever languages they declare: the rule
	// says who, and ValidateRules flags a contradiction.
	d = Assign(Facts{Language: "fr"}, []Rule{{Assignee: "piotr@example.com"}}, assignStaff(), nil)
	if d.Assignee != "piotr@example.com" {
		t.Errorf("Assign = %+v", d)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		want  []string // each a substring of one problem, in order; none: no problems
	}{
		{
			name: "valid",
			rules: []Rule{
				{CustomerDomain: "pl.bigcustomer.example", Assignee: "anna.nowak@example.com"},
				{CustomerDomain: "bigcustomer.example", Team: "quality"},
				{Category: "transport_damage", Language: "de", Team: "vip"},
				{Category: "transport_damage", Team: "LOGISTICS"},
				{Language: "pl", Assignee: "PIOTR@example.com"},
				{Team: "logistics"},
			},
		},
		{name: "no rules"},
		{
			name:  "unknown assignee",
			rules: []Rule{{Assignee: "ghost@example.com"}},
			want:  []string{"rule 1: assignee ghost@example.com is not a staff member; fix: use the email of a staff member: anna.nowak@example.com, piotr@example.com"},
		},
		{
			name:  "a name where the address belongs",
			rules: []Rule{{Assignee: "Piotr Wisniewski"}},
			want:  []string{"rule 1: assignee Piotr Wisniewski is not a staff member; fix: use Piotr Wiśniewski's address piotr@example.com"},
		},
		{
			name:  "unknown team",
			rules: []Rule{{Category: "a", Team: "logistyka"}},
			want:  []string{"rule 1: team logistyka has no members; fix: add logistyka to some staff member's teams, or use one of: logistics, quality, vip"},
		},
		{
			name:  "both targets",
			rules: []Rule{{Assignee: "anna.nowak@example.com", Team: "logistics"}},
			want:  []string{"rule 1: names both assignee anna.nowak@example.com and team logistics; fix: keep one of them"},
		},
		{
			name:  "no target",
			rules: []Rule{{Category: "x"}, {Category: "y", Assignee: " ", Team: "\t"}},
			want: []string{
				"rule 1: names no assignee or team; fix: set assignee to a staff member's email or team to one of: logistics, quality, vip",
				"rule 2: names no assignee or team",
			},
		},
		{
			name:  "nobody in the team handles the language",
			rules: []Rule{{Language: "fr", Team: "vip"}},
			want:  []string{"rule 1: no member of team vip handles language fr; fix: add fr to the languages of a member of vip"},
		},
		{
			name:  "assignee does not handle the language",
			rules: []Rule{{Language: "de", Assignee: "ewa@example.com"}},
			want:  []string{"rule 1: assignee ewa@example.com does not handle language de (languages: pl, en)"},
		},
		{
			name:  "bad language and domain",
			rules: []Rule{{Category: "a", Language: "polish", CustomerDomain: "https://bigcustomer.example/", Team: "logistics"}},
			want: []string{
				`rule 1: language "polish" is not an ISO 639-1 code; fix: use two letters`,
				`rule 1: customer domain "https://bigcustomer.example/" is not a domain`,
			},
		},
		{
			name: "shadowed rules",
			rules: []Rule{
				{CustomerDomain: "bigcustomer.example", Team: "quality"},
				{CustomerDomain: "pl.bigcustomer.example", Language: "pl", Team: "logistics"},
				{Team: "logistics"},
				{Category: "x", Team: "logistics"},
			},
			want: []string{
				"rule 2: never applies: rule 1 (domain bigcustomer.example) matches every case it does; fix: move it before rule 1",
				"rule 4: never applies: rule 3 (any case) matches every case it does",
			},
		},
		{
			name: "every problem is reported, in rule order",
			rules: []Rule{
				{Assignee: "ghost@example.com"},
				{Team: "nobody"},
				{Assignee: "a@example.com", Team: "b"},
			},
			want: []string{
				"rule 1: assignee ghost",
				"rule 2: team nobody",
				"rule 2: never applies: rule 1 (any case)",
				"rule 3: names both",
				"rule 3: never applies: rule 1 (any case)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValidateRules(tt.rules, assignStaff())
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i+1, got[i], w)
				}
			}
		})
	}
	if got := ValidateRules([]Rule{{Team: "x"}}, nil); len(got) != 1 || !strings.Contains(got[0], "(none configured)") {
		t.Errorf("without staff: %q", got)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		in      string
		want    string   // email; "" when an error is expected
		wantErr []string // substrings of the error
	}{
		{in: "piotr@example.com", want: "piotr@example.com"},
		{in: "PIOTR@Example.COM", want: "piotr@example.com"},
		{in: "jan.kowalski@example.com", want: "Jan.Kowalski@Example.com"},
		{in: "Piotr <piotr@example.com>", want: "piotr@example.com"},
		{in: " ewa@example.com ", want: "ewa@example.com"},
		{in: "Piotr Wiśniewski", want: "piotr@example.com"},
		{in: "piotr wiśniewski", want: "piotr@example.com"},
		{in: "Piotr Wisniewski", want: "piotr@example.com"},
		{in: "Wisniewski", want: "piotr@example.com"},
		{in: "WIŚNIEWSKI", want: "piotr@example.com"},
		{in: "Wiśniewski  Piotr", want: "piotr@example.com"},
		{in: "Ewa Zielinska", want: "ewa@example.com"},
		{in: "Michal", want: "michal@example.com"},
		{in: "Michal Kowalczyk", want: "michal@example.com"},
		// NFC and NFD spellings of ś are the same name.
		{in: "Wis\u0301niewski", want: "piotr@example.com"},
		// A full name wins over a partial match of a longer one.
		{in: "Anna Nowak", want: "anna.nowak@example.com"},
		{in: "Anna Maria", want: "anna.lis@example.com"},
		{in: "Anna", wantErr: []string{`"Anna" is ambiguous`, "Anna Nowak <anna.nowak@example.com>", "Anna Maria Lis <anna.lis@example.com>"}},
		{in: "kowal", wantErr: []string{`no staff member is called "kowal"`, "Jan Kowalski <Jan.Kowalski@Example.com>"}},
		{in: "ghost@example.com", wantErr: []string{"ghost@example.com is not a staff member's address"}},
		{in: "Anna Kowalski", wantErr: []string{"no staff member is called"}},
		{in: "  ", wantErr: []string{"no name or address given"}},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.in, assignStaff())
		if tt.want != "" {
			if err != nil || got.Email != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %s", tt.in, got.Email, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("Resolve(%q) = %q, want an error", tt.in, got.Email)
			continue
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Resolve(%q): error %q lacks %q", tt.in, err, w)
			}
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Wiśniewski", "wisniewski"},
		{"ŁUKASZ Żółć", "lukasz zolc"},
		{"Gęślą jaźń", "gesla jazn"},
		{"Đorđe Østergaard", "dorde ostergaard"},
		{"Müller", "muller"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := foldName(tt.in); got != tt.want {
			t.Errorf("foldName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
