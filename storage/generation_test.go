package storage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/storage"
)

// TestGenerationAcrossManagers, at the Store: two
// Managers, each with its own FileVault on one directory as two processes
// would have, take turns at random to get, refresh-ahead and force-refresh
// one credential. A token's generation survives the Store, so a Manager
// that finds a newer token in the vault than its own uses it: every
// strategy call gets the newest refresh token, an older one never comes
// back, and the vault ends with the last token issued.
//
// The vault interface has no compare-and-swap, so this holds for vaults
// whose reads see the latest write, such as the file vault. One Manager
// alone also ignores a stale read (core's TestStaleReadNeverWins).
func TestGenerationAcrossManagers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	clock := coretest.NewFakeClock(t0)
	strat := &chainStrategy{CountingStrategy: &coretest.CountingStrategy{TTL: time.Minute, Clock: clock}}
	var ms [2]*core.Manager
	var stores [2]core.Store
	for i := range ms {
		fv := newFileVault(t, dir)
		stores[i] = newStore(t, fv, storage.Options{})
		m, err := core.New(core.Options{
			Store: stores[i], Locker: fv.Locker(),
			Strategies: []core.Strategy{strat}, Clock: clock, RefreshBuffer: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() }) // before the vault's cleanup
		ms[i] = m
	}
	ctx := context.Background()
	const name = "shared"
	if err := ms[0].SetCredentials(ctx, name, coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 19))
	for step := range 200 {
		clock.Advance([]time.Duration{70 * time.Second, 55 * time.Second, 5 * time.Second}[rng.IntN(3)])
		m := ms[rng.IntN(2)]
		var tok *core.Token
		var err error
		if rng.IntN(5) == 0 {
			tok, err = m.Refresh(ctx, name)
		} else {
			tok, err = m.Token(ctx, name)
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if !tok.Expiry.After(clock.Now()) {
			t.Fatalf("step %d: handed out a token that expired at %s", step, tok.Expiry)
		}
	}
	strat.checkChain(t)
	issued := strat.Calls.Load()
	for i, st := range stores {
		got, err := st.GetToken(ctx, name)
		if err != nil || got.Generation != uint64(issued) || got.RefreshToken != fmt.Sprintf("refresh-%d", issued) {
			t.Fatalf("Manager %d reads %v, %v from the vault; the last token issued is refresh-%d", i, got, err, issued)
		}
	}
	if issued < 20 {
		t.Fatalf("only %d tokens issued: the turns did not exercise refreshes", issued)
	}
}
