// Command mcp is an MCP server whose tools call a third-party HTTP API
// with a credential that omnitoken keeps in a vault. It speaks MCP over
// stdio, as MCP clients (Claude Desktop, editors, agents) start servers:
//
//	go run ./examples/mcp
//	go run ./examples/mcp -credential github -api https://api.github.com -vault file:///path/to/vault
//
// The tools, whoami and list_issues, call GitHub's REST API (or anything
// that answers like it) through core.Manager.Client, so each request
// carries the current token and the server keeps working across token
// expiry. A credential that needs a person to sign in comes back as a
// tool error naming the command to run, `omnitoken login NAME`; the
// server neither crashes nor hangs, since each call is bounded by
// -timeout.
//
// The vault is -vault, else $OMNITOKEN_VAULT_URI, else the directory
// omnitoken.CredentialsDir(), the same defaults as the omnitoken CLI, so
// what `omnitoken set` and `omnitoken login` store, the server uses.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/plexusone/omnitoken"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp:", err)
		os.Exit(1)
	}
}

// run parses args, opens the vault and serves MCP over stdin and stdout
// until stdin is closed or ctx is done. Logs go to logw, never to stdout,
// which carries the protocol.
func run(ctx context.Context, args []string, logw io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(logw)
	vaultURI := fs.String("vault", os.Getenv(omnitoken.EnvVaultURI), "vault URI (default $OMNITOKEN_VAULT_URI, else the credentials directory)")
	cfg := config{}
	fs.StringVar(&cfg.Credential, "credential", "github", "name of the credential the tools use")
	fs.StringVar(&cfg.API, "api", "https://api.github.com", "root URL of the API the tools call")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "bound on one tool call, token refresh included")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Timeout <= 0 {
		return errors.New("-timeout must be positive")
	}
	tm, err := openVault(*vaultURI)
	if err != nil {
		return err
	}
	defer tm.Close()
	err = newServer(tm.Core(), cfg).Run(ctx, &mcp.StdioTransport{})
	if errors.Is(err, context.Canceled) {
		return nil // a signal: a normal end
	}
	return err
}

// openVault opens the vault at uri, or the credentials directory when uri
// is empty. The TokenManager logs to slog.Default, that is to stderr.
func openVault(uri string) (*omnitoken.TokenManager, error) {
	if uri == "" {
		dir, err := omnitoken.CredentialsDir()
		if err != nil {
			return nil, err
		}
		uri = "file://" + dir
	}
	return omnitoken.NewFromVaultURI(uri)
}
