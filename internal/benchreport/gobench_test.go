package main

import "testing"

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/plexusone/omnitoken/core
BenchmarkCachedToken          	35557156	        34.58 ns/op	       0 B/op	       0 allocs/op
BenchmarkCachedToken          	35073046	        35.65 ns/op	       0 B/op	       0 allocs/op
BenchmarkCachedToken          	35073046	        36.00 ns/op	       0 B/op	       1 allocs/op
BenchmarkCachedToken-2        	67642258	        17.42 ns/op	       0 B/op	       0 allocs/op
BenchmarkGetClientPaired-2    	   22011	     54514 ns/op	     26825 bare-ns/req	     27588 client-ns/req	         2.843 overhead-%	   11837 B/op	     135 allocs/op
PASS
ok  	github.com/plexusone/omnitoken/core	10.218s
`

func TestParseBench(t *testing.T) {
	set := parseBench(sampleOutput)
	if got, ok := set.median("BenchmarkCachedToken", 1, "ns/op"); !ok || got != 35.65 {
		t.Errorf("median at -cpu 1 = %v, %v; want 35.65", got, ok)
	}
	if got := set.maxOf("BenchmarkCachedToken", 1, "allocs/op"); got != 1 {
		t.Errorf("worst allocs = %v, want 1", got)
	}
	if got, ok := set.median("BenchmarkCachedToken", 2, "ns/op"); !ok || got != 17.42 {
		t.Errorf("median at -cpu 2 = %v, %v; want 17.42", got, ok)
	}
	if got, ok := set.median("BenchmarkGetClientPaired", 2, "overhead-%"); !ok || got != 2.843 {
		t.Errorf("custom metric = %v, %v; want 2.843", got, ok)
	}
	if _, ok := set.median("BenchmarkCachedToken", 4, "ns/op"); ok {
		t.Error("a -cpu value that did not run has a median")
	}
	set["X"] = map[int][]sample{1: {{metrics: map[string]float64{"ns/op": 1}}, {metrics: map[string]float64{"ns/op": 3}}}}
	if got, _ := set.median("X", 1, "ns/op"); got != 2 {
		t.Errorf("even median = %v, want 2", got)
	}
}

// ratio divides two benchmarks round by round and takes the median of the
// quotients.
func TestRatioPairsRounds(t *testing.T) {
	ns := func(vs ...float64) []sample {
		s := make([]sample, len(vs))
		for i, v := range vs {
			s[i] = sample{metrics: map[string]float64{"ns/op": v}}
		}
		return s
	}
	set := benchSet{
		"A": {1: ns(10, 10, 20, 20, 20)},
		"B": {1: ns(10, 10, 20, 20, 20), 2: ns(1)},
	}
	if got, ok := set.ratio("A", "B", 1, "ns/op"); !ok || got != 1 {
		t.Errorf("ratio = %v, %v; want 1", got, ok)
	}
	set["B"][1] = ns(20, 20, 10, 10, 10) // the same runs, B's rounds reversed
	if got, _ := set.ratio("A", "B", 1, "ns/op"); got != 2 {
		t.Errorf("ratio with B's slow rounds apart from A's = %v, want 2", got)
	}
	if _, ok := set.ratio("A", "B", 2, "ns/op"); ok {
		t.Error("a ratio with no pairs")
	}
}
