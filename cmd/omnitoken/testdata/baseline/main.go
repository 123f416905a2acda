// Command baseline is the baseline of BenchmarkTokenProcess: the smallest
// Go program that prints a stored token the way "omnitoken token NAME"
// does, linking only core, storage and strategy/oauth2.
//
//	baseline DIR NAME
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

func main() {
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir, name string) error {
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		return err
	}
	defer fv.Close()
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		return err
	}
	m, err := core.New(core.Options{Store: st, Strategies: []core.Strategy{oauth2.New(oauth2.Options{})}, Locker: fv.Locker()})
	if err != nil {
		return err
	}
	defer m.Close()
	tok, err := m.Token(context.Background(), name)
	if err != nil {
		return err
	}
	_, err = fmt.Println(tok.AccessToken)
	return err
}
