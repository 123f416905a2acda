// Command benchreport runs omnitoken's benchmarks and scenarios and writes
// BENCHMARKS.md, each figure next to a baseline measured in the same run:
//
//	go run ./internal/benchreport            # writes BENCHMARKS.md
//	go run ./internal/benchreport -quick     # a smaller, faster run
//
// It runs `go test -bench` on the core and root packages and parses the
// output (rows A and B), runs the internal/loadtest scenarios in process
// (C, D, F, G) and as worker processes that are this program run again
// (E, and R on a redis-server it starts), and builds two small programs to compare binary sizes (H). It must
// be run from inside the module.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
)

func main() {
	// Rows E and R run this program as workers, over a file vault or Redis.
	loadtest.RunWorkerIfRequestedWith(redistest.Backend(nil))
	out := flag.String("out", "", "report file (default BENCHMARKS.md at the module root)")
	quick := flag.Bool("quick", false, "fewer repetitions and smaller scenarios, for a smoke run")
	count := flag.Int("count", 5, "rounds of the micro-benchmarks, each running every benchmark once")
	flag.Parse()
	if err := run(*out, *quick, *count); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// config is the size of one run.
type config struct {
	count        int           // rounds of the go benchmarks
	benchtime    string        // go test -benchtime for A
	pairedtime   string        // go test -benchtime for B's paired benchmark
	cycles       int           // D: refresh cycles
	aheadTTL     time.Duration // D: token lifetime in the refresh phase
	procs        int           // E: processes
	expiries     int           // E: expiries
	spreadN      int           // F: credentials
	scaleN       int           // G: credentials in the large vault
	jwtN         int           // G: credentials with JWT-sized tokens
	ttftReps     int           // G: openings per vault size
	baselineTime time.Duration // D: how long the cached path is measured
}

func run(out string, quick bool, count int) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "BENCHMARKS.md")
	}
	cfg := config{count: count, benchtime: "1s", pairedtime: "3s", cycles: 20, aheadTTL: 12 * time.Second, procs: 8, expiries: 20,
		spreadN: 1000, scaleN: 100_000, jwtN: 10_000, ttftReps: 21, baselineTime: 2 * time.Second}
	if quick {
		cfg = config{count: 1, benchtime: "300ms", pairedtime: "300ms", cycles: 5, aheadTTL: 12 * time.Second, procs: 4, expiries: 4,
			spreadN: 1000, scaleN: 10_000, jwtN: 2_000, ttftReps: 5, baselineTime: time.Second}
	}
	tmp, err := os.MkdirTemp("", "omnitoken-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	r := &report{}
	steps := []struct {
		name string
		f    func(context.Context, *report, string, string, config) error
	}{
		{"A: cached path", sectionA},
		{"B: authenticated request", sectionB},
		{"C: stampede", sectionC},
		{"D: refresh ahead", sectionD},
		{"E: processes", sectionE},
		{"F: spread", sectionF},
		{"G: scale", sectionG},
		{"H: binary size", sectionH},
		{"R: replicas on Redis", sectionR},
		{"CLI: omnitoken token process", sectionCLI},
	}
	for i, s := range steps {
		t := time.Now()
		fmt.Fprintf(os.Stderr, "benchreport: %s …\n", s.name)
		dir := filepath.Join(tmp, fmt.Sprint(i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := s.f(ctx, r, root, dir, cfg); err != nil {
			// A failed step is reported, not hidden, and the rest still run.
			r.failed(s.name, err)
		}
		fmt.Fprintf(os.Stderr, "benchreport: %s done in %s\n", s.name, time.Since(t).Round(100*time.Millisecond))
	}
	r.elapsed = time.Since(start)
	r.quick = quick
	r.cfg = cfg
	r.env = environment(ctx, root)
	if err := os.WriteFile(out, []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchreport: wrote %s in %s\n", out, r.elapsed.Round(time.Second))
	return nil
}

func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from inside the omnitoken module")
	}
	return filepath.Dir(mod), nil
}

// environment describes the machine, without paths.
func environment(ctx context.Context, root string) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	rev := "unknown"
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	if b, err := cmd.Output(); err == nil {
		rev = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %s/%s, %s, %d CPUs (GOMAXPROCS %d), commit %s",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), rev)
}
