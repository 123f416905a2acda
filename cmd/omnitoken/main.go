package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/plexusone/omnitoken/core"
	"github.com/spf13/cobra"
)

// Exit codes. They are documented in the package doc and in the README.
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitNeedsLogin = 3
	exitNoCommand  = 127 // exec: the command could not be started
)

// Environment variables the CLI reads.
const (
	envVaultURI   = "OMNITOKEN_VAULT_URI"
	envPluginDir  = "OMNITOKEN_PLUGIN_DIR"
	envPluginSums = "OMNITOKEN_PLUGIN_SHA256" // comma-separated
	envNoBrowser  = "OMNITOKEN_NO_BROWSER"
	envTokenVar   = "OMNITOKEN_TOKEN"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if cerr := a.close(); cerr != nil && err == nil {
		err = runError{fmt.Errorf("closing the vault: %w", cerr)}
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return ee.code // already reported (exec's pass-through)
	}
	code := classify(err)
	msg := oneLine(err.Error())
	fmt.Fprintf(stderr, "omnitoken: %s\n", msg)
	switch code {
	case exitUsage:
		fmt.Fprintln(stderr, "Run 'omnitoken --help' for usage.")
	case exitNeedsLogin:
		if hint := loginHint(err); hint != "" {
			fmt.Fprintln(stderr, hint)
		}
	}
	return code
}

// exitError carries an exit code chosen by a command. With a nil err the
// command has reported everything itself.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// runError marks an error returned by a command's RunE: every error not so
// marked comes from cobra's own parsing of the command line, and is a
// usage error.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// runE adapts a command function so that its errors are told apart from
// cobra's parsing errors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return runError{err}
		}
		return nil
	}
}

func classify(err error) int {
	var ee *exitError
	var ue usageError
	var re runError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, core.ErrReauthRequired):
		return exitNeedsLogin
	case errors.As(err, &re):
		return exitFailure
	}
	return exitUsage
}

// oneLine keeps an error on one line: a reason an operator can read in a
// log and grep for.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// args returns a cobra.PositionalArgs requiring exactly n arguments, whose
// failure is a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d argument(s)", names, len(args))
		}
		return nil
	}
}
