package staff

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command is one command line of a staff mail.
type Command struct {
	// Name without '#', lower-case: status, decision, assign, category,
	// remedy, priority, merge or note.
	Name string
	// Arg is the validated argument: lower-case for the enumerated
	// commands, an upper-case case id for merge, the text as typed (spaces
	// collapsed) for assign and note.
	Arg string
	// Line is the 1-based line of the command in the text.
	Line int
}

// Parsed is what ParseCommands found in a staff mail.
type Parsed struct {
	// Commands in the order written, valid ones only.
	Commands []Command
	// Note: #note is present, so the whole mail stays internal. The note
	// is the #note command's Arg (if any) followed by Body.
	Note bool
	// Errors has one entry per bad line, e.g.
	// `line 2: "#status closed": want waiting, resolved, rejected or open`.
	Errors []string
	// Body is the text after the command block (the command lines and the
	// blank lines around them removed): what the customer may see. It is a
	// suffix of the text, byte for byte; the whole text when there are no
	// commands.
	Body string
}

// commandValues lists the allowed values of the enumerated commands, in the
// order error messages show them.
func commandValues(name string) []string {
	switch name {
	case "status":
		return []string{"waiting", "resolved", "rejected", "open"}
	case "decision":
		return []string{"accepted", "rejected", "partial"}
	case "category":
		return []string{"non_conformity", "guarantee", "withdrawal", "repair", "transport_damage", "missing_item", "billing", "other"}
	case "remedy":
		return []string{"repair", "replacement", "price_reduction", "refund", "none"}
	case "priority":
		return []string{"urgent", "high", "normal"}
	}
	return nil
}

func knownCommand(name string) bool {
	switch name {
	case "status", "decision", "category", "remedy", "priority", "merge", "assign", "note":
		return true
	}
	return false
}

// ParseCommands reads the commands at the top of a staff mail's text (its
// new text: quotes already removed). The command block is the leading
// lines whose first non-space character is '#', after optional blank
// lines; blank lines between command lines do not end it (otherwise a
// command typed after an empty line would be sent to the customer as
// text), the first other line does. A '#' line further down is plain text.
//
// Commands take the forms "#status resolved", "#status: resolved" and
// "#status=resolved" (Outlook users type colons); names and enumerated
// values are case-insensitive, and in values spaces and '-' may stand for
// '_' ("#remedy price reduction"). Every '#' line in the block must be a
// valid command: an unknown word ("#stauts"), a digit ("#123 is the
// order") or a bad value is reported in Errors rather than passed over,
// so that a typo is not mailed to the customer. A command given twice is
// an error (the first one stays). "#note" may carry text after it, which
// belongs to the internal note (Command.Arg). Lines may end in CRLF
// (RFC 5322 §2.3); signature separators ("-- ") are not special here.
func ParseCommands(text string) Parsed {
	var p Parsed
	first := map[string]int{} // name -> line of its first occurrence
	pos := 0                  // byte offset of the current line
	seen := false             // a '#' line was read: the block has begun
	for lineNo := 1; pos < len(text); lineNo++ {
		end := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if end >= 0 {
			next = pos + end + 1
		}
		line := strings.TrimSuffix(strings.TrimSuffix(text[pos:next], "\n"), "\r")
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // a byte order mark some clients leave
		}
		trimmed := strings.TrimFunc(line, unicode.IsSpace)
		switch {
		case trimmed == "":
			// Blank: part of the block (leading, between or after commands).
		case trimmed[0] == '#':
			seen = true
			cmd, errMsg := parseCommandLine(trimmed)
			switch {
			case errMsg != "":
				p.Errors = append(p.Errors, fmt.Sprintf("line %d: %q: %s", lineNo, shorten(trimmed), errMsg))
			case first[cmd.Name] != 0:
				p.Errors = append(p.Errors, fmt.Sprintf("line %d: %q: duplicate #%s (first on line %d)", lineNo, shorten(trimmed), cmd.Name, first[cmd.Name]))
			default:
				cmd.Line = lineNo
				first[cmd.Name] = lineNo
				p.Commands = append(p.Commands, cmd)
				if cmd.Name == "note" {
					p.Note = true
				}
			}
		default:
			if seen {
				p.Body = text[pos:]
			} else {
				p.Body = text
			}
			return p
		}
		pos = next
	}
	// Only commands and blank lines: nothing for the customer.
	if !seen {
		p.Body = text
	}
	return p
}

// parseCommandLine parses one trimmed line starting with '#'; it returns
// the command (without Line) or an error message.
func parseCommandLine(line string) (Command, string) {
	rest := line[1:]
	i := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == ':' || r == '=' })
	if i < 0 {
		i = len(rest)
	}
	name := strings.ToLower(rest[:i])
	if !knownCommand(name) {
		return Command{}, "unknown command"
	}
	arg := strings.TrimLeftFunc(rest[i:], unicode.IsSpace)
	if arg != "" && (arg[0] == ':' || arg[0] == '=') {
		arg = arg[1:]
	}
	arg = strings.Join(strings.Fields(arg), " ")
	cmd := Command{Name: name}

	switch name {
	case "note":
		cmd.Arg = arg
	case "assign":
		if arg == "" {
			return Command{}, "want a name or e-mail address"
		}
		cmd.Arg = arg
	case "merge":
		id := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]"))
		if !isCaseID(id) {
			return Command{}, "want a case id like CLM-2026-000123"
		}
		cmd.Arg = id
	default:
		values := commandValues(name)
		v := strings.ToLower(strings.Join(strings.FieldsFunc(arg, func(r rune) bool {
			return unicode.IsSpace(r) || r == '-' || r == '_'
		}), "_"))
		ok := false
		for _, x := range values {
			if v == x {
				ok = true
				break
			}
		}
		if !ok {
			return Command{}, "want " + strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
		}
		cmd.Arg = v
	}
	return cmd, ""
}

// isCaseID reports whether s looks like a case id: PREFIX-YYYY-N..., the
// prefix 2 to 10 of A-Z and 0-9, the sequence number 1 to 18 digits.
// It does not insist on caseref's six-digit padding: whether such a case
// exists is for the caller to find out.
func isCaseID(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) < 2 || len(parts[0]) > 10 || len(parts[1]) != 4 || len(parts[2]) < 1 || len(parts[2]) > 18 {
		return false
	}
	for _, c := range parts[0] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return isDigits(parts[1]) && isDigits(parts[2])
}

// shorten keeps error messages readable when a long line is quoted.
func shorten(s string) string {
	const limit = 60
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit]) + "…"
}
