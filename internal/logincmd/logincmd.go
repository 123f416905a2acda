// Package logincmd builds the "omnitoken login" command line that a
// person runs when a credential needs them, as core's errors and the
// omnitoken CLI print it. The line works when pasted into a POSIX shell,
// whatever the credential's name holds.
package logincmd

import (
	"strings"

	"github.com/plexusone/omnitoken/internal/shellquote"
)

// For returns the command that logs in the credential name, with
// --device for the device flow. The name is quoted for the shell, and a
// name that starts with "-" follows "--" so that it is not taken for a
// flag; flags then come before it.
func For(name string, device bool) string {
	if strings.HasPrefix(name, "-") {
		s := "omnitoken login"
		if device {
			s += " --device"
		}
		return s + " -- " + shellquote.Quote(name)
	}
	s := "omnitoken login " + shellquote.Quote(name)
	if device {
		s += " --device"
	}
	return s
}
