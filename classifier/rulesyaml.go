package classifier

import _ "embed"

//go:embed rules.yaml
var defaultRulesYAML []byte

// DefaultRulesYAML returns the built-in rules file, for `claimsd
// classifier rules` (a starting point for classifier.rules_file).
func DefaultRulesYAML() []byte { return append([]byte(nil), defaultRulesYAML...) }
