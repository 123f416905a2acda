package plugins

import (
	"context"
	"strconv"

	"github.com/hashicorp/go-plugin"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins/internal/pb"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the plugin protocol this package
// speaks. A host refuses a plugin built for another version, and its
// error names the versions each side speaks.
const ProtocolVersion = 1

// buildProtocolVersion, when set at link time with
// -ldflags "-X github.com/plexusone/omnitoken/plugins.buildProtocolVersion=N",
// makes Serve announce version N instead of ProtocolVersion. Tests use it
// to build a plugin for another version.
var buildProtocolVersion string

// servedVersion is the protocol version Serve announces.
func servedVersion() int {
	if v, err := strconv.Atoi(buildProtocolVersion); err == nil && v > 0 {
		return v
	}
	return ProtocolVersion
}

// handshake is what host and plugin must agree on before anything else.
// The magic cookie is not a security measure: it tells a person who runs
// a plugin by hand that it is not meant to be run that way.
var handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "OMNITOKEN_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "5d9a3c1e-omnitoken-strategy-plugin",
}

// pluginName is the one plugin in the set each binary serves.
const pluginName = "strategy"

// hostPlugins is the set a host dispenses from, by protocol version.
func hostPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {pluginName: &grpcPlugin{}}}
}

// grpcPlugin is the go-plugin glue: it registers the server in the plugin
// process and makes the client in the host.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl core.Strategy // plugin side only
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterStrategyServer(s, newServer(p.impl))
	return nil
}

// GRPCClient implements plugin.GRPCPlugin.
func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewStrategyClient(c), nil
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)
