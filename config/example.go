package config

import _ "embed"

// exampleYAML is example.yaml, embedded at build time. It is never modified;
// Example hands out copies.
//
//go:embed example.yaml
var exampleYAML string

// Example returns a complete, commented example configuration with every
// key. Each call returns a new copy.
func Example() []byte { return []byte(exampleYAML) }
