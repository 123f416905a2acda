package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkTokenProcess measures "omnitoken token NAME" with a valid
// stored token as a whole process (fork, exec, start-up, two small file
// reads, print), the way shell loops run it, against two baselines in the
// same run:
//
//   - baseline: testdata/baseline, a Go program linking only core,
//     storage and strategy/oauth2 that prints the same stored token
//     through a core.Manager;
//   - true: the smallest process there is.
//
// omnitoken-noplugins is the CLI built with -tags omnitoken_noplugins,
// which leaves out the plugin host (go-plugin, gRPC, protobuf): the
// difference is what plugin support costs every command at start-up.
//
// The target is omnitoken under 2× baseline. The identity provider must
// see one request in all: every run reads the stored token.
func BenchmarkTokenProcess(b *testing.B) {
	dir := b.TempDir()
	baseline := filepath.Join(dir, "baseline")
	if out, err := exec.Command("go", "build", "-o", baseline, "./testdata/baseline").CombinedOutput(); err != nil {
		b.Fatalf("build the baseline: %v\n%s", err, out)
	}
	lean := filepath.Join(dir, "omnitoken-noplugins")
	if out, err := exec.Command("go", "build", "-tags", "omnitoken_noplugins", "-o", lean, ".").CombinedOutput(); err != nil {
		b.Fatalf("build omnitoken -tags omnitoken_noplugins: %v\n%s", err, out)
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true on PATH")
	}
	e := newEnv(b)
	p := newIdP(b, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(b, 0)
	want := canaryAccess + "1\n"
	if r := e.run("", []string{canaryAccess + "1"}, "token", "api"); r.stdout != want {
		b.Fatalf("token = %q", r.stdout)
	}
	if out, err := exec.Command(baseline, e.vault, "api").Output(); err != nil || string(out) != want {
		b.Fatalf("baseline = %q, %v", out, err)
	}
	cmds := []struct {
		name string
		argv []string
		took []time.Duration
	}{
		{name: "omnitoken", argv: []string{bin, "--vault", e.vault, "token", "api"}},
		{name: "omnitoken-noplugins", argv: []string{lean, "--vault", e.vault, "token", "api"}},
		{name: "baseline", argv: []string{baseline, e.vault, "api"}},
		{name: "true", argv: []string{truePath}},
	}
	// Each iteration runs every command once, interleaved, so that a
	// machine busy with other work slows them alike; each is reported as
	// its median. ns/op is the sum of one run of each.
	for b.Loop() {
		for i := range cmds {
			start := time.Now()
			if err := exec.Command(cmds[i].argv[0], cmds[i].argv[1:]...).Run(); err != nil {
				b.Fatalf("%s: %v", cmds[i].name, err)
			}
			cmds[i].took = append(cmds[i].took, time.Since(start))
		}
	}
	med := map[string]float64{}
	for _, c := range cmds {
		slices.Sort(c.took)
		med[c.name] = float64(c.took[len(c.took)/2].Microseconds())
		b.ReportMetric(med[c.name], c.name+"-us")
	}
	b.ReportMetric(med["omnitoken"]/med["baseline"], "omnitoken/baseline")
	b.ReportMetric(med["omnitoken-noplugins"]/med["baseline"], "noplugins/baseline")
	if n := p.requests.Load(); n != 1 {
		b.Fatalf("the IdP saw %d requests, want 1", n)
	}
}
