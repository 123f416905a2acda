package main

import (
	"context"
	"fmt"
	"strings"
)

// sectionCLI: "omnitoken token NAME" as a whole process, against a Go
// program linking only core, storage and strategy/oauth2, and true.
func sectionCLI(ctx context.Context, r *report, root, _ string, cfg config) error {
	runs := "200x"
	if r.quick || cfg.count < 3 {
		runs = "50x"
	}
	set, err := goBench(ctx, root, "./cmd/omnitoken/", "^BenchmarkTokenProcess$", "2", cfg.count, "-benchtime", runs)
	if err != nil {
		return err
	}
	const name = "BenchmarkTokenProcess"
	get := func(unit string) (float64, error) {
		v, ok := set.median(name, 2, unit)
		if !ok {
			return 0, fmt.Errorf("%s: %s missing from the output", name, unit)
		}
		return v, nil
	}
	var v [6]float64
	for i, unit := range []string{"omnitoken-us", "omnitoken-noplugins-us", "baseline-us", "true-us", "omnitoken/baseline", "noplugins/baseline"} {
		if v[i], err = get(unit); err != nil {
			return err
		}
	}
	ratio := v[4]
	var b strings.Builder
	fmt.Fprintf(&b, "`omnitoken token NAME` with a valid stored token, run as a whole process (fork, exec, start-up, two small file reads, print), %s runs of each command interleaved in one benchmark, median per command; medians of %d rounds. Baseline: `cmd/omnitoken/testdata/baseline`, a Go program linking only `core`, `storage` and `strategy/oauth2` that prints the same stored token through a `core.Manager`. `omnitoken-noplugins` is the CLI built with `-tags omnitoken_noplugins`, without the plugin host (go-plugin, gRPC, protobuf).\n\n", strings.TrimSuffix(runs, "x"), cfg.count)
	b.WriteString("| Process | Median | Ratio to baseline |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| omnitoken token | %.2f ms | %.2f× |\n", v[0]/1000, ratio)
	fmt.Fprintf(&b, "| omnitoken token, -tags omnitoken_noplugins | %.2f ms | %.2f× |\n", v[1]/1000, v[5])
	fmt.Fprintf(&b, "| baseline (core, storage, strategy/oauth2) | %.2f ms | 1× |\n", v[2]/1000)
	fmt.Fprintf(&b, "| true | %.2f ms | %.2f× |\n", v[3]/1000, v[3]/v[2])
	if ratio >= 2 {
		r.miss(fmt.Sprintf("CLI: omnitoken token is %.2f× the baseline (target < 2×); runs %s against %s µs.",
			ratio, nums(set.values(name, 2, "omnitoken-us")), nums(set.values(name, 2, "baseline-us"))))
	}
	r.add(row{"CLI", "omnitoken token < 2× a core+storage+oauth2 program", fmt.Sprintf("%.2f ms = %.2f×", v[0]/1000, ratio), fmt.Sprintf("baseline %.2f ms; true %.2f ms", v[2]/1000, v[3]/1000), yes(ratio < 2)})
	r.section("CLI. omnitoken token as a process", b.String())
	return nil
}
