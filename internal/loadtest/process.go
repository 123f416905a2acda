package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// Environment of a worker process.
const (
	envWorker = "OMNITOKEN_LOADTEST_WORKER" // "1" makes the process a worker
	envDir    = "OMNITOKEN_LOADTEST_DIR"    // the file vault's directory
	envPeriod = "OMNITOKEN_LOADTEST_PERIOD" // pause between Token calls
)

// WorkerReport is what one worker process did, as it reported on exit.
type WorkerReport struct {
	// Calls is the Token calls made.
	Calls int `json:"calls"`
	// Errors is the Token calls that failed before the worker was told to
	// stop.
	Errors int `json:"errors"`
	// Expired is the tokens handed out after their expiry.
	Expired int `json:"expired"`
	// Issued is the tokens this process obtained from the endpoint.
	Issued int `json:"issued"`
	// Loaded is the newer tokens this process read from the vault,
	// obtained by another process.
	Loaded int `json:"loaded"`
	// FirstError describes the first failure, if any.
	FirstError string `json:"firstError,omitempty"`
}

// RunWorkerIfRequested turns the process into a Processes worker, and
// exits, when the environment asks for one; otherwise it returns at once.
// Call it first thing in main, or in TestMain before anything else.
func RunWorkerIfRequested() {
	if os.Getenv(envWorker) != "1" {
		return
	}
	if err := runWorker(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest worker:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// runWorker opens the vault, says "ready", waits for "go" on stdin, then
// calls Token every period until stdin closes. It writes "issued <gen>"
// for each token it obtains and a final "report <json>".
func runWorker(stdin io.Reader, stdout io.Writer) error {
	dir := os.Getenv(envDir)
	period, err := time.ParseDuration(os.Getenv(envPeriod))
	if err != nil || period <= 0 {
		return fmt.Errorf("loadtest: worker: bad %s", envPeriod)
	}
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		return err
	}
	defer fv.Close()
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		return err
	}
	var outMu sync.Mutex
	say := func(format string, a ...any) {
		outMu.Lock()
		fmt.Fprintf(stdout, format+"\n", a...)
		outMu.Unlock()
	}
	var rep WorkerReport
	var repMu sync.Mutex
	m, err := core.New(core.Options{
		Store:             st,
		Strategies:        []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true})},
		BackgroundRefresh: true,
		Locker:            fv.Locker(),
		OnEvent: func(ev core.Event) {
			switch ev.Kind {
			case core.EventTokenIssued:
				repMu.Lock()
				rep.Issued++
				repMu.Unlock()
				say("issued %d", ev.Generation)
			case core.EventTokenLoaded:
				repMu.Lock()
				rep.Loaded++
				repMu.Unlock()
			}
		},
	})
	if err != nil {
		return err
	}

	in := bufio.NewReader(stdin)
	say("ready")
	if line, err := in.ReadString('\n'); err != nil || strings.TrimSpace(line) != "go" {
		_ = m.Close()
		return errors.New("loadtest: worker: no \"go\" on stdin")
	}
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, in) // returns when stdin closes
		stop()
	}()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for ctx.Err() == nil {
		tok, err := m.Token(ctx, CredentialName)
		repMu.Lock()
		rep.Calls++
		switch {
		case err != nil && ctx.Err() == nil:
			rep.Errors++
			if rep.FirstError == "" {
				rep.FirstError = err.Error()
			}
		case err == nil && tok.Expired(time.Now()):
			rep.Expired++
		}
		repMu.Unlock()
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	if err := m.Close(); err != nil {
		return err
	}
	repMu.Lock()
	data, _ := json.Marshal(rep)
	repMu.Unlock()
	say("report %s", data)
	return nil
}

// ProcOptions configures Processes. Zero fields take the defaults shown.
type ProcOptions struct {
	// Dir is the shared file vault's directory. Required.
	Dir string
	// Procs is the number of worker processes. Default 8.
	Procs int
	// Expiries is the number of refreshes to run for. Default 20.
	Expiries int
	// TTL is the token lifetime, in whole seconds. Default 1 s.
	TTL time.Duration
	// Period is each worker's pause between Token calls. Default 2 ms.
	Period time.Duration
	// KillFirst starts one worker alone, lets it take the lock and send
	// its first token request, which the IdP holds, releases the others
	// (who then wait on the lock), and SIGKILLs it.
	KillFirst bool
	// Command returns the command that starts this program again; the
	// worker environment is added to it. The program must call
	// RunWorkerIfRequested first. Default: os.Executable with no
	// arguments.
	Command func() (*exec.Cmd, error)
}

// ProcResult is the outcome of Processes.
type ProcResult struct {
	// Options are the options used, defaults filled in.
	Options ProcOptions
	// IdP is the token endpoint's final counts. IdP.Refreshes is the
	// number of expiries; IdP.MaxPresented is the most refresh requests
	// one refresh token (one expiry) received.
	IdP IdPStats
	// Workers is each surviving worker's report.
	Workers []WorkerReport
	// Generation is the highest token generation a worker obtained; with
	// one refresh per expiry it equals IdP.Issued().
	Generation uint64
	// LatestRefreshTokenStored reports that the vault holds the refresh
	// token the IdP issued last.
	LatestRefreshTokenStored bool
	// Killed reports that the first worker was killed while it held the
	// lock, and its request was abandoned unprocessed.
	Killed bool
	// Elapsed is the time from release to stop.
	Elapsed time.Duration
}

type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	ready  chan struct{}
	done   chan struct{} // stdout closed
	report *WorkerReport
}

// Processes runs E: Procs OS processes share one
// storage.FileVault and its FileLocker, against an IdP that rotates
// refresh tokens and revokes the whole family when one is reused. Workers
// are released together from a barrier, call Token every Period with
// BackgroundRefresh on, and are stopped after Expiries refreshes: the IdP
// then holds any further request unprocessed, and Processes waits until
// the last issued token has been stored before closing the workers'
// stdin.
func Processes(ctx context.Context, o ProcOptions) (res *ProcResult, err error) {
	if o.Procs == 0 {
		o.Procs = 8
	}
	if o.Expiries == 0 {
		o.Expiries = 20
	}
	if o.TTL == 0 {
		o.TTL = time.Second
	}
	if o.Period == 0 {
		o.Period = 2 * time.Millisecond
	}
	if o.Command == nil {
		o.Command = func() (*exec.Cmd, error) {
			exe, err := os.Executable()
			if err != nil {
				return nil, err
			}
			return exec.Command(exe), nil
		}
	}
	res = &ProcResult{Options: o}

	idp := NewIdP(IdPOptions{TTL: o.TTL})
	defer idp.Close()
	fv, err := storage.NewFileVault(o.Dir)
	if err != nil {
		return nil, err
	}
	defer fv.Close()
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		return nil, err
	}
	if err := st.SetCredentials(ctx, CredentialName, idp.Credentials()); err != nil {
		return nil, err
	}

	var genMu sync.Mutex
	genChanged := make(chan struct{})
	var maxGen uint64
	sawGen := func(g uint64) {
		genMu.Lock()
		if g > maxGen {
			maxGen = g
		}
		close(genChanged)
		genChanged = make(chan struct{})
		genMu.Unlock()
	}

	workers := make([]*worker, o.Procs)
	defer func() {
		// On an early return, make sure no worker outlives us.
		for _, w := range workers {
			if w != nil && w.cmd.ProcessState == nil {
				_ = w.cmd.Process.Kill()
				_ = w.cmd.Wait()
			}
		}
	}()
	for i := range workers {
		w, err := startWorker(o, sawGen)
		if err != nil {
			return nil, err
		}
		workers[i] = w
	}
	for i, w := range workers {
		select {
		case <-w.ready:
		case <-w.done:
			_ = w.cmd.Wait()
			return nil, fmt.Errorf("loadtest: worker %d exited before it was ready: %s", i, w.stderr.String())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	start := time.Now()
	release := func(w *worker) error {
		_, err := io.WriteString(w.stdin, "go\n")
		return err
	}
	live := workers
	if o.KillFirst {
		arrived := make(chan struct{}, 1)
		idp.SetHold(func(rctx context.Context) error {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-rctx.Done()
			return rctx.Err()
		})
		if err := release(workers[0]); err != nil {
			return nil, err
		}
		select {
		case <-arrived: // worker 0 holds the lock and its request is held
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		for _, w := range workers[1:] {
			if err := release(w); err != nil {
				return nil, err
			}
		}
		idp.SetHold(nil)
		if err := workers[0].cmd.Process.Kill(); err != nil {
			return nil, err
		}
		<-workers[0].done
		_ = workers[0].cmd.Wait()
		if err := idp.WaitFor(ctx, func(s IdPStats) bool { return s.Aborted >= 1 }); err != nil {
			return nil, err
		}
		res.Killed = idp.Stats().Aborted == 1
		live = workers[1:]
	} else {
		for _, w := range workers {
			if err := release(w); err != nil {
				return nil, err
			}
		}
	}

	if err := idp.WaitFor(ctx, func(s IdPStats) bool { return s.Refreshes >= o.Expiries }); err != nil {
		return nil, err
	}
	// Stop: hold every later request unprocessed, wait for those already
	// being processed, then for the last issued token to be stored.
	idp.SetHold(func(rctx context.Context) error {
		<-rctx.Done()
		return rctx.Err()
	})
	if err := idp.WaitFor(ctx, func(s IdPStats) bool { return s.Processing == s.Held }); err != nil {
		return nil, err
	}
	issued := uint64(idp.Stats().Issued())
	storedCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	waitStored(storedCtx, func() (bool, <-chan struct{}) {
		genMu.Lock()
		defer genMu.Unlock()
		return maxGen >= issued, genChanged
	})
	cancel()
	res.Elapsed = time.Since(start)

	for _, w := range live {
		_ = w.stdin.Close()
	}
	var errs []error
	for i, w := range live {
		<-w.done
		if err := w.cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("loadtest: worker %d: %w: %s", i, err, strings.TrimSpace(w.stderr.String())))
			continue
		}
		if w.report == nil {
			errs = append(errs, fmt.Errorf("loadtest: worker %d sent no report", i))
			continue
		}
		res.Workers = append(res.Workers, *w.report)
	}
	res.IdP = idp.Stats()
	genMu.Lock()
	res.Generation = maxGen
	genMu.Unlock()
	if tok, err := st.GetToken(ctx, CredentialName); err == nil {
		res.LatestRefreshTokenStored = tok.RefreshToken != "" && tok.RefreshToken == idp.LatestRefreshToken()
	}
	return res, errors.Join(errs...)
}

func startWorker(o ProcOptions, sawGen func(uint64)) (*worker, error) {
	cmd, err := o.Command()
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Environ(), envWorker+"=1", envDir+"="+o.Dir, envPeriod+"="+o.Period.String())
	w := &worker{cmd: cmd, ready: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = &w.stderr
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				close(w.ready)
			case strings.HasPrefix(line, "issued "):
				if g, err := strconv.ParseUint(strings.TrimPrefix(line, "issued "), 10, 64); err == nil {
					sawGen(g)
				}
			case strings.HasPrefix(line, "report "):
				var r WorkerReport
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "report ")), &r) == nil {
					w.report = &r
				}
			}
		}
	}()
	return w, nil
}

// waitStored waits until cond reports true, or ctx is done; cond also
// returns a channel closed on the next change.
func waitStored(ctx context.Context, cond func() (bool, <-chan struct{})) {
	for {
		ok, ch := cond()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}
