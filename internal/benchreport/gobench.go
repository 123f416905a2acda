package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// sample is one line of `go test -bench` output.
type sample struct {
	metrics map[string]float64 // by unit: "ns/op", "allocs/op", …
}

// benchSet holds samples by benchmark name, then by -cpu value.
type benchSet map[string]map[int][]sample

// goBench builds the test binary of pkg (a path relative to dir) and runs
// the benchmarks matching re at each -cpu value in count rounds, each round
// running every benchmark once, in the package directory as go test does.
// extra holds more go test flags, such as "-benchtime", "3s".
//
// Rounds interleave the benchmarks, where `go test -count` runs each one
// count times in a row: a machine that slows down for some seconds, as a
// shared one does after a burst of work, then slows both sides of a ratio
// within a round, and ratio pairs them round by round.
func goBench(ctx context.Context, dir, pkg, re, cpus string, count int, extra ...string) (benchSet, error) {
	tmp, err := os.MkdirTemp("", "omnitoken-gobench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, pkg)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go test -c %s: %w: %s", pkg, err, firstLine(string(out)))
	}
	args := []string{"-test.run", "^$", "-test.bench", re, "-test.cpu", cpus, "-test.count", "1"}
	for _, a := range extra {
		if strings.HasPrefix(a, "-") {
			a = "-test." + strings.TrimLeft(a, "-")
		}
		args = append(args, a)
	}
	var all strings.Builder
	for range count {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = filepath.Join(dir, pkg)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(errb.String() + "\n" + lastLines(out.String(), 5))
			return nil, fmt.Errorf("%s %s: %w: %s", pkg, strings.Join(args, " "), err, firstLine(msg))
		}
		all.WriteString(out.String())
	}
	return parseBench(all.String()), nil
}

func parseBench(out string) benchSet {
	set := benchSet{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name, cpu := f[0], 1
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if n, err := strconv.Atoi(name[i+1:]); err == nil {
				name, cpu = name[:i], n
			}
		}
		s := sample{metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				s.metrics[f[i+1]] = v
			}
		}
		if set[name] == nil {
			set[name] = map[int][]sample{}
		}
		set[name][cpu] = append(set[name][cpu], s)
	}
	return set
}

// median returns the median of the unit over the samples of name at cpu,
// and whether there were any.
func (s benchSet) median(name string, cpu int, unit string) (float64, bool) {
	return medianOf(s.values(name, cpu, unit))
}

// medianOf returns the median of vs, which it sorts, and whether vs has
// any values.
func medianOf(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	sort.Float64s(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

// ratio returns the median over rounds of a's unit divided by b's, pairing
// the samples of both by run order (goBench's rounds), and whether there
// were any pairs.
func (s benchSet) ratio(a, b string, cpu int, unit string) (float64, bool) {
	va, vb := s.values(a, cpu, unit), s.values(b, cpu, unit)
	rs := make([]float64, min(len(va), len(vb)))
	for i := range rs {
		rs[i] = va[i] / vb[i]
	}
	return medianOf(rs)
}

// maxOf returns the largest value of the unit over the samples.
func (s benchSet) maxOf(name string, cpu int, unit string) float64 {
	m := 0.0
	for _, x := range s[name][cpu] {
		m = max(m, x.metrics[unit])
	}
	return m
}

// values returns every value of the unit, in run order.
func (s benchSet) values(name string, cpu int, unit string) []float64 {
	var vs []float64
	for _, x := range s[name][cpu] {
		if v, ok := x.metrics[unit]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
