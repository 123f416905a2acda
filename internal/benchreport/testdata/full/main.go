// Command full does what testdata/minimal does through the root omnitoken
// package, which links every built-in strategy, goauth and the plugin
// host. The benchmark report builds it to measure binary size (row H).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/plexusone/omnitoken"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	tm, err := omnitoken.NewFromDirectory(os.Args[1])
	if err != nil {
		return err
	}
	defer tm.Close()
	c, err := tm.GetClient(context.Background(), "api")
	if err != nil {
		return err
	}
	resp, err := c.Get(os.Args[2])
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	return nil
}
