package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gateSetStore blocks SetCredentials while gate is set, after saying so
// on entered. With conflict set, SetToken stores a token of its own, as
// another writer would, and refuses the one it is given with
// ErrConflict.
type gateSetStore struct {
	Store
	gate     atomic.Bool
	conflict atomic.Bool
	entered  chan struct{}
	release  chan struct{}
}

func (s *gateSetStore) SetToken(ctx context.Context, name string, t *StoredToken) error {
	if s.conflict.Load() {
		theirs := *t
		theirs.AccessToken = "theirs"
		theirs.Generation++
		if err := s.Store.SetToken(ctx, name, &theirs); err != nil {
			return err
		}
		return ErrConflict
	}
	return s.Store.SetToken(ctx, name, t)
}

func (s *gateSetStore) SetCredentials(ctx context.Context, name string, c *Credentials) error {
	if s.gate.CompareAndSwap(true, false) {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Store.SetCredentials(ctx, name, c)
}

// doneSignalCtx says on waiting, once, that Done was first asked for: that
// its holder is about to block on it.
type doneSignalCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (c *doneSignalCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// A PutToken begun before Close, that waited for a SetCredentials of the
// same name while Close dropped the cache, leaves nothing cached: calls
// after Close still fail with ErrClosed. So does one whose write the
// store refuses for a newer token, which it would otherwise adopt.
func TestPutTokenAcrossCloseLeavesNothingCached(t *testing.T) {
	t.Run("stored", func(t *testing.T) { testPutTokenAcrossClose(t, false) })
	t.Run("conflict", func(t *testing.T) { testPutTokenAcrossClose(t, true) })
}

func testPutTokenAcrossClose(t *testing.T, conflict bool) {
	store := &gateSetStore{Store: NewMemoryStore(), entered: make(chan struct{}), release: make(chan struct{})}
	m := ttlManager(t, Options{Store: store})
	store.conflict.Store(conflict)
	ctx := context.Background()
	c := ttlCredentials(t)
	store.gate.Store(true)
	set := make(chan error, 1)
	go func() { set <- m.SetCredentials(ctx, "svc", c) }()
	select {
	case <-store.entered: // the entry of svc is dead until that Set returns
	case <-time.After(10 * time.Second):
		t.Fatal("SetCredentials did not reach the store")
	}
	putCtx := &doneSignalCtx{Context: ctx, waiting: make(chan struct{})}
	put := make(chan error, 1)
	go func() {
		put <- m.PutToken(putCtx, "svc", &Token{AccessToken: "put", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)})
	}()
	select {
	case <-putCtx.waiting: // PutToken passed open and waits for the Set
	case <-time.After(10 * time.Second):
		t.Fatal("PutToken did not wait for SetCredentials")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	close(store.release)
	for _, ch := range []chan error{set, put} {
		select {
		case err := <-ch:
			if err != nil && !(conflict && errors.Is(err, ErrConflict)) {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("call begun before Close did not return")
		}
	}
	if _, ok := m.Expiry("svc"); ok {
		t.Error("Expiry after Close: a token is cached")
	}
	if tok, err := m.Token(ctx, "svc"); !errors.Is(err, ErrClosed) {
		t.Errorf("Token after Close: %v, %v; want ErrClosed", tok, err)
	}
	if v, ok := m.entries.Load("svc"); ok {
		if cur := v.(*entry).cur.Load(); cur != nil {
			cur.retire()
		}
	}
}
