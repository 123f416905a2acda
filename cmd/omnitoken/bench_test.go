package main

import (
	"os/exec"
	"path/filepath"
	"testing"
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
// The target is omnitoken under 2× baseline. The identity provider must
// see one request in all: every run reads the stored token.
func BenchmarkTokenProcess(b *testing.B) {
	dir := b.TempDir()
	baseline := filepath.Join(dir, "baseline")
	if out, err := exec.Command("go", "build", "-o", baseline, "./testdata/baseline").CombinedOutput(); err != nil {
		b.Fatalf("build the baseline: %v\n%s", err, out)
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
	for _, c := range []struct {
		name string
		argv []string
	}{
		{"omnitoken", []string{bin, "--vault", e.vault, "token", "api"}},
		{"baseline", []string{baseline, e.vault, "api"}},
		{"true", []string{truePath}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := exec.Command(c.argv[0], c.argv[1:]...).Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if n := p.requests.Load(); n != 1 {
		b.Fatalf("the IdP saw %d requests, want 1", n)
	}
}
