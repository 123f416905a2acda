package plugins

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/core"
)

// TestEveryCoreSentinelCrosses: each sentinel error that core declares
// is in kinds, so a strategy's error keeps matching it on the host. A
// sentinel added to core fails this test until it is given a kind.
func TestEveryCoreSentinelCrosses(t *testing.T) {
	byName := map[string]error{
		"ErrCredentialsNotFound":       core.ErrCredentialsNotFound,
		"ErrTokenNotFound":             core.ErrTokenNotFound,
		"ErrTokenExpired":              core.ErrTokenExpired,
		"ErrRefreshFailed":             core.ErrRefreshFailed,
		"ErrInvalidCredentials":        core.ErrInvalidCredentials,
		"ErrVaultNotConfigured":        core.ErrVaultNotConfigured,
		"ErrUnsupportedCredentialType": core.ErrUnsupportedCredentialType,
		"ErrClosed":                    core.ErrClosed,
		"ErrReauthRequired":            core.ErrReauthRequired,
		"ErrPersistFailed":             core.ErrPersistFailed,
	}
	// Sentinels only a Store returns: a strategy never does, so they need
	// no kind.
	storeOnly := map[string]string{
		"ErrConflict": "Store.SetToken returns it; strategies do not write tokens",
	}
	files, err := filepath.Glob(filepath.Join("..", "core", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("core sources: %v %v", files, err)
	}
	var declared []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for i, name := range spec.(*ast.ValueSpec).Values {
					call, ok := name.(*ast.CallExpr)
					if !ok {
						continue
					}
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "New" && fmtName(sel.X) == "errors" {
						declared = append(declared, spec.(*ast.ValueSpec).Names[i].Name)
					}
				}
			}
		}
	}
	if len(declared) < len(byName)+len(storeOnly) {
		t.Fatalf("found %d sentinels in core (%v), want at least %d; the check would pass vacuously", len(declared), declared, len(byName)+len(storeOnly))
	}
	for _, name := range declared {
		if !strings.HasPrefix(name, "Err") {
			continue
		}
		if why, ok := storeOnly[name]; ok {
			t.Logf("core.%s does not cross: %s", name, why)
			continue
		}
		sentinel, ok := byName[name]
		if !ok {
			t.Errorf("core declares %s: add it to this test and to kinds (and to strategy.proto)", name)
			continue
		}
		found := false
		for _, k := range kinds {
			found = found || errors.Is(k.err, sentinel)
		}
		if !found {
			t.Errorf("core.%s has no kind: a strategy's error matching it loses that meaning on the host", name)
		}
	}
}

func fmtName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}
