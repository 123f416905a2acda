package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnivault/vault"
)

// MigrateOptions configures MigrateV01. The zero value is valid.
type MigrateOptions struct {
	// Rename gives a credential a new name as it moves: the key is the
	// name v0.1.0 stored (as ListCredentials reports it over the v0.1.0
	// layout, "team_slides"), the value the name to keep ("team/slides").
	// A name not in Rename keeps its name.
	Rename map[string]string
	// Logger receives one line per credential moved. Default: discard.
	Logger *slog.Logger
}

// Migrated is one credential MigrateV01 moved.
type Migrated struct {
	// From is the name v0.1.0 stored, To the name it now has.
	From, To string
	// Token reports whether a stored token moved with it.
	Token bool
}

// MigrateV01 moves a directory written by omnitoken v0.1.0 (see
// V01FileVault) to this module's layout (FileVault under a Store): each
// credential, and its token when it has one, is rewritten as the bare
// value under its escaped name, and the v0.1.0 file is removed.
// Afterwards OpenDirectory opens the directory as a FileVault, and every
// name can be stored, "team/slides" included.
//
// Stop every process that uses the directory first, v0.1.0 or not:
// v0.1.0 cannot read the new layout, and a token refreshed during the
// move may be overwritten by the one being moved.
//
// Each file is replaced atomically, and a v0.1.0 file is removed only
// after its new files are written, so MigrateV01 can be run again after a
// failure or a crash: it moves what is still in v0.1.0's form (a file
// holding omnivault's Secret wrapper, or one whose name EscapeName would
// not write), moves a token still in v0.1.0's form whose credential has
// moved, and leaves the rest; a token is written before its credential.
// Before writing anything it checks that no two credentials would get the
// same name and that no new name is taken by a different credential
// already in this module's layout (the same credential there is what a
// stopped run left, and is written again), and that v0.1.0 stored no
// name starting with '.' (".env.json"), which this module never reads: it
// refuses, naming the files, rather than leave them behind. A token whose
// credential is gone is left where it is. It returns what it moved, up to
// the first error.
func MigrateV01(ctx context.Context, dir string, opts MigrateOptions) ([]Migrated, error) {
	v, err := NewV01FileVault(dir)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	src, err := New(v, Options{Logger: log})
	if err != nil {
		return nil, err
	}
	dst, err := New(v.fv, Options{Logger: log})
	if err != nil {
		return nil, err
	}
	hidden, err := hiddenV01Files(v.Dir())
	if err != nil {
		return nil, fmt.Errorf("storage: migrate: %w", err)
	}
	if len(hidden) > 0 {
		return nil, fmt.Errorf("storage: migrate: %w: %s: v0.1.0 stored a name starting with '.', which this module never reads (such names are kept for temp and lock files); rename the file without the '.' and run again", core.ErrInvalidCredentials, strings.Join(hidden, ", "))
	}
	names, err := src.ListCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: migrate: %w", err)
	}

	// Plan: which files are still v0.1.0's, and where each goes.
	type move struct{ from, to string }
	var plan []move
	current := map[string]bool{} // file names already in this module's layout
	for _, n := range names {
		old, err := v01Form(ctx, v, n)
		if err != nil {
			return nil, fmt.Errorf("storage: migrate %q: %w", n, err)
		}
		if !old {
			current[n] = true
			if err := moveToken(ctx, v, src, dst, n); err != nil {
				return nil, fmt.Errorf("storage: migrate %q: %w", n, err)
			}
			continue
		}
		to := n
		if r, ok := opts.Rename[n]; ok {
			to = r
		}
		if _, err := EscapeName(to); err != nil {
			return nil, fmt.Errorf("storage: migrate %q: new name %q: %w", n, to, err)
		}
		plan = append(plan, move{n, to})
	}
	for from := range opts.Rename {
		if !slices.Contains(names, from) {
			return nil, fmt.Errorf("storage: migrate: %w: Rename names %q, which the directory does not hold", core.ErrCredentialsNotFound, from)
		}
	}
	// Names here are file names: the v0.1.0 name of a source, the escaped
	// name of a target and of a credential already in the new layout.
	taken := map[string]string{}
	sources := map[string]bool{}
	for _, m := range plan {
		sources[m.from] = true
	}
	for _, m := range plan {
		file := mustEscape(m.to)
		if other, ok := taken[file]; ok {
			return nil, fmt.Errorf("storage: migrate: %q and %q would both become %q", other, m.from, m.to)
		}
		taken[file] = m.from
		if sources[file] && file != m.from {
			return nil, fmt.Errorf("storage: migrate %q: the file of its new name %q is taken", m.from, m.to)
		}
		if current[file] {
			// A run that stopped before removing the v0.1.0 files left
			// the same credential there; anything else is a clash.
			same, err := sameCredentials(ctx, src, dst, m.from, m.to)
			if err != nil {
				return nil, fmt.Errorf("storage: migrate %q: %w", m.from, err)
			}
			if !same {
				return nil, fmt.Errorf("storage: migrate %q: the file of its new name %q is taken", m.from, m.to)
			}
		}
	}

	var done []Migrated
	for _, m := range plan {
		got, err := migrateOne(ctx, src, dst, m.from, m.to)
		if err != nil {
			return done, fmt.Errorf("storage: migrate %q: %w", m.from, err)
		}
		log.Info("storage: migrated a v0.1.0 credential", "from", m.from, "to", m.to, "token", got.Token)
		done = append(done, got)
	}
	return done, nil
}

// hiddenV01Files returns the files in dir's credentials/ and tokens/ that
// v0.1.0 wrote for a name starting with '.': ".env" as ".env.json". This
// module's temp files never end in ".json".
func hiddenV01Files(dir string) ([]string, error) {
	var out []string
	for _, sub := range []string{DefaultCredentialsPrefix, DefaultTokensPrefix} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, fileExt) {
				out = append(out, sub+n)
			}
		}
	}
	return out, nil
}

// v01Form reports whether the credential stored as name is still in
// v0.1.0's form: its file holds a Secret wrapper, or its file name is not
// the escaped name.
func v01Form(ctx context.Context, v *V01FileVault, name string) (bool, error) {
	if _, err := UnescapeName(name); err != nil {
		return true, nil
	}
	return v.wrapped(ctx, DefaultCredentialsPrefix+mustEscape(name))
}

func migrateOne(ctx context.Context, src, dst *Store, from, to string) (Migrated, error) {
	out := Migrated{From: from, To: to}
	c, err := src.GetCredentials(ctx, from)
	if err != nil {
		return out, err
	}
	tok, err := src.GetToken(ctx, from)
	switch {
	case errors.Is(err, core.ErrTokenNotFound):
		tok = nil
	case err != nil:
		return out, err
	}
	// The token first: the credential's file is what marks a credential
	// as moved, and for a name whose file name is the same in both
	// layouts it replaces the v0.1.0 file.
	if tok != nil {
		if err := dst.SetToken(ctx, to, tok); err != nil {
			return out, err
		}
		out.Token = true
	}
	if err := dst.SetCredentials(ctx, to, c); err != nil {
		return out, err
	}
	// Remove the v0.1.0 files, unless the new file replaced them.
	oldSeg, newSeg := mustEscape(from), mustEscape(to)
	oldFile, _ := filePath(DefaultTokensPrefix + oldSeg)
	if tok != nil && oldFile != DefaultTokensPrefix+newSeg {
		if err := src.DeleteToken(ctx, from); err != nil {
			return out, err
		}
	}
	oldFile, _ = filePath(DefaultCredentialsPrefix + oldSeg)
	if oldFile != DefaultCredentialsPrefix+newSeg {
		if err := src.DeleteCredentials(ctx, from); err != nil {
			return out, err
		}
	}
	return out, nil
}

// moveToken rewrites the token of a credential already in this module's
// layout when the token is still in v0.1.0's wrapper (a run stopped
// between the two, or the credential was rewritten by hand). The file
// name is the same in both layouts.
func moveToken(ctx context.Context, v *V01FileVault, src, dst *Store, n string) error {
	wrapped, err := v.wrapped(ctx, DefaultTokensPrefix+mustEscape(n))
	if errors.Is(err, vault.ErrSecretNotFound) || (err == nil && !wrapped) {
		return nil
	}
	if err != nil {
		return err
	}
	tok, err := src.GetToken(ctx, n)
	if err != nil {
		return err
	}
	name, _ := UnescapeName(n) // n is in this module's form
	return dst.SetToken(ctx, name, tok)
}

// sameCredentials reports whether the credential stored as from in the
// v0.1.0 form and the one stored as to in this module's layout are the
// same.
func sameCredentials(ctx context.Context, src, dst *Store, from, to string) (bool, error) {
	a, err := src.GetCredentials(ctx, from)
	if err != nil {
		return false, err
	}
	b, err := dst.GetCredentials(ctx, to)
	if err != nil {
		return false, err
	}
	return a.Fingerprint() == b.Fingerprint(), nil
}

func mustEscape(name string) string {
	s, _ := EscapeName(name) // checked by the caller
	return s
}
