package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/plexusone/omnitoken/core"
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
// not write) and leaves the rest. Before writing anything it checks that
// no two credentials would get the same name and that no new name is
// taken by a credential already in this module's layout. A token whose
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
		if current[file] || (sources[file] && file != m.from) {
			return nil, fmt.Errorf("storage: migrate %q: the file of its new name %q is taken", m.from, m.to)
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
	if err := dst.SetCredentials(ctx, to, c); err != nil {
		return out, err
	}
	if tok != nil {
		if err := dst.SetToken(ctx, to, tok); err != nil {
			return out, err
		}
		out.Token = true
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

func mustEscape(name string) string {
	s, _ := EscapeName(name) // checked by the caller
	return s
}
