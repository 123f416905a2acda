package coretest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// A fake clock moves a Manager's tokens past expiry without sleeping.
func ExampleFakeClock() {
	clock := coretest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	strategy := &coretest.CountingStrategy{TTL: time.Hour, Clock: clock}
	m, _ := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{strategy}, Clock: clock})
	defer m.Close()
	ctx := context.Background()
	_ = m.SetCredentials(ctx, "svc", coretest.Credentials("counting"))

	a, _ := m.Token(ctx, "svc")
	clock.Advance(2 * time.Hour)
	b, _ := m.Token(ctx, "svc")
	fmt.Println(a.AuthorizationHeader(), "->", b.AuthorizationHeader(), "calls:", strategy.Calls.Load())
	// Output: Bearer access-1 -> Bearer access-2 calls: 2
}
