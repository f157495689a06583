//go:build !reliability

package reliability_test

// short is the size of the suite in every `go test ./...` (CI): each
// scenario once, small. `go test -tags reliability` runs the long one.
var sizes = suiteSizes{
	Name:            "short",
	CrashRounds:     2,
	CrashComplaints: 200,
	CrashKills:      3,
	OutageMessages:  300,
	Backlog:         2_000,
	Cases:           10_000,
	CasesDue:        100,
	FuzzTime:        0,
	BigMessageMB:    50,
	Parts:           10_000,
}
