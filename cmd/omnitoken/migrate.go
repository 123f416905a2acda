package main

import (
	"fmt"
	"strings"

	"github.com/plexusone/omnitoken/storage"
	"github.com/spf13/cobra"
)

func (a *app) migrateCmd() *cobra.Command {
	var renames []string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Move a directory written by omnitoken v0.1.0 to this layout",
		Long: `Move a vault directory written by omnitoken v0.1.0 (each file an
omnivault Secret wrapper, names as given with "/" written as "_") to this
layout, where names are escaped and every name can be stored. Each
credential moves with its token. Files are replaced atomically and a
v0.1.0 file is removed only after its new files are written, so migrate
can be run again after a failure.

Stop every process that uses the directory first: v0.1.0 cannot read the
new layout. Until then the CLI and programs read and write the v0.1.0
layout as it is.

--rename OLD=NEW gives a credential back a name v0.1.0 could not keep
("team_slides=team/slides"). --dry-run lists what would move.`,
		Args: exactArgs(0, "no arguments"),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			dir, err := a.vaultDir("migrate")
			if err != nil {
				return err
			}
			rename := map[string]string{}
			for _, r := range renames {
				from, to, ok := strings.Cut(r, "=")
				if !ok || from == "" || to == "" {
					return usagef("--rename %q: want OLD=NEW", r)
				}
				rename[from] = to
			}
			layout, err := storage.DetectLayout(dir)
			if err != nil {
				return err
			}
			if layout != storage.LayoutV01 {
				fmt.Fprintf(a.stdout, "%s is in the current layout; nothing to migrate.\n", dir)
				return nil
			}
			if dryRun {
				return a.migratePlan(cmd, dir, rename)
			}
			moved, err := storage.MigrateV01(cmd.Context(), dir, storage.MigrateOptions{Rename: rename, Logger: a.logger()})
			for _, m := range moved {
				fmt.Fprintf(a.stdout, "moved %s%s\n", describeMove(m.From, m.To), map[bool]string{true: " (with its token)"}[m.Token])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Migrated %d credential(s) in %s to the current layout.\n", len(moved), dir)
			return nil
		}),
	}
	cmd.Flags().StringArrayVar(&renames, "rename", nil, "OLD=NEW: store the v0.1.0 credential OLD under NEW (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would move, change nothing")
	return cmd
}

// migratePlan lists the credentials of a v0.1.0 directory and the name
// each would get.
func (a *app) migratePlan(cmd *cobra.Command, dir string, rename map[string]string) error {
	v, err := storage.NewV01FileVault(dir)
	if err != nil {
		return err
	}
	defer v.Close()
	st, err := storage.New(v, storage.Options{Logger: a.logger()})
	if err != nil {
		return err
	}
	names, err := st.ListCredentials(cmd.Context())
	if err != nil {
		return err
	}
	for _, n := range names {
		to := n
		if r, ok := rename[n]; ok {
			to = r
		}
		fmt.Fprintf(a.stdout, "would move %s\n", describeMove(n, to))
	}
	fmt.Fprintf(a.stdout, "%d credential(s) in %s are in the v0.1.0 layout; nothing was changed.\n", len(names), dir)
	return nil
}

func describeMove(from, to string) string {
	if from == to {
		return shellQuote(from)
	}
	return shellQuote(from) + " → " + shellQuote(to)
}
