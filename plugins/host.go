package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/plugins/internal/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of Options.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultCallTimeout  = 30 * time.Second
)

// maxRecvMsg caps a message from a plugin: a token is a few kilobytes.
const maxRecvMsg = 4 << 20

// Options configures how plugins are started. The zero value is usable.
type Options struct {
	// AllowedSHA256, when not empty, lists the SHA-256 digests (hex, with
	// or without a "sha256:" prefix) of the binaries that may run. A
	// binary matching none is refused with ErrChecksumMismatch before it
	// is executed. On Linux the bytes that were hashed are the bytes that
	// run: they are copied into a sealed memory file first.
	AllowedSHA256 []string
	// Logger receives the host's lines about plugins and the lines each
	// plugin writes to stderr, one record per line with the plugin's path
	// and type: a line in hclog's JSON format keeps its level and
	// key-value pairs, any other line is logged at Debug ("[WARN]"-style
	// prefixes and Go panics raise it). The host logs paths, types,
	// process ids and failures, never a credential or a token; what a
	// plugin writes to stderr is its author's responsibility. What a
	// plugin writes to stdout once it serves is discarded. Default:
	// discard.
	Logger *slog.Logger
	// StartTimeout bounds the start of a plugin: from exec to the end of
	// the handshake. Default: DefaultStartTimeout.
	StartTimeout time.Duration
	// CallTimeout bounds every call to a plugin (Token, Validate, Revoke),
	// on top of the caller's context, so that a plugin that never answers
	// cannot hang its caller: a call still unanswered after CallTimeout
	// fails with a temporary error matching ErrUnavailable and
	// context.DeadlineExceeded. Default: DefaultCallTimeout.
	CallTimeout time.Duration
	// Env adds KEY=VALUE entries to each plugin's environment.
	Env []string
	// InheritEnv passes the host's whole environment to plugins. By
	// default a plugin sees only PATH, HOME, the temporary directory,
	// locale and time zone, the TLS certificate locations, the proxy
	// settings, and Env, so that secrets in the host's environment do not
	// reach third-party code.
	InheritEnv bool
}

// inheritedEnv lists the host variables a plugin gets by default.
var inheritedEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TMP", "TEMP", "LANG", "LC_ALL", "TZ",
	"SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
}

func (o Options) env() []string {
	var env []string
	if o.InheritEnv {
		env = os.Environ()
	} else {
		for _, k := range inheritedEnv {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
	}
	return append(env, o.Env...)
}

// Strategy is a plugin process seen as a core.Strategy. Give it to a
// core.Manager in Options.Strategies, or register it, like any built-in
// strategy.
//
// It starts the plugin again on the first call after the process died,
// and Close stops it. It always has Validate and Revoke methods, so it
// satisfies driver.Validator and driver.Revoker; each is forwarded to the
// plugin when the plugin implements it (CanValidate, CanRevoke) and does
// nothing otherwise.
//
// A Strategy is safe for concurrent use.
type Strategy struct {
	path      string
	typ       string
	validator bool
	revoker   bool
	exe       *executable
	env       []string
	opts      Options
	log       *slog.Logger

	mu     sync.Mutex
	cur    *instance
	closed bool
	starts int
}

// instance is one running plugin process.
type instance struct {
	client   *plugin.Client
	rpc      pb.StrategyClient
	lifeline io.Closer
	broken   atomic.Bool
}

func (in *instance) alive() bool { return !in.broken.Load() && !in.client.Exited() }

// kill stops the process and waits for go-plugin's goroutines.
func (in *instance) kill() {
	in.client.Kill()
	if in.lifeline != nil {
		_ = in.lifeline.Close()
	}
}

// Open starts the plugin binary at path, completes the handshake and asks
// the plugin for its credential type. The plugin keeps running until
// Close; a Strategy that is not closed leaks its process until the host
// exits, when the plugin exits on its own.
//
// Open fails with ErrChecksumMismatch (the binary was not run),
// ErrIncompatibleVersion or ErrHandshake, each naming path.
func Open(path string, opts Options) (*Strategy, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	allowed, err := parseAllowlist(opts.AllowedSHA256)
	if err != nil {
		return nil, err
	}
	exe, err := prepareExecutable(path, allowed)
	if err != nil {
		return nil, err
	}
	s := &Strategy{path: path, exe: exe, env: opts.env(), opts: opts, log: log.With("plugin", path)}
	in, info, err := s.start()
	if err != nil {
		exe.close()
		return nil, err
	}
	if info.GetType() == "" {
		in.kill()
		exe.close()
		return nil, fmt.Errorf("plugins: %s: %w: the plugin reports an empty credential type", path, ErrHandshake)
	}
	s.typ, s.validator, s.revoker = info.GetType(), info.GetValidator(), info.GetRevoker()
	s.cur = in
	s.log = s.log.With("type", s.typ)
	s.log.Info("plugins: plugin started", "pid", in.client.ID(), "validator", s.validator, "revoker", s.revoker)
	return s, nil
}

// start runs the plugin once: exec, handshake, Info.
func (s *Strategy) start() (*instance, *pb.InfoResponse, error) {
	cmd := &exec.Cmd{Path: s.exe.execPath, Args: []string{s.path}, Env: append([]string(nil), s.env...)}
	lifeline, readEnd, err := attachLifeline(cmd)
	if err != nil {
		return nil, nil, fmt.Errorf("plugins: %s: lifeline: %w", s.path, err)
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: hostPlugins(),
		Cmd:              cmd,
		SecureConfig:     s.exe.secureConfig(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     s.opts.StartTimeout,
		Logger:           newHCLogger(s.log, "go-plugin"),
		// What the plugin writes to its stderr before plugins.Serve, and
		// with the log package or slog, reaches Stderr; what it writes to
		// os.Stderr once serving comes over gRPC to SyncStderr.
		Stderr:          &stderrLog{log: s.log},
		SyncStderr:      &stderrLog{log: s.log},
		SkipHostEnv:     true,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsg))},
	})
	fail := func(err error) (*instance, *pb.InfoResponse, error) {
		client.Kill()
		if lifeline != nil {
			_ = lifeline.Close()
		}
		return nil, nil, err
	}
	proto, err := client.Client()
	if readEnd != nil {
		_ = readEnd.Close() // the child has its own copy now
	}
	if err != nil {
		return fail(s.startError(err))
	}
	raw, err := proto.Dispense(pluginName)
	if err != nil {
		return fail(fmt.Errorf("plugins: %s: %w: %v", s.path, ErrHandshake, err))
	}
	rpc, ok := raw.(pb.StrategyClient)
	if !ok {
		return fail(fmt.Errorf("plugins: %s: %w: unexpected client %T", s.path, ErrHandshake, raw))
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StartTimeout)
	defer cancel()
	info, err := rpc.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return fail(fmt.Errorf("plugins: %s: %w: info: %v", s.path, ErrHandshake, err))
	}
	in := &instance{client: client, rpc: rpc}
	if lifeline != nil {
		in.lifeline = lifeline
	}
	s.starts++
	return in, info, nil
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// startError turns go-plugin's start errors into ones that say what to do,
// without quoting what the plugin printed.
func (s *Strategy) startError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "incompatible API version"):
		theirs := "another version"
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			theirs = "version " + m[1]
		}
		return fmt.Errorf("plugins: %s: %w: the plugin speaks %s, this host speaks version %d; rebuild the plugin against a matching github.com/plexusone/omnitoken/plugins",
			s.path, ErrIncompatibleVersion, theirs, ProtocolVersion)
	case strings.Contains(msg, `unsupported plugin protocol "netrpc"`):
		return fmt.Errorf("plugins: %s: %w: the plugin speaks net/rpc, not gRPC", s.path, ErrHandshake)
	case strings.Contains(msg, "plugin exited before we could connect"),
		strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		return fmt.Errorf("plugins: %s: %w: the plugin exited before the handshake; is it an omnitoken plugin? its stderr is in the host's log", s.path, ErrHandshake)
	case malformedHandshake(err):
		return fmt.Errorf("plugins: %s: %w: the first line on the plugin's stdout is not a go-plugin handshake; a plugin must not print to stdout before plugins.Serve (log to stderr instead)",
			s.path, ErrHandshake)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("plugins: %s: %w: no handshake within %s", s.path, ErrHandshake, s.opts.StartTimeout)
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("plugins: %s: %w: the binary changed while it was being started", s.path, ErrChecksumMismatch)
	}
	return fmt.Errorf("plugins: %s: start: %w", s.path, err)
}

// malformedHandshake reports whether err is go-plugin's refusal of the
// first line on a plugin's stdout. plugins.Serve always writes a well
// formed line, so such a line was printed by something else first. These
// errors quote the line, which is why they are replaced, not wrapped.
func malformedHandshake(err error) bool {
	msg := err.Error()
	for _, m := range []string{
		"Unrecognized remote plugin message",
		"error parsing core protocol version",
		"incompatible core API version",
		"Error parsing protocol version",
		"unknown address type",
		"error parsing server cert",
		"unsupported plugin protocol",
	} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	// The address field did not resolve.
	var addrErr *net.AddrError
	var dnsErr *net.DNSError
	var parseErr *net.ParseError
	return errors.As(err, &addrErr) || errors.As(err, &dnsErr) || errors.As(err, &parseErr)
}

// Type returns the credential type the plugin reported when it started.
func (s *Strategy) Type() string { return s.typ }

// Path returns the path of the plugin binary.
func (s *Strategy) Path() string { return s.path }

// CanValidate reports whether the plugin implements driver.Validator.
func (s *Strategy) CanValidate() bool { return s.validator }

// CanRevoke reports whether the plugin implements driver.Revoker.
func (s *Strategy) CanRevoke() bool { return s.revoker }

// PID returns the process id of the running plugin, or 0 when none runs.
func (s *Strategy) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || !s.cur.alive() {
		return 0
	}
	pid, _ := strconv.Atoi(s.cur.client.ID())
	return pid
}

// Starts returns how many times the plugin process was started.
func (s *Strategy) Starts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

// instance returns the running plugin, starting it again if it died.
func (s *Strategy) instance(op string) (*instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("plugins: %s: %s: %w", s.typ, op, ErrClosed)
	}
	if s.cur != nil && s.cur.alive() {
		return s.cur, nil
	}
	if s.cur != nil {
		s.cur.kill()
		s.cur = nil
	}
	s.log.Warn("plugins: plugin process is gone; starting it again")
	in, info, err := s.start()
	if err != nil {
		return nil, &callError{typ: s.typ, op: op, err: err}
	}
	if info.GetType() != s.typ {
		in.kill()
		return nil, &callError{typ: s.typ, op: op, err: fmt.Errorf("plugins: %s: the restarted plugin reports type %q", s.path, info.GetType())}
	}
	s.cur = in
	s.log.Info("plugins: plugin started again", "pid", in.client.ID())
	return in, nil
}

// callCtx bounds one call to the plugin by Options.CallTimeout.
func (s *Strategy) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.CallTimeout)
}

// callFailed classifies a gRPC error of a call made under callCtx: the
// caller's context, a plugin that did not answer within CallTimeout, or a
// plugin that is gone and will be started again on the next call.
func (s *Strategy) callFailed(caller, ctx context.Context, in *instance, op string, err error) error {
	if d, ok := ctx.Deadline(); ok && status.Code(err) == codes.DeadlineExceeded && !time.Now().Before(d) {
		// gRPC reports ctx's deadline once the clock passes it, which can
		// be a moment before ctx's own timer marks ctx done (a plugin
		// that resets the stream at its end of the deadline, say). Wait
		// for that moment, so that the error says whose deadline it was.
		<-ctx.Done()
	}
	if ctxErr := caller.Err(); ctxErr != nil {
		return fmt.Errorf("plugins: %s: %s: %w", s.typ, op, ctxErr)
	}
	if ctx.Err() != nil {
		// The plugin may be slow rather than gone: it is not restarted.
		return &callError{typ: s.typ, op: op, err: fmt.Errorf("no answer within CallTimeout (%s): %w", s.opts.CallTimeout, context.DeadlineExceeded)}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.Aborted:
		in.broken.Store(true)
	default:
		if in.client.Exited() {
			in.broken.Store(true)
		}
	}
	return &callError{typ: s.typ, op: op, err: err}
}

// encodeCredentials is c as it crosses the boundary: its JSON.
func (s *Strategy) encodeCredentials(c *core.Credentials) ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("plugins: %s: %w: nil credentials", s.typ, core.ErrInvalidCredentials)
	}
	b, err := c.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: %w", s.typ, err)
	}
	return b, nil
}

// encodeToken is t as it crosses the boundary: its JSON, or empty for
// none. what names t in the error, which never quotes it.
func (s *Strategy) encodeToken(t *core.Token, what string) ([]byte, error) {
	if t == nil {
		return nil, nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: %s does not encode", s.typ, what)
	}
	return b, nil
}

// Token implements core.Strategy by calling the plugin. The credential
// and prev cross as their JSON; the plugin's error comes back with its
// meaning: see the package documentation.
func (s *Strategy) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	cj, err := s.encodeCredentials(c)
	if err != nil {
		return nil, err
	}
	pj, err := s.encodeToken(prev, "previous token")
	if err != nil {
		return nil, err
	}
	in, err := s.instance("token")
	if err != nil {
		return nil, err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	resp, err := in.rpc.Token(cctx, &pb.TokenRequest{Credentials: cj, Prev: pj})
	if err != nil {
		return nil, s.callFailed(ctx, cctx, in, "token", err)
	}
	if e := resp.GetError(); e != nil {
		return nil, decodeError(s.typ, e)
	}
	tok := new(core.Token)
	if err := json.Unmarshal(resp.GetToken(), tok); err != nil {
		return nil, fmt.Errorf("plugins: %s: the plugin returned a token that is not valid JSON (%d bytes)", s.typ, len(resp.GetToken()))
	}
	return tok, nil
}

// Validate implements driver.Validator. It asks the plugin when the plugin
// validates, bounded by Options.CallTimeout, and accepts c otherwise.
func (s *Strategy) Validate(c *core.Credentials) error {
	if !s.validator {
		return nil
	}
	cj, err := s.encodeCredentials(c)
	if err != nil {
		return err
	}
	in, err := s.instance("validate")
	if err != nil {
		return err
	}
	ctx, cancel := s.callCtx(context.Background())
	defer cancel()
	resp, err := in.rpc.Validate(ctx, &pb.ValidateRequest{Credentials: cj})
	if err != nil {
		return s.callFailed(context.Background(), ctx, in, "validate", err)
	}
	return decodeError(s.typ, resp.GetError())
}

// Revoke implements driver.Revoker. It asks the plugin when the plugin
// revokes, and does nothing otherwise. The call is bounded by
// Options.CallTimeout.
func (s *Strategy) Revoke(ctx context.Context, c *core.Credentials, t *core.Token) error {
	if !s.revoker {
		return nil
	}
	cj, err := s.encodeCredentials(c)
	if err != nil {
		return err
	}
	tj, err := s.encodeToken(t, "token")
	if err != nil {
		return err
	}
	in, err := s.instance("revoke")
	if err != nil {
		return err
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	resp, err := in.rpc.Revoke(cctx, &pb.RevokeRequest{Credentials: cj, Token: tj})
	if err != nil {
		return s.callFailed(ctx, cctx, in, "revoke", err)
	}
	return decodeError(s.typ, resp.GetError())
}

// Close stops the plugin process and waits for it. Later calls fail with
// ErrClosed. Close is idempotent and safe on a Strategy whose process
// already died.
func (s *Strategy) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	in := s.cur
	s.cur = nil
	s.mu.Unlock()
	if in != nil {
		in.kill()
	}
	s.exe.close()
	s.log.Info("plugins: plugin stopped")
	return nil
}

// LoadDir opens every plugin in dir: each regular, executable file whose
// name does not start with a dot (on Windows, each .exe file), in name
// order. Two plugins reporting the same type are an error. If any plugin
// fails to open, the ones already started are closed and the error names
// the failing file: a refused plugin is never silently skipped.
//
// Hand the result to core.Options.Strategies, or register each one; the
// caller closes them (a core.Manager closes the strategies it was given).
func LoadDir(dir string, opts Options) ([]*Strategy, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugins: load dir: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []*Strategy
	byType := map[string]string{}
	closeAll := func() {
		for _, s := range out {
			_ = s.Close()
		}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if runtime.GOOS == "windows" {
			if !strings.EqualFold(filepath.Ext(name), ".exe") {
				continue
			}
		} else if fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		s, err := Open(path, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		if other, dup := byType[s.Type()]; dup {
			_ = s.Close()
			closeAll()
			return nil, fmt.Errorf("plugins: load dir: %s and %s both serve type %q", other, path, s.Type())
		}
		byType[s.Type()] = path
		out = append(out, s)
	}
	return out, nil
}

var (
	_ core.Strategy    = (*Strategy)(nil)
	_ driver.Validator = (*Strategy)(nil)
	_ driver.Revoker   = (*Strategy)(nil)
	_ driver.Closer    = (*Strategy)(nil)
)
