package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// CredentialName is the name the single-credential scenarios use.
const CredentialName = "svc"

// StampedePhase is what one wave of goroutines saw.
type StampedePhase struct {
	// Requests is the token-endpoint requests the wave caused.
	Requests int
	// Tokens is the number of distinct access tokens the goroutines got.
	Tokens int
	// Errors is the Token calls that failed.
	Errors int
}

// StampedeResult is the outcome of Stampede.
type StampedeResult struct {
	// Goroutines is the number of callers in each wave.
	Goroutines int
	// Cold is the wave on a credential with no token anywhere.
	Cold StampedePhase
	// Expired is the wave after the token expired (by a fake clock); its
	// refresh rotates the refresh token.
	Expired StampedePhase
	// RotatedRefreshTokenStored reports that the vault holds the refresh
	// token the IdP issued last.
	RotatedRefreshTokenStored bool
	// IdP is the token endpoint's final counts.
	IdP IdPStats
}

// Stampede runs C: goroutines goroutines call Token on
// one credential at once, first with no token anywhere, then after the
// token expired. The credential is an oauth2 client_credentials one
// against an IdP that issues and rotates refresh tokens; tokens are kept
// in a FileVault in dir, whose FileLocker the Manager uses. Time is a
// coretest.FakeClock shared by the Manager and the strategy.
//
// Each wave is a real stampede: the IdP holds the wave's first request
// until every goroutine of the wave has started, so the goroutines meet
// the refresh in flight rather than one after another.
func Stampede(ctx context.Context, dir string, goroutines int) (*StampedeResult, error) {
	const ttl = time.Hour
	idp := NewIdP(IdPOptions{TTL: ttl})
	defer idp.Close()
	clk := coretest.NewFakeClock(time.Now())
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		return nil, err
	}
	defer fv.Close()
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		return nil, err
	}
	m, err := core.New(core.Options{
		Store:      st,
		Strategies: []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true, Clock: clk})},
		Clock:      clk,
		Locker:     fv.Locker(),
	})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := m.SetCredentials(ctx, CredentialName, idp.Credentials()); err != nil {
		return nil, err
	}

	res := &StampedeResult{Goroutines: goroutines}
	if res.Cold, err = wave(ctx, m, idp, goroutines); err != nil {
		return nil, err
	}
	clk.Advance(ttl + time.Minute)
	if res.Expired, err = wave(ctx, m, idp, goroutines); err != nil {
		return nil, err
	}
	stored, err := st.GetToken(ctx, CredentialName)
	if err != nil {
		return nil, err
	}
	res.RotatedRefreshTokenStored = stored.RefreshToken != "" && stored.RefreshToken == idp.LatestRefreshToken()
	res.IdP = idp.Stats()
	return res, nil
}

// wave releases n goroutines from a barrier onto m.Token, holding the
// endpoint until all of them have started.
func wave(ctx context.Context, m *core.Manager, idp *IdP, n int) (StampedePhase, error) {
	before := idp.Stats().Requests
	var started atomic.Int64
	allStarted := make(chan struct{})
	idp.SetHold(func(rctx context.Context) error {
		select {
		case <-allStarted:
			return nil
		case <-rctx.Done():
			return rctx.Err()
		}
	})
	defer idp.SetHold(nil)

	barrier := make(chan struct{})
	toks := make([]*core.Token, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-barrier
			if started.Add(1) == int64(n) {
				close(allStarted)
			}
			toks[i], errs[i] = m.Token(ctx, CredentialName)
		})
	}
	close(barrier)
	wg.Wait()

	ph := StampedePhase{Requests: idp.Stats().Requests - before}
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			ph.Errors++
			continue
		}
		seen[toks[i].AccessToken] = true
	}
	ph.Tokens = len(seen)
	if ph.Errors > 0 {
		return ph, fmt.Errorf("loadtest: %d of %d Token calls failed: %w", ph.Errors, n, firstErr(errs))
	}
	return ph, nil
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
