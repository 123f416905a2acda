package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
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

// goBench runs `go test -run '^$' -bench re -cpu cpus -count count pkg` in
// dir and parses its output.
func goBench(ctx context.Context, dir, pkg, re, cpus string, count int, extra ...string) (benchSet, error) {
	args := append([]string{"test", "-run", "^$", "-bench", re, "-cpu", cpus, "-count", strconv.Itoa(count)}, extra...)
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String() + "\n" + lastLines(out.String(), 5))
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, firstLine(msg))
	}
	return parseBench(out.String()), nil
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
	var vs []float64
	for _, x := range s[name][cpu] {
		if v, ok := x.metrics[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	sort.Float64s(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
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
