package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// pluginInfo is one plugin as plugins list reports it.
type pluginInfo struct {
	Path        string `json:"path"`
	Type        string `json:"type"`
	SHA256      string `json:"sha256"`
	CanValidate bool   `json:"can_validate"`
	CanRevoke   bool   `json:"can_revoke"`
}

func (a *app) pluginsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "Strategy plugins",
		Args:  exactArgs(0, "a subcommand (list)"),
		RunE:  runE(func(cmd *cobra.Command, _ []string) error { return usagef("want a subcommand: plugins list") }),
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Start each plugin of the plugin directory and list the credential type it serves",
		Long: `Start each plugin in --plugin-dir ($OMNITOKEN_PLUGIN_DIR) and list the
credential type it serves and its SHA-256. With --plugin-sha256
($OMNITOKEN_PLUGIN_SHA256) set, a binary whose checksum is not listed is
refused before it runs, and the command fails naming it.`,
		Args: exactArgs(0, "no arguments"),
		RunE: runE(func(_ *cobra.Command, _ []string) error {
			if a.pluginDir == "" {
				fmt.Fprintf(a.stderr, "No plugin directory: set --plugin-dir or $%s.\n", envPluginDir)
				if asJSON {
					_, err := fmt.Fprintln(a.stdout, "[]")
					return err
				}
				return nil
			}
			ps, err := a.loadPlugins()
			if err != nil {
				return err
			}
			out := make([]pluginInfo, 0, len(ps))
			for _, p := range ps {
				sum, err := fileSHA256(p.Path())
				if err != nil {
					return err
				}
				out = append(out, pluginInfo{Path: p.Path(), Type: p.Type(), SHA256: sum, CanValidate: p.CanValidate(), CanRevoke: p.CanRevoke()})
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(out) == 0 {
				fmt.Fprintf(a.stderr, "No plugins in %s.\n", a.pluginDir)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tPATH\tSHA256\tVALIDATE\tREVOKE")
			for _, p := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\n", printable(p.Type), printable(p.Path), p.SHA256, p.CanValidate, p.CanRevoke)
			}
			return tw.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON, for scripts")
	cmd.AddCommand(list)
	return cmd
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
