package main

import (
	"errors"
	"fmt"

	"github.com/plexusone/omnitoken/storage"
	"github.com/spf13/cobra"
)

func (a *app) rekeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rekey",
		Short: "Seal every value with the first key of $OMNITOKEN_KEY (encrypt a plaintext vault, rotate keys)",
		Long: `Rewrite every credential and token so that it is sealed with the first key
of $OMNITOKEN_KEY (or of the file named by $OMNITOKEN_KEY_FILE), as
omnitoken.TokenManager.Rekey does: values stored in plaintext, before
encryption was turned on, are encrypted; values sealed with a later key
of the list (an old key being rotated out) are resealed; values already
sealed with the first key are left alone. It can be run again after a
failure. Prefer to run it while nothing else writes to the vault.

  export OMNITOKEN_KEY=$(head -c 32 /dev/urandom | base64)
  omnitoken rekey                                   # encrypt a plaintext vault
  OMNITOKEN_KEY="$NEW,$OLD" omnitoken rekey         # rotate, then drop $OLD

With a key set, every other command reads and writes sealed values, and
refuses plaintext ones.`,
		Args: exactArgs(0, "no arguments"),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			keys, err := storage.KeysFromEnv()
			if errors.Is(err, storage.ErrNoKey) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			a.plain = true
			if _, err := a.openStore(); err != nil {
				return err
			}
			// Sealing view of the vault just opened; closing the vault
			// itself (in a.close) is enough.
			ev, err := storage.EncryptVault(a.v, keys, storage.EncryptOptions{})
			if err != nil {
				return err
			}
			res, err := storage.Rekey(cmd.Context(), ev, storage.DefaultCredentialsPrefix, storage.DefaultTokensPrefix)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Rekeyed %s with key %s: %d value(s) rewritten, %d already current.\n", a.vaultID, keys.IDs()[0], res.Rewritten, res.Current)
			return nil
		}),
	}
}
