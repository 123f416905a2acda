//go:build race

package vaulttest_test

const raceEnabled = true
