package main

import "github.com/spf13/cobra"

// migrateCmd returns the migrate command, or nil while the library offers
// no migration from the v0.1.0 layout.
func (a *app) migrateCmd() *cobra.Command { return nil }
