//go:build race

package reliability_test

// raceEnabled: the test binary (not claimsd, which Build compiles without
// it) runs with the race detector, which slows the in-process raw fetch.
const raceEnabled = true
