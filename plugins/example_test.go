package plugins_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
)

// A plugin's whole main: serve a core.Strategy. (Not run here: Serve
// takes over the process.)
func ExampleServe() {
	plugins.Serve(teststrategy.New()) // your strategy, e.g. githubapp.New()
}

// A host opens a plugin binary and uses it through a Manager like a
// built-in strategy. The Manager's Close stops the plugin process.
func ExampleOpen() {
	s, err := plugins.Open("/usr/lib/omnitoken/plugins/githubapp", plugins.Options{
		// Only this exact binary may run.
		AllowedSHA256: []string{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Logger:        slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok, err := m.Token(context.Background(), "github-app")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type())
}

// LoadDir starts every plugin in a directory, each serving the type it
// reports.
func ExampleLoadDir() {
	ss, err := plugins.LoadDir(os.Getenv("OMNITOKEN_PLUGIN_DIR"), plugins.Options{})
	if err != nil {
		log.Fatal(err)
	}
	strategies := make([]core.Strategy, 0, len(ss))
	for _, s := range ss {
		fmt.Println("loaded", s.Type(), "from", s.Path())
		strategies = append(strategies, s)
	}
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: strategies})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
}
