//go:build !race

package mutanttest

// RaceEnabled reports whether the binary was built with -race.
const RaceEnabled = false
