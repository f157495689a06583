package staff

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Member is a staff member.
type Member struct {
	Name, Email string
	Teams       []string
	// Languages are the languages the member handles (ISO 639-1, e.g. "pl");
	// empty means any. Round-robin skips a member for a case in a language
	// they do not list.
	Languages []string
}

// Rule assigns matching cases. Empty match fields match anything; all set
// fields must match. Rules are numbered from 1, as a person counts them in
// the configuration, in decisions and problems alike.
type Rule struct {
	Category string // case category, e.g. transport_damage
	Language string // ISO 639-1
	// CustomerDomain matches the domain of the customer's address or any
	// subdomain of it: "bigcustomer.example" matches jan@bigcustomer.example
	// and jan@pl.bigcustomer.example, not jan@notbigcustomer.example.
	CustomerDomain string

	// Exactly one target:
	Assignee string // a member's email
	Team     string // a team name: round-robin among its members
}

// Facts are what the rules look at in a new case.
type Facts struct {
	Category, Language string
	Customer           string // the customer's address
}

// Decision is the outcome of Assign.
type Decision struct {
	// Assignee is the member's email as configured; "" when the case is
	// left to the team address.
	Assignee string
	// Team is the rule's team, also when nobody in it could take the case,
	// spelled as the first of its members lists it (the key for last);
	// "" for a rule naming a person and when no rule matched.
	Team string
	// Reason says why, for the assignment mail and the case history, e.g.
	// "rule 2 (category transport_damage): team logistics, round-robin
	// member 3 of 4".
	Reason string
}

// ReasonNoRule is the reason of a case no rule matched.
const ReasonNoRule = "no rule matched: left to the team"

// Assign picks the first rule matching f. A rule naming a team takes the
// team's member after last(team), the previous assignee in that team from
// the caller's store ("" or someone no longer in the team starts with the
// first), in the order members lists them, wrapping round. Members who
// declare Languages without f.Language are skipped; when that skips
// everyone, the case is left to the team address rather than given to
// someone who cannot read it. A matching rule whose target is unusable
// (see ValidateRules, which should have rejected it at startup) also leaves
// the case to the team, saying why, rather than falling through to a later
// rule: an assignment nobody configured would be harder to explain than an
// unassigned case.
//
// last may be nil, which is the same as always returning "".
func Assign(f Facts, rules []Rule, members []Member, last func(team string) string) Decision {
	for i, r := range rules {
		if !r.matches(f) {
			continue
		}
		prefix := fmt.Sprintf("rule %d (%s): ", i+1, r.describe())
		team := strings.TrimSpace(r.Team)
		assignee := strings.TrimSpace(r.Assignee)
		switch {
		case assignee != "" && team != "":
			return Decision{Team: team, Reason: prefix + "names both an assignee and a team: left to the team"}
		case assignee == "" && team == "":
			return Decision{Reason: prefix + "names no assignee or team: left to the team"}
		case assignee != "":
			m, ok := memberByEmail(assignee, members)
			if !ok {
				return Decision{Reason: prefix + fmt.Sprintf("assignee %s is not a staff member: left to the team", assignee)}
			}
			return Decision{Assignee: m.Email, Reason: prefix + m.Email + " (" + m.Name + ")"}
		}
		// The pointer is kept under one spelling of the team, whatever
		// the case each rule writes it in, so that two rules for one team
		// share a rotation.
		in := membersOf(team, members)
		if len(in) > 0 {
			team = teamSpelling(team, in[0])
		}
		prev := ""
		if last != nil {
			prev = last(team)
		}
		return pickInTeam(prefix, team, in, f.Language, prev)
	}
	return Decision{Reason: ReasonNoRule}
}

// pickInTeam picks the member of team after prev who handles lang.
func pickInTeam(prefix, team string, in []Member, lang, prev string) Decision {
	d := Decision{Team: team}
	if len(in) == 0 {
		d.Reason = prefix + fmt.Sprintf("team %s has no members: left to the team", team)
		return d
	}
	start := slices.IndexFunc(in, func(m Member) bool { return strings.EqualFold(m.Email, strings.TrimSpace(prev)) })
	skipped := 0
	for k := 1; k <= len(in); k++ {
		i := (start + k) % len(in)
		if !memberHandles(in[i], lang) {
			skipped++
			continue
		}
		d.Assignee = in[i].Email
		d.Reason = prefix + fmt.Sprintf("team %s, round-robin member %d of %d", team, i+1, len(in))
		if skipped > 0 {
			d.Reason += fmt.Sprintf(", skipping %d not handling %s", skipped, primaryLang(lang))
		}
		return d
	}
	d.Reason = prefix + fmt.Sprintf("team %s: no member handles language %s: left to the team", team, primaryLang(lang))
	return d
}

// matches reports whether every match field r sets fits f.
func (r Rule) matches(f Facts) bool {
	if c := strings.TrimSpace(r.Category); c != "" && !strings.EqualFold(c, strings.TrimSpace(f.Category)) {
		return false
	}
	if l := primaryLang(r.Language); l != "" && l != primaryLang(f.Language) {
		return false
	}
	if d := ruleDomain(r.CustomerDomain); d != "" && !withinDomain(customerDomain(f.Customer), d) {
		return false
	}
	return true
}

// describe names r's conditions for a reason: "category transport_damage,
// language de", or "any case" for a catch-all.
func (r Rule) describe() string {
	var parts []string
	if c := strings.TrimSpace(r.Category); c != "" {
		parts = append(parts, "category "+c)
	}
	if l := primaryLang(r.Language); l != "" {
		parts = append(parts, "language "+l)
	}
	if d := ruleDomain(r.CustomerDomain); d != "" {
		parts = append(parts, "domain "+d)
	}
	if len(parts) == 0 {
		return "any case"
	}
	return strings.Join(parts, ", ")
}

// primaryLang reduces a language tag to its primary subtag in lower case, so
// that "pl-PL", "PL" and "pl_PL" from a detector or a mail header match a
// rule's "pl".
func primaryLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	return s
}

// ruleDomain puts a rule's domain in the form domainOf returns. People
// write "@example.com" or "*.example.com" meaning the same as example.com.
func ruleDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "*")
	s = strings.TrimLeft(s, "@.")
	return strings.TrimSuffix(s, ".")
}

// customerDomain returns the lower-case domain of an address, or "" when it has
// none. The domain follows the last "@": a quoted local part may hold one.
func customerDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	d := strings.ToLower(strings.TrimSpace(strings.TrimRight(addr[i+1:], "> \t")))
	return strings.TrimSuffix(d, ".")
}

// withinDomain reports whether domain is base or a subdomain of it. The dot
// matters: notexample.com is not in example.com.
func withinDomain(domain, base string) bool {
	return domain != "" && (domain == base || strings.HasSuffix(domain, "."+base))
}

// memberHandles reports whether m takes cases in lang: everyone does when the
// language is unknown, and a member who lists no languages takes any.
func memberHandles(m Member, lang string) bool {
	lang = primaryLang(lang)
	if lang == "" || len(m.Languages) == 0 {
		return true
	}
	return slices.ContainsFunc(m.Languages, func(l string) bool { return primaryLang(l) == lang })
}

// membersOf returns the members of team in the order given. Team names
// are compared without regard to case, as people type them.
func membersOf(team string, members []Member) []Member {
	var in []Member
	for _, m := range members {
		if slices.ContainsFunc(m.Teams, func(t string) bool { return strings.EqualFold(strings.TrimSpace(t), team) }) {
			in = append(in, m)
		}
	}
	return in
}

// teamSpelling returns team as member m writes it in their Teams.
func teamSpelling(team string, m Member) string {
	for _, t := range m.Teams {
		if t = strings.TrimSpace(t); strings.EqualFold(t, team) {
			return t
		}
	}
	return team
}

// memberByEmail finds the member with address email, ignoring case: mail
// systems do, whatever RFC 5321 allows for the local part.
func memberByEmail(email string, members []Member) (Member, bool) {
	email = strings.TrimSpace(email)
	i := slices.IndexFunc(members, func(m Member) bool { return strings.EqualFold(strings.TrimSpace(m.Email), email) })
	if i < 0 {
		return Member{}, false
	}
	return members[i], true
}

// ValidateRules checks rules against members and returns every problem
// found, each naming the rule (numbered from 1) and the fix, in the form
// "rule 2: team \"logistyka\" has no members; fix: ...". It catches what
// would make Assign leave cases unassigned or never reach a rule: a rule
// with no target or two, an assignee who is not staff, a team no member is
// in, a language nobody in the team (or the assignee) handles, a malformed
// language or domain, and a rule an earlier one always wins over.
func ValidateRules(rules []Rule, members []Member) []string {
	var problems []string
	add := func(i int, msg, fix string) {
		problems = append(problems, fmt.Sprintf("rule %d: %s; fix: %s", i+1, msg, fix))
	}
	teams := allTeams(members)
	for i, r := range rules {
		assignee, team := strings.TrimSpace(r.Assignee), strings.TrimSpace(r.Team)
		lang := primaryLang(r.Language)
		if l := strings.TrimSpace(r.Language); l != "" && !isTwoLetterLang(lang) {
			add(i, fmt.Sprintf("language %q is not an ISO 639-1 code", l), "use two letters, e.g. pl or en")
		}
		if d := strings.TrimSpace(r.CustomerDomain); d != "" && !plausibleDomain(ruleDomain(d)) {
			add(i, fmt.Sprintf("customer domain %q is not a domain", d), "write the part after @, e.g. bigcustomer.example")
		}

		switch {
		case assignee != "" && team != "":
			add(i, fmt.Sprintf("names both assignee %s and team %s", assignee, team), "keep one of them")
		case assignee == "" && team == "":
			add(i, "names no assignee or team", "set assignee to a staff member's email or team to one of: "+joinOrNone(teams))
		case assignee != "":
			m, ok := memberByEmail(assignee, members)
			if !ok {
				add(i, fmt.Sprintf("assignee %s is not a staff member", assignee), assigneeFix(assignee, members))
				break
			}
			if lang != "" && !memberHandles(m, lang) {
				add(i, fmt.Sprintf("assignee %s does not handle language %s (languages: %s)", m.Email, lang, strings.Join(m.Languages, ", ")),
					fmt.Sprintf("add %s to their languages or assign the rule to someone else", lang))
			}
		default:
			in := membersOf(team, members)
			if len(in) == 0 {
				add(i, fmt.Sprintf("team %s has no members", team),
					fmt.Sprintf("add %s to some staff member's teams, or use one of: %s", team, joinOrNone(teams)))
				break
			}
			if lang != "" && !slices.ContainsFunc(in, func(m Member) bool { return memberHandles(m, lang) }) {
				add(i, fmt.Sprintf("no member of team %s handles language %s", team, lang),
					fmt.Sprintf("add %s to the languages of a member of %s, or use another team", lang, team))
			}
		}

		for j := range i {
			if rules[j].covers(r) {
				add(i, fmt.Sprintf("never applies: rule %d (%s) matches every case it does", j+1, rules[j].describe()),
					fmt.Sprintf("move it before rule %d, or remove it", j+1))
				break
			}
		}
	}
	return problems
}

// covers reports whether r matches every case that s matches, so that s
// after r never applies: each condition r sets, s sets at least as narrowly.
func (r Rule) covers(s Rule) bool {
	if c := strings.TrimSpace(r.Category); c != "" && !strings.EqualFold(c, strings.TrimSpace(s.Category)) {
		return false
	}
	if l := primaryLang(r.Language); l != "" && l != primaryLang(s.Language) {
		return false
	}
	if d := ruleDomain(r.CustomerDomain); d != "" && !withinDomain(ruleDomain(s.CustomerDomain), d) {
		return false
	}
	return true
}

// assigneeFix suggests the email of the member a mistyped assignee most
// likely means: people write a name where the configuration wants an
// address.
func assigneeFix(assignee string, members []Member) string {
	if m, err := Resolve(assignee, members); err == nil {
		return fmt.Sprintf("use %s's address %s", m.Name, m.Email)
	}
	emails := make([]string, 0, len(members))
	for _, m := range members {
		emails = append(emails, m.Email)
	}
	return "use the email of a staff member: " + joinOrNone(emails)
}

// allTeams returns the teams members are in, sorted, each once whatever
// its case.
func allTeams(members []Member) []string {
	seen := map[string]string{}
	for _, m := range members {
		for _, t := range m.Teams {
			if t = strings.TrimSpace(t); t != "" {
				if _, ok := seen[strings.ToLower(t)]; !ok {
					seen[strings.ToLower(t)] = t
				}
			}
		}
	}
	return slices.Sorted(maps.Values(seen))
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "(none configured)"
	}
	return strings.Join(s, ", ")
}

// isTwoLetterLang reports whether s is two lower-case letters.
func isTwoLetterLang(s string) bool {
	return len(s) == 2 && 'a' <= s[0] && s[0] <= 'z' && 'a' <= s[1] && s[1] <= 'z'
}

// plausibleDomain is a plausibility check, not RFC 1035: it catches an address or
// a URL where a domain belongs.
func plausibleDomain(s string) bool {
	if s == "" || strings.ContainsAny(s, "@/: \t") || strings.Contains(s, "..") {
		return false
	}
	return true
}

// Resolve finds a member by email or by name, as a specialist writes it
// after #assign. An argument with "@" is an address ("Anna Nowak
// <anna@example.com>" works too) compared without regard to case. Anything
// else is a name compared without regard to case, diacritics or the order
// of words: "wisniewski", "Piotr Wiśniewski" and "Wiśniewski Piotr" all
// find Piotr Wiśniewski, since staff type on keyboards and phones without
// Polish letters. A full name wins; otherwise every word given must be a
// word of the name, so "Anna" finds the only Anna, and two Annas are an
// error listing both. An unknown name is an error listing the staff.
func Resolve(nameOrEmail string, members []Member) (Member, error) {
	q := strings.TrimSpace(nameOrEmail)
	if q == "" {
		return Member{}, fmt.Errorf("no name or address given; staff: %s", joinOrNone(memberList(members)))
	}
	if strings.Contains(q, "@") {
		if a, err := mail.ParseAddress(q); err == nil {
			q = a.Address
		}
		if m, ok := memberByEmail(q, members); ok {
			return m, nil
		}
		return Member{}, fmt.Errorf("%s is not a staff member's address; staff: %s", q, joinOrNone(memberList(members)))
	}

	words := strings.Fields(foldName(q))
	var exact, partial []Member
	for _, m := range members {
		mw := strings.Fields(foldName(m.Name))
		switch {
		case len(mw) == 0:
		case slices.Equal(words, mw):
			exact = append(exact, m)
		case hasAllWords(mw, words):
			partial = append(partial, m)
		}
	}
	found := exact
	if len(found) == 0 {
		found = partial
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Member{}, fmt.Errorf("no staff member is called %q; staff: %s", q, joinOrNone(memberList(members)))
	}
	cands := make([]string, len(found))
	for i, m := range found {
		cands[i] = m.Name + " <" + m.Email + ">"
	}
	return Member{}, fmt.Errorf("%q is ambiguous: it may be %s; give the full name or the address", q, strings.Join(cands, " or "))
}

// hasAllWords reports whether every word of want is among have.
func hasAllWords(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// memberList lists members as "Anna Nowak <anna@example.com>" for errors.
func memberList(members []Member) []string {
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = m.Name + " <" + m.Email + ">"
	}
	return out
}

// foldName lower-cases s and strips its diacritics: decomposing (NFD) splits
// "ś" into "s" and a combining accent, which is then dropped. Letters whose
// stroke is not a combining mark ("ł", "đ", "ø") do not decompose, so they
// are mapped by hand; "ł" is the one that matters for Polish names.
// The transformer is built per call: transformers keep state and are not
// safe to share between goroutines.
func foldName(s string) string {
	t := transform.Chain(
		norm.NFD,
		runes.Remove(runes.In(unicode.Mn)),
		runes.Map(func(r rune) rune {
			switch r {
			case 'ł', 'Ł':
				return 'l'
			case 'đ', 'Đ':
				return 'd'
			case 'ø', 'Ø':
				return 'o'
			}
			return unicode.ToLower(r)
		}),
		norm.NFC,
	)
	out, _, err := transform.String(t, s)
	if err != nil {
		// The chain cannot fail on a Go string; lower-casing alone is
		// still a usable comparison if it ever does.
		return strings.ToLower(s)
	}
	return out
}
