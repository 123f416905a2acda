package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/plugins/internal/pb"
)

// Serve runs s as a plugin and does not return. It is the whole main of a
// plugin binary:
//
//	func main() { plugins.Serve(mystrategy.New()) }
//
// s is a core.Strategy; if it also implements driver.Validator or
// driver.Revoker, the host can validate credentials and revoke tokens
// through it. Serve speaks the handshake, serves gRPC over a private
// socket with mutual TLS set up by the host, turns a panic in s into an
// error for that call, and exits when the host exits, even when the host
// was killed. Errors keep their meaning on the host: see the package
// documentation.
//
// A plugin must not write to stdout before Serve starts: stdout carries
// the handshake, and the host refuses a plugin that prints anything else
// first. Logging to stderr is fine; the host forwards those lines to its
// logger. Run by hand, outside a host, the binary prints a short notice
// and exits with status 1.
func Serve(s core.Strategy) {
	if s == nil || s.Type() == "" {
		fmt.Fprintln(os.Stderr, "plugins: Serve needs a strategy with a non-empty Type")
		os.Exit(1)
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       s.Type(),
		Output:     os.Stderr,
		JSONFormat: true,
		Level:      hclog.Info,
	})
	version := servedVersion()
	if hv := os.Getenv("PLUGIN_PROTOCOL_VERSIONS"); hv != "" && !slices.Contains(strings.Split(hv, ","), strconv.Itoa(version)) {
		logger.Error("plugins: protocol version mismatch", "plugin_speaks", version, "host_speaks", hv)
	}
	watchHost()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: map[int]plugin.PluginSet{version: {pluginName: &grpcPlugin{impl: s}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
	os.Exit(0)
}

// server adapts a core.Strategy to the generated gRPC service.
type server struct {
	pb.UnimplementedStrategyServer
	impl core.Strategy
	typ  string
}

func newServer(impl core.Strategy) *server { return &server{impl: impl, typ: impl.Type()} }

// Info implements pb.StrategyServer.
func (s *server) Info(context.Context, *pb.InfoRequest) (*pb.InfoResponse, error) {
	_, v := s.impl.(driver.Validator)
	_, r := s.impl.(driver.Revoker)
	return &pb.InfoResponse{Type: s.typ, Validator: v, Revoker: r}, nil
}

// Token implements pb.StrategyServer.
func (s *server) Token(ctx context.Context, req *pb.TokenRequest) (*pb.TokenResponse, error) {
	c, err := core.ParseCredentials(req.GetCredentials())
	if err != nil {
		return &pb.TokenResponse{Error: encodeError(err)}, nil
	}
	prev, err := decodeToken(req.GetPrev())
	if err != nil {
		return &pb.TokenResponse{Error: encodeError(err)}, nil
	}
	var tok *core.Token
	err = s.safely(func() (err error) {
		tok, err = s.impl.Token(ctx, c, prev)
		return err
	})
	if err == nil && tok == nil {
		err = fmt.Errorf("plugins: strategy %q returned no token and no error", s.typ)
	}
	if err != nil {
		return &pb.TokenResponse{Error: encodeError(err)}, nil
	}
	b, err := json.Marshal(tok)
	if err != nil {
		return &pb.TokenResponse{Error: encodeError(fmt.Errorf("plugins: strategy %q returned a token that does not encode", s.typ))}, nil
	}
	return &pb.TokenResponse{Token: b}, nil
}

// Validate implements pb.StrategyServer. A strategy that is not a
// driver.Validator accepts every credential.
func (s *server) Validate(_ context.Context, req *pb.ValidateRequest) (*pb.ValidateResponse, error) {
	v, ok := s.impl.(driver.Validator)
	if !ok {
		return &pb.ValidateResponse{}, nil
	}
	c, err := core.ParseCredentials(req.GetCredentials())
	if err == nil {
		err = s.safely(func() error { return v.Validate(c) })
	}
	return &pb.ValidateResponse{Error: encodeError(err)}, nil
}

// Revoke implements pb.StrategyServer. A strategy that is not a
// driver.Revoker has nothing to revoke.
func (s *server) Revoke(ctx context.Context, req *pb.RevokeRequest) (*pb.RevokeResponse, error) {
	r, ok := s.impl.(driver.Revoker)
	if !ok {
		return &pb.RevokeResponse{}, nil
	}
	c, err := core.ParseCredentials(req.GetCredentials())
	var t *core.Token
	if err == nil {
		t, err = decodeToken(req.GetToken())
	}
	if err == nil {
		err = s.safely(func() error { return r.Revoke(ctx, c, t) })
	}
	return &pb.RevokeResponse{Error: encodeError(err)}, nil
}

// safely runs f, turning a panic into an error. The panic value may hold
// a secret and is not reported.
func (s *server) safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plugins: strategy %q panicked", s.typ)
		}
	}()
	return f()
}

// decodeToken reads a token's JSON; empty means none.
func decodeToken(b []byte) (*core.Token, error) {
	if len(b) == 0 {
		return nil, nil
	}
	t := new(core.Token)
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("plugins: token is not valid JSON (%d bytes)", len(b))
	}
	return t, nil
}

var _ pb.StrategyServer = (*server)(nil)
