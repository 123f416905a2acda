package core

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A PutToken that returns while SetCredentials drops the cached token
// must not read the cache after its write: the token it reports is the
// one it stored, not whatever the cache holds by then (nothing, here).
func TestPutTokenRacingSetCredentials(t *testing.T) {
	m := freshManager(t, time.Hour, time.Second)
	ctx := context.Background()
	c := ttlCredentials(t)
	deadline := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		var wg sync.WaitGroup
		wg.Add(2)
		panicked := make(chan any, 1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panicked <- p
				}
			}()
			_ = m.PutToken(ctx, "svc", &Token{AccessToken: fmt.Sprintf("put-%d", i), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)})
		}()
		go func() {
			defer wg.Done()
			_ = m.SetCredentials(ctx, "svc", c)
		}()
		wg.Wait()
		select {
		case p := <-panicked:
			t.Fatalf("PutToken panicked after %d rounds: %v", i, p)
		default:
		}
	}
}
