// Command testplugin serves teststrategy as a plugin, for the tests of
// package plugins. The environment chooses misbehaviour:
//
//	OMNITOKEN_TESTPLUGIN_MARKER=path   write path at start-up, proving the binary ran
//	OMNITOKEN_TESTPLUGIN_MODE=noise    print to stdout before Serve
//	OMNITOKEN_TESTPLUGIN_STDOUT=line   print line to stdout before Serve
//	OMNITOKEN_TESTPLUGIN_STDERR=text   print text to stderr before Serve
//	OMNITOKEN_TESTPLUGIN_MODE=hang     print half a line to stdout and hang
//	OMNITOKEN_TESTPLUGIN_TYPE=name     serve this credential type
//
// A binary named "type-NAME" serves credential type NAME.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
)

func main() {
	if p := os.Getenv("OMNITOKEN_TESTPLUGIN_MARKER"); p != "" {
		if err := os.WriteFile(p, []byte("ran\n"), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "testplugin: marker:", err)
		}
	}
	if text, ok := os.LookupEnv("OMNITOKEN_TESTPLUGIN_STDERR"); ok {
		fmt.Fprintln(os.Stderr, text)
	}
	if line, ok := os.LookupEnv("OMNITOKEN_TESTPLUGIN_STDOUT"); ok {
		fmt.Println(line)
	}
	switch os.Getenv("OMNITOKEN_TESTPLUGIN_MODE") {
	case "noise":
		fmt.Println("hello from a chatty plugin")
	case "hang":
		fmt.Print("1|")
		time.Sleep(time.Hour)
	}
	s := teststrategy.New()
	s.TypeName = os.Getenv("OMNITOKEN_TESTPLUGIN_TYPE")
	if name, ok := strings.CutPrefix(filepath.Base(os.Args[0]), "type-"); ok && s.TypeName == "" {
		s.TypeName = name
	}
	plugins.Serve(s)
}
