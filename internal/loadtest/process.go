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
	// WriteFailures is the Store.SetToken calls that failed, such as a
	// write refused because the store held a newer token.
	WriteFailures int `json:"writeFailures"`
	// FirstWriteFailure describes the first of them.
	FirstWriteFailure string `json:"firstWriteFailure,omitempty"`
}

// Backend opens the Store and Locker that worker processes share, from
// the environment, read through getenv: a worker calls it at start with
// os.Getenv, and Processes calls it to seed the credential and read the
// final token with the workers' environment. close releases what it
// opened.
type Backend func(ctx context.Context, getenv func(string) string) (st core.Store, l core.Locker, close func() error, err error)

// FileBackend is the default Backend: a storage.FileVault and its
// FileLocker in the directory named by the worker environment (ProcOptions.Dir).
func FileBackend(_ context.Context, getenv func(string) string) (core.Store, core.Locker, func() error, error) {
	fv, err := storage.NewFileVault(getenv(envDir))
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		fv.Close()
		return nil, nil, nil, err
	}
	return st, fv.Locker(), fv.Close, nil
}

// RunWorkerIfRequested turns the process into a Processes worker over
// FileBackend, and exits, when the environment asks for one; otherwise it
// returns at once. Call it first thing in main, or in TestMain before
// anything else.
func RunWorkerIfRequested() { RunWorkerIfRequestedWith(FileBackend) }

// RunWorkerIfRequestedWith is RunWorkerIfRequested over another Backend.
func RunWorkerIfRequestedWith(open Backend) {
	if os.Getenv(envWorker) != "1" {
		return
	}
	if err := runWorker(open, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest worker:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// failCounter counts a Store's failed token writes.
type failCounter struct {
	core.Store
	mu    sync.Mutex
	n     int
	first string
}

func (f *failCounter) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	err := f.Store.SetToken(ctx, name, t)
	if err != nil {
		f.mu.Lock()
		f.n++
		if f.first == "" {
			f.first = err.Error()
		}
		f.mu.Unlock()
	}
	return err
}

// runWorker opens the backend, says "ready", waits for "go" on stdin,
// then calls Token every period until stdin closes. It writes "issued
// <gen>" for each token it obtains, "served <access token>" each time the
// token it hands out changes, "error <message>" when a call fails after
// one that did not, "ok" when one succeeds after a failure, and a final
// "report <json>".
func runWorker(open Backend, stdin io.Reader, stdout io.Writer) error {
	period, err := time.ParseDuration(os.Getenv(envPeriod))
	if err != nil || period <= 0 {
		return fmt.Errorf("loadtest: worker: bad %s", envPeriod)
	}
	bst, locker, closeBackend, err := open(context.Background(), os.Getenv)
	if err != nil {
		return err
	}
	defer closeBackend()
	st := &failCounter{Store: bst}
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
		Locker:            locker,
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
	lastServed, failing := "", false
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
			if !failing {
				failing = true
				say("error %s", strings.ReplaceAll(err.Error(), "\n", " "))
			}
		case err == nil && tok.Expired(time.Now()):
			rep.Expired++
		}
		repMu.Unlock()
		if err == nil {
			if failing {
				failing = false
				say("ok")
			}
			if tok.AccessToken != lastServed {
				lastServed = tok.AccessToken
				say("served %s", lastServed)
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	if err := m.Close(); err != nil {
		return err
	}
	repMu.Lock()
	st.mu.Lock()
	rep.WriteFailures, rep.FirstWriteFailure = st.n, st.first
	st.mu.Unlock()
	data, _ := json.Marshal(rep)
	repMu.Unlock()
	say("report %s", data)
	return nil
}

// ProcOptions configures Processes. Zero fields take the defaults shown.
type ProcOptions struct {
	// Dir is the shared file vault's directory. Required with the
	// default Backend.
	Dir string
	// Backend opens the shared Store and Locker; the workers' Backend
	// (RunWorkerIfRequestedWith) must open the same. Default FileBackend.
	Backend Backend
	// Env is added to each worker's environment, and set in this
	// process's while Backend runs here.
	Env []string
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
	// LatestRefreshTokenStored reports that the store holds the refresh
	// token the IdP issued last.
	LatestRefreshTokenStored bool
	// Killed reports that the first worker was killed while it held the
	// lock, and its request was abandoned unprocessed.
	Killed bool
	// Takeover is, with KillFirst, the time from the kill to the next
	// token the IdP issued: how long the others waited for the dead
	// holder's lock.
	Takeover time.Duration
	// Elapsed is the time from release to stop.
	Elapsed time.Duration
}

// Faults lists what in r breaks one refresh per expiry across workers
// surviving processes: not exactly one client_credentials grant; fewer
// refreshes than expiries (or, with exact, not exactly as many); a
// refresh token presented twice, an invalid_grant, a reuse or a revoked
// family; a last generation other than the tokens issued; the newest
// refresh token not stored; a worker without calls or with an error; or
// workers' token counts that do not add up to the IdP's. None when all
// hold.
func (r *ProcResult) Faults(workers int, exact bool) []string {
	var f []string
	s := r.IdP
	if s.Grants != 1 {
		f = append(f, fmt.Sprintf("%d client_credentials grants, want 1: processes that lost the race must use the winner's token", s.Grants))
	}
	if s.Refreshes < r.Options.Expiries || exact && s.Refreshes != r.Options.Expiries {
		f = append(f, fmt.Sprintf("%d refreshes for %d expiries (exact: %v)", s.Refreshes, r.Options.Expiries, exact))
	}
	if s.MaxPresented != 1 || s.InvalidGrants != 0 || s.Reuses != 0 || s.RevokedFamilies != 0 {
		f = append(f, fmt.Sprintf("IdP: a refresh token presented up to %d times, %d invalid_grant, %d reuses, %d families revoked; want 1, 0, 0, 0",
			s.MaxPresented, s.InvalidGrants, s.Reuses, s.RevokedFamilies))
	}
	if r.Generation != uint64(s.Issued()) {
		f = append(f, fmt.Sprintf("last generation %d, IdP issued %d tokens: a token was issued twice or lost", r.Generation, s.Issued()))
	}
	if !r.LatestRefreshTokenStored {
		f = append(f, "the store does not hold the refresh token the IdP issued last")
	}
	if len(r.Workers) != workers {
		return append(f, fmt.Sprintf("%d worker reports, want %d", len(r.Workers), workers))
	}
	sumIssued := 0
	for i, w := range r.Workers {
		sumIssued += w.Issued
		if w.Calls == 0 || w.Errors != 0 {
			f = append(f, fmt.Sprintf("worker %d: %d calls, %d errors (first: %s); want calls and no error", i, w.Calls, w.Errors, w.FirstError))
		}
	}
	if sumIssued != s.Issued() {
		f = append(f, fmt.Sprintf("workers report %d tokens obtained, IdP issued %d", sumIssued, s.Issued()))
	}
	return f
}

// WorkerOptions configures StartWorker.
type WorkerOptions struct {
	// Command returns the command that starts this program again (see
	// ProcOptions.Command). Default: os.Executable with no arguments.
	Command func() (*exec.Cmd, error)
	// Dir is the file vault's directory, for FileBackend.
	Dir string
	// Env is added to the worker's environment.
	Env []string
	// Period is the worker's pause between Token calls. Default 2 ms.
	Period time.Duration
	// OnLine, when set, is called with each line the worker prints, from
	// one goroutine per worker.
	OnLine func(line string)
}

// Worker is a worker process: it opens the shared Store and Locker, says
// it is ready, and once released calls Token in a loop, printing what
// happens (see RunWorkerIfRequestedWith), until Finish.
type Worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	ready  chan struct{}
	done   chan struct{} // stdout closed
	report *WorkerReport
}

func defaultCommand() (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe), nil
}

// StartWorker starts a worker process.
//
// A worker process never starts workers: StartWorker fails when called in
// one, so a test binary that re-runs its tests as a worker (a TestMain
// without RunWorkerIfRequested) starts no second generation.
func StartWorker(o WorkerOptions) (*Worker, error) {
	if os.Getenv(envWorker) != "" {
		return nil, fmt.Errorf("loadtest: this process is a worker (%s is set) and must not start workers: does TestMain call RunWorkerIfRequested first?", envWorker)
	}
	if o.Command == nil {
		o.Command = defaultCommand
	}
	if o.Period == 0 {
		o.Period = 2 * time.Millisecond
	}
	cmd, err := o.Command()
	if err != nil {
		return nil, err
	}
	cmd.Env = append(append(cmd.Environ(), envDir+"="+o.Dir), o.Env...)
	cmd.Env = append(cmd.Env, envWorker+"=1", envPeriod+"="+o.Period.String())
	w := &Worker{cmd: cmd, ready: make(chan struct{}), done: make(chan struct{})}
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
			case strings.HasPrefix(line, "report "):
				var r WorkerReport
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "report ")), &r) == nil {
					w.report = &r
				}
			}
			if o.OnLine != nil {
				o.OnLine(line)
			}
		}
	}()
	return w, nil
}

// WaitReady waits until the worker has opened its store and waits for
// Release.
func (w *Worker) WaitReady(ctx context.Context) error {
	select {
	case <-w.ready:
		return nil
	case <-w.done:
		_ = w.cmd.Wait()
		return fmt.Errorf("loadtest: worker exited before it was ready: %s", strings.TrimSpace(w.stderr.String()))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release lets the worker start calling Token.
func (w *Worker) Release() error {
	_, err := io.WriteString(w.stdin, "go\n")
	return err
}

// Process returns the worker's OS process, to signal it.
func (w *Worker) Process() *os.Process { return w.cmd.Process }

// Kill kills the worker with SIGKILL, if it still runs, and waits for it.
func (w *Worker) Kill() {
	if w.cmd.ProcessState != nil {
		return
	}
	_ = w.cmd.Process.Kill()
	<-w.done
	_ = w.cmd.Wait()
}

// Finish tells the worker to stop, waits for it to exit and returns its
// report.
func (w *Worker) Finish() (*WorkerReport, error) {
	_ = w.stdin.Close()
	<-w.done
	if err := w.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("loadtest: worker: %w: %s", err, strings.TrimSpace(w.stderr.String()))
	}
	if w.report == nil {
		return nil, errors.New("loadtest: worker sent no report")
	}
	return w.report, nil
}

// Processes runs E: Procs OS processes share one
// Store and Locker (by default a storage.FileVault and its FileLocker),
// against an IdP that rotates refresh tokens and revokes the whole family
// when one is reused. Workers are released together from a barrier, call
// Token every Period with BackgroundRefresh on, and are stopped after
// Expiries refreshes: the IdP then holds any further request unprocessed,
// and Processes waits until the last issued token has been stored before
// closing the workers' stdin.
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
		o.Command = defaultCommand
	}
	if o.Backend == nil {
		o.Backend = FileBackend
	}
	res = &ProcResult{Options: o}

	idp := NewIdP(IdPOptions{TTL: o.TTL})
	defer idp.Close()
	st, _, closeBackend, err := OpenBackend(ctx, o.Backend, o.Dir, o.Env)
	if err != nil {
		return nil, err
	}
	defer closeBackend()
	if err := st.SetCredentials(ctx, CredentialName, idp.Credentials()); err != nil {
		return nil, err
	}

	var genMu sync.Mutex
	genChanged := make(chan struct{})
	var maxGen uint64
	onLine := func(line string) {
		g, err := strconv.ParseUint(strings.TrimPrefix(line, "issued "), 10, 64)
		if !strings.HasPrefix(line, "issued ") || err != nil {
			return
		}
		genMu.Lock()
		if g > maxGen {
			maxGen = g
		}
		close(genChanged)
		genChanged = make(chan struct{})
		genMu.Unlock()
	}

	workers := make([]*Worker, o.Procs)
	defer func() {
		// On an early return, make sure no worker outlives us.
		for _, w := range workers {
			if w != nil {
				w.Kill()
			}
		}
	}()
	for i := range workers {
		w, err := StartWorker(WorkerOptions{Command: o.Command, Dir: o.Dir, Env: o.Env, Period: o.Period, OnLine: onLine})
		if err != nil {
			return nil, err
		}
		workers[i] = w
	}
	for i, w := range workers {
		if err := w.WaitReady(ctx); err != nil {
			return nil, fmt.Errorf("loadtest: worker %d: %w", i, err)
		}
	}

	start := time.Now()
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
		if err := workers[0].Release(); err != nil {
			return nil, err
		}
		select {
		case <-arrived: // worker 0 holds the lock and its request is held
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		for _, w := range workers[1:] {
			if err := w.Release(); err != nil {
				return nil, err
			}
		}
		idp.SetHold(nil)
		before := idp.Stats().Issued()
		killed := time.Now()
		workers[0].Kill()
		if err := idp.WaitFor(ctx, func(s IdPStats) bool { return s.Aborted >= 1 }); err != nil {
			return nil, err
		}
		res.Killed = idp.Stats().Aborted == 1
		if err := idp.WaitFor(ctx, func(s IdPStats) bool { return s.Issued() > before }); err != nil {
			return nil, err
		}
		res.Takeover = time.Since(killed)
		live = workers[1:]
	} else {
		for _, w := range workers {
			if err := w.Release(); err != nil {
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

	var errs []error
	for i, w := range live {
		r, err := w.Finish()
		if err != nil {
			errs = append(errs, fmt.Errorf("worker %d: %w", i, err))
			continue
		}
		res.Workers = append(res.Workers, *r)
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

// OpenBackend runs a Backend in this process as a worker with Dir dir
// and Env env would: it reads env, then this process's environment.
func OpenBackend(ctx context.Context, open Backend, dir string, env []string) (core.Store, core.Locker, func() error, error) {
	env = append([]string{envDir + "=" + dir}, env...)
	return open(ctx, func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v
			}
		}
		return os.Getenv(k)
	})
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
