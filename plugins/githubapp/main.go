// Command githubapp is an omnitoken plugin for GitHub App installation
// access tokens, credential type "githubapp". It is also the example to
// copy when writing a plugin: see README.md.
//
// Its whole main is one call, plugins.Serve; the strategy is in
// githubapp.go.
package main

import "github.com/plexusone/omnitoken/plugins"

func main() { plugins.Serve(newStrategy()) }
