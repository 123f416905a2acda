package main

import "github.com/plexusone/omnitoken/core"

// loginCommand is the command that signs the user in for credential name.
func loginCommand(name string, _ *core.ReauthRequiredError) string {
	return "omnitoken login " + name
}
