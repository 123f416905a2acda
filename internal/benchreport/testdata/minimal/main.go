// Command minimal is the smallest useful omnitoken program: the engine,
// the file vault and the basic strategy, without the root package. The
// benchmark report builds it to measure binary size (row H).
package main

import (
	"fmt"
	"os"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/basic"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	fv, err := storage.NewFileVault(os.Args[1])
	if err != nil {
		return err
	}
	defer fv.Close()
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		return err
	}
	m, err := core.New(core.Options{Store: st, Strategies: []core.Strategy{basic.New()}, Locker: fv.Locker()})
	if err != nil {
		return err
	}
	defer m.Close()
	resp, err := m.Client("api", nil).Get(os.Args[2])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	return nil
}
