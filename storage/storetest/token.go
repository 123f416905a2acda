package storetest

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/plexusone/omnitoken/core"
)

// This file is the only place that knows the type a Store keeps tokens
// as. Everything else builds, changes and compares tokens through these
// helpers.

// storedToken is the type of the token a core.Store gets and sets.
type storedToken = core.StoredToken

// sampleToken returns a token with every field set, its secrets drawn
// from the suite's canaries, distinct for each i.
func sampleToken(i int) *storedToken {
	t := new(storedToken)
	t.AccessToken = fmt.Sprintf("%s-%d", canaryAccess, i)
	t.TokenType = "DPoP"
	t.RefreshToken = fmt.Sprintf("%s-%d", canaryRefresh, i)
	// Nanoseconds and a zone other than UTC: both must survive.
	t.Expiry = time.Date(2031, 2, 3, 4, 5, 6, 789012345+i, time.FixedZone("X", 5*3600+1800))
	t.Header = http.Header{"X-Api-Key": {canaryHeader}, "X-Multi": {"one", "two"}}
	t.Query = url.Values{"api_key": {canaryQuery}, "empty": {""}}
	t.Extra = map[string]any{
		"id_token": canaryExtra,
		"scope":    "read write",
		"n":        float64(42 + i),
		"ok":       true,
		"list":     []any{"a", float64(1), map[string]any{"k": "v"}},
		"nested":   map[string]any{"k": "v", "l": []any{"x"}},
	}
	t.IssuedAt = time.Date(2031, 2, 3, 3, 5, 6, 123456789, time.UTC)
	t.Generation = uint64(7 + i)
	t.CredentialsDigest = fmt.Sprintf("digest-%d", i)
	t.Fence = uint64(3 + i)
	return t
}

// newerToken returns an empty token newer than every sample token: both
// its fence and its generation are v.
func newerToken(v uint64) *storedToken {
	t := new(storedToken)
	t.Generation, t.Fence = v, v
	return t
}

// versionedToken returns a token with the given fence and generation, its
// other fields telling the two apart.
func versionedToken(fence, gen uint64) *storedToken {
	t := new(storedToken)
	t.AccessToken = fmt.Sprintf("%s-f%d-g%d", canaryAccess, fence, gen)
	t.Fence, t.Generation = fence, gen
	return t
}

// mutateToken changes t in place, through every field and every map or
// slice it holds, so that a store sharing memory with it shows the change.
func mutateToken(t *storedToken) {
	t.AccessToken = mutated
	t.TokenType = mutated
	t.RefreshToken = mutated
	t.Expiry = t.Expiry.Add(time.Hour)
	for _, vs := range t.Header {
		for i := range vs {
			vs[i] = mutated
		}
	}
	t.Header.Set("X-Mutated", mutated)
	for _, vs := range t.Query {
		for i := range vs {
			vs[i] = mutated
		}
	}
	if l, ok := t.Extra["list"].([]any); ok && len(l) > 0 {
		l[0] = mutated
	}
	if m, ok := t.Extra["nested"].(map[string]any); ok {
		m["k"] = mutated
	}
	t.Extra["id_token"] = mutated
	t.IssuedAt = t.IssuedAt.Add(time.Hour)
	t.Generation += 100
	t.CredentialsDigest = mutated
	t.Fence += 100
}

// tokenDiff returns the names of the fields in which got differs from
// want, or nil. It never returns a field's value, as values are secrets.
func tokenDiff(want, got *storedToken) []string {
	if want == nil || got == nil {
		if want != got {
			return []string{"nil"}
		}
		return nil
	}
	var d []string
	add := func(name string, same bool) {
		if !same {
			d = append(d, name)
		}
	}
	add("AccessToken", want.AccessToken == got.AccessToken)
	add("TokenType", want.TokenType == got.TokenType)
	add("RefreshToken", want.RefreshToken == got.RefreshToken)
	add("Expiry", want.Expiry.Equal(got.Expiry))
	add("Header", reflect.DeepEqual(want.Header, got.Header))
	add("Query", reflect.DeepEqual(want.Query, got.Query))
	add("Extra", reflect.DeepEqual(want.Extra, got.Extra))
	add("IssuedAt", want.IssuedAt.Equal(got.IssuedAt))
	add("Generation", want.Generation == got.Generation)
	add("CredentialsDigest", want.CredentialsDigest == got.CredentialsDigest)
	add("Fence", want.Fence == got.Fence)
	return d
}

// tokenSecrets returns the secrets a sample token holds.
func tokenSecrets() []string {
	return []string{canaryAccess, canaryRefresh, canaryHeader, canaryQuery, canaryExtra}
}
