package main

import "github.com/plexusone/omnitoken"

// rootCredentialsDir is the root package's CredentialsDir, which the CLI
// writes out rather than links (see credentialsDir).
var rootCredentialsDir = omnitoken.CredentialsDir
