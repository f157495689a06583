//go:build reliability

package reliability_test

import "time"

// long is the suite as the issue states it (make reliability): 20 crash
// rounds of 1,000 complaints, a 10,000-message backlog, a store of a
// million cases, each fuzzer for FuzzTime.
var sizes = suiteSizes{
	Name:            "long",
	CrashRounds:     20,
	CrashComplaints: 1000,
	CrashKills:      3,
	OutageMessages:  1000,
	Backlog:         10_000,
	Cases:           1_000_000,
	CasesDue:        1_000,
	FuzzTime:        30 * time.Second,
	BigMessageMB:    50,
	Parts:           10_000,
}
