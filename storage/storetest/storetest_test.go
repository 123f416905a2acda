package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/internal/mutanttest"
	"github.com/plexusone/omnitoken/storage/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const mutantEnv = "STORETEST_MUTANT"

// core.MemoryStore passes.
func TestMemoryStore(t *testing.T) {
	storetest.TestStore(t, storetest.StoreOptions{
		New:            func(*testing.T) core.Store { return core.NewMemoryStore() },
		IgnoresContext: true,
	})
}

// The reference store passes, with and without a peer, and read-only.
func TestReferenceStore(t *testing.T) {
	storetest.TestStore(t, storeOptions(""))
}

func TestReferenceLocker(t *testing.T) {
	storetest.TestLocker(t, lockerOptions(""))
}

// refStore is a sound core.Store over a map shared by its peers. Its
// mutant field names a defect to build in, so that the suite can be
// shown to catch it.
type refStore struct {
	d      *refData
	mutant string
	cas    bool // refuse stale tokens with core.ErrConflict
}

type refData struct {
	mu    sync.RWMutex
	creds map[string]*core.Credentials
	toks  map[string]*core.StoredToken
	list  map[string]bool // names ListCredentials returns

	writes int // counted without the lock by the Racy mutant
}

func newRefStore(mutant string, cas bool) *refStore {
	return &refStore{d: &refData{creds: map[string]*core.Credentials{}, toks: map[string]*core.StoredToken{}, list: map[string]bool{}}, mutant: mutant, cas: cas}
}

// casMutants are the defects of a store that refuses stale tokens.
var casMutants = map[string]bool{"NoConflict": true, "EqualAccepted": true, "IgnoresFence": true, "WrongConflictError": true, "RefusesUndeclared": true}

// stale reports whether t is not newer than cur, for a cas store.
func (s *refStore) stale(t, cur *core.StoredToken) bool {
	switch s.mutant {
	case "NoConflict":
		return false
	case "EqualAccepted":
		return cur.Fence > t.Fence || (cur.Fence == t.Fence && cur.Generation > t.Generation)
	case "IgnoresFence":
		return cur.Generation >= t.Generation
	}
	return cur.Fence > t.Fence || (cur.Fence == t.Fence && cur.Generation >= t.Generation)
}

func (s *refStore) lock()    { s.d.mu.Lock() }
func (s *refStore) unlock()  { s.d.mu.Unlock() }
func (s *refStore) rlock()   { s.d.mu.RLock() }
func (s *refStore) runlock() { s.d.mu.RUnlock() }

// begin checks the context and the name of a call.
func (s *refStore) begin(ctx context.Context, name string) error {
	if s.mutant != "IgnoresContext" && s.mutant != "WritesDespiteCancel" {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("refstore: %w", err)
		}
	}
	return s.checkName(name)
}

func (s *refStore) checkName(name string) error {
	switch s.mutant {
	case "NoNameCheck":
		return nil
	case "ShortNames":
		if len(name) > 100 {
			return fmt.Errorf("refstore: %w: name too long", core.ErrInvalidCredentials)
		}
	case "LongNamesOK":
		if name == "" {
			return fmt.Errorf("refstore: %w: empty name", core.ErrInvalidCredentials)
		}
		return nil
	}
	if err := driver.CheckName(name); err != nil {
		return fmt.Errorf("refstore: %w", err)
	}
	return nil
}

// key maps a name to its map key.
func (s *refStore) key(name string) string {
	switch s.mutant {
	case "FoldsCase":
		return strings.ToLower(name)
	case "TrimsNames":
		return strings.TrimSpace(name)
	}
	return name
}

func (s *refStore) cloneToken(t *core.StoredToken) *core.StoredToken {
	switch s.mutant {
	case "ShallowCopy":
		c := *t
		return &c
	case "DropsExtra":
		c := t.Clone()
		c.Extra = nil
		return c
	case "TruncatesExpiry":
		c := t.Clone()
		c.Expiry = c.Expiry.Truncate(time.Second)
		return c
	}
	return t.Clone()
}

func (s *refStore) GetCredentials(ctx context.Context, name string) (*core.Credentials, error) {
	if err := s.begin(ctx, name); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	c, ok := s.d.creds[s.key(name)]
	if !ok {
		switch s.mutant {
		case "WrongSentinel":
			return nil, errors.New("refstore: no such credential")
		case "BareSentinel":
			return nil, core.ErrCredentialsNotFound
		}
		return nil, fmt.Errorf("refstore: %q: %w", name, core.ErrCredentialsNotFound)
	}
	if s.mutant == "SharesReturned" {
		return c, nil
	}
	return c.Clone(), nil
}

func (s *refStore) SetCredentials(ctx context.Context, name string, c *core.Credentials) error {
	if err := s.begin(ctx, name); err != nil {
		return err
	}
	if c == nil && s.mutant != "AcceptsNil" {
		return fmt.Errorf("refstore: %w: nil credentials", core.ErrInvalidCredentials)
	}
	if s.mutant == "WritesDespiteCancel" && ctx.Err() != nil {
		s.lock()
		defer s.unlock()
		s.d.creds[s.key(name)] = c.Clone()
		return fmt.Errorf("refstore: %w", ctx.Err())
	}
	if s.mutant == "Racy" {
		s.d.writes++ // outside the lock
	}
	s.lock()
	defer s.unlock()
	s.d.creds[s.key(name)] = c.Clone()
	s.d.list[s.key(name)] = true
	return nil
}

func (s *refStore) DeleteCredentials(ctx context.Context, name string) error {
	if err := s.begin(ctx, name); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	if _, ok := s.d.creds[s.key(name)]; !ok {
		if s.mutant == "DeleteMissingOK" {
			return nil
		}
		return fmt.Errorf("refstore: %q: %w", name, core.ErrCredentialsNotFound)
	}
	delete(s.d.creds, s.key(name))
	if s.mutant != "ListStale" {
		delete(s.d.list, s.key(name))
	}
	return nil
}

func (s *refStore) ListCredentials(ctx context.Context) ([]string, error) {
	if s.mutant != "IgnoresContext" && s.mutant != "WritesDespiteCancel" {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("refstore: %w", err)
		}
	}
	s.rlock()
	defer s.runlock()
	var out []string
	for n := range s.d.list {
		out = append(out, n)
	}
	if s.mutant == "ListsTokens" {
		for n := range s.d.toks {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *refStore) GetToken(ctx context.Context, name string) (*core.StoredToken, error) {
	if err := s.begin(ctx, name); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	t, ok := s.d.toks[s.key(name)]
	if !ok {
		if s.mutant == "NotFoundNil" {
			return nil, nil
		}
		return nil, fmt.Errorf("refstore: %q: %w", name, core.ErrTokenNotFound)
	}
	if t == nil {
		return nil, nil
	}
	return s.cloneToken(t), nil
}

func (s *refStore) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	if err := s.begin(ctx, name); err != nil {
		if s.mutant == "LeaksSecret" && t != nil {
			return fmt.Errorf("refstore: token %s: %w", t.AccessToken, err)
		}
		return err
	}
	if t == nil {
		if s.mutant != "AcceptsNil" {
			return fmt.Errorf("refstore: %w: nil token", core.ErrInvalidCredentials)
		}
		s.lock()
		defer s.unlock()
		s.d.toks[s.key(name)] = nil
		return nil
	}
	if s.mutant == "WritesDespiteCancel" && ctx.Err() != nil {
		s.lock()
		defer s.unlock()
		s.d.toks[s.key(name)] = t.Clone()
		return fmt.Errorf("refstore: %w", ctx.Err())
	}
	if s.mutant == "Racy" {
		s.d.writes++ // outside the lock
	}
	s.lock()
	defer s.unlock()
	if cur := s.d.toks[s.key(name)]; s.cas && cur != nil && s.stale(t, cur) {
		if s.mutant == "WrongConflictError" {
			return errors.New("refstore: stale token")
		}
		return fmt.Errorf("refstore: token %q: fence %d generation %d is not newer than fence %d generation %d: %w",
			name, t.Fence, t.Generation, cur.Fence, cur.Generation, core.ErrConflict)
	}
	if s.mutant == "SharesGiven" {
		s.d.toks[s.key(name)] = t
		return nil
	}
	s.d.toks[s.key(name)] = s.cloneToken(t)
	return nil
}

func (s *refStore) DeleteToken(ctx context.Context, name string) error {
	if err := s.begin(ctx, name); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	delete(s.d.toks, s.key(name))
	if s.mutant == "DeleteTokenDeletesCredentials" {
		delete(s.d.creds, s.key(name))
		delete(s.d.list, s.key(name))
	}
	return nil
}

var _ core.Store = (*refStore)(nil)

// storeOptions returns the suite's options for a refStore with the given
// mutant ("" for none).
func storeOptions(mutant string) storetest.StoreOptions {
	cas := casMutants[mutant]
	o := storetest.StoreOptions{
		New: func(*testing.T) core.Store { return newRefStore(mutant, cas) },
		Peer: func(_ *testing.T, s core.Store) core.Store {
			if mutant == "PeerIndependent" {
				return newRefStore(mutant, cas)
			}
			return &refStore{d: s.(*refStore).d, mutant: mutant, cas: cas}
		},
		RefusesStaleTokens: cas && mutant != "RefusesUndeclared",
	}
	if mutant == "ReadOnlyWrites" {
		o.ReadOnlyCredentials = true
		o.Seed = func(t *testing.T, s core.Store, name string, c *core.Credentials) {
			d := s.(*refStore).d
			d.mu.Lock()
			defer d.mu.Unlock()
			d.creds[name] = c.Clone()
			d.list[name] = true
		}
	}
	return o
}

// A reference store that refuses stale tokens passes with
// RefusesStaleTokens.
func TestReferenceStoreRefusingStaleTokens(t *testing.T) {
	o := storeOptions("")
	o.RefusesStaleTokens = true
	o.New = func(*testing.T) core.Store { return newRefStore("", true) }
	o.Peer = func(_ *testing.T, s core.Store) core.Store { return &refStore{d: s.(*refStore).d, cas: true} }
	storetest.TestStore(t, o)
}

// TestReadOnlyReference: a store whose credentials are only seeded passes
// with ReadOnlyCredentials.
func TestReadOnlyReference(t *testing.T) {
	o := storeOptions("")
	o.ReadOnlyCredentials = true
	o.Seed = func(t *testing.T, s core.Store, name string, c *core.Credentials) {
		// Through the sound store, behind the read-only wrapper's back.
		if err := s.(readOnly).refStore.SetCredentials(context.Background(), name, c); err != nil {
			t.Fatal(err)
		}
	}
	inner := o.New
	o.New = func(t *testing.T) core.Store { return readOnly{inner(t).(*refStore)} }
	o.Peer = nil
	storetest.TestStore(t, o)
}

// readOnly refuses credential writes.
type readOnly struct{ *refStore }

func (readOnly) SetCredentials(context.Context, string, *core.Credentials) error {
	return errors.New("refstore: read-only")
}

func (readOnly) DeleteCredentials(context.Context, string) error {
	return errors.New("refstore: read-only")
}

// refLocker is a sound core.Locker in memory. Each refLocker is a
// session, as a process is: killing it releases its locks, as the
// operating system releases a killed process's file locks. Its mutant
// field names a defect to build in.
type refLocker struct {
	st     *lockState
	dead   chan struct{}
	mutant string
	fences uint64 // the FencePerSession mutant's own counter
}

type lockState struct {
	mu      sync.Mutex
	held    map[string]*lease
	fences  map[string]uint64
	changed chan struct{} // closed and replaced on every release
}

type lease struct{ owner *refLocker }

func newRefLocker(mutant string) *refLocker {
	return &refLocker{st: &lockState{held: map[string]*lease{}, fences: map[string]uint64{}, changed: make(chan struct{})}, dead: make(chan struct{}), mutant: mutant}
}

// session returns a new session on the same locks.
func (l *refLocker) session() *refLocker {
	if l.mutant == "PeerIndependent" {
		return newRefLocker(l.mutant)
	}
	return &refLocker{st: l.st, dead: make(chan struct{}), mutant: l.mutant}
}

// kill ends the session, releasing its locks unless the mutant forgets.
func (l *refLocker) kill() {
	close(l.dead)
	l.st.mu.Lock()
	l.broadcast()
	l.st.mu.Unlock()
}

func (l *refLocker) broadcast() {
	close(l.st.changed)
	l.st.changed = make(chan struct{})
}

func (l *refLocker) alive(le *lease) bool {
	if l.mutant == "DeadBlocksForever" {
		return true
	}
	select {
	case <-le.owner.dead:
		return false
	default:
		return true
	}
}

func (l *refLocker) Lock(ctx context.Context, name string) (func(), error) {
	if l.mutant != "NoNameCheck" {
		if err := driver.CheckName(name); err != nil {
			return nil, fmt.Errorf("reflocker: %w", err)
		}
	}
	if l.mutant == "FoldsCase" {
		name = strings.ToLower(name)
	}
	if l.mutant != "IgnoresDoneContext" {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reflocker: %w", err)
		}
	}
	for {
		l.st.mu.Lock()
		le := l.st.held[name]
		if le == nil || !l.alive(le) || l.mutant == "NoExclusion" {
			mine := &lease{owner: l}
			l.st.held[name] = mine
			l.st.mu.Unlock()
			return func() {
				l.st.mu.Lock()
				defer l.st.mu.Unlock()
				if l.st.held[name] == mine || l.mutant == "UnlockReleasesAny" {
					delete(l.st.held, name)
					l.broadcast()
				}
			}, nil
		}
		ch := l.st.changed
		l.st.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			if l.mutant == "WrongContextError" {
				return nil, errors.New("reflocker: gave up")
			}
			return nil, fmt.Errorf("reflocker: %w", ctx.Err())
		}
	}
}

// LockFenced takes the lock and the name's next fence.
func (l *refLocker) LockFenced(ctx context.Context, name string) (uint64, func(), error) {
	if l.mutant == "FencedNoExclusion" {
		l.st.mu.Lock()
		defer l.st.mu.Unlock()
		l.st.fences[name]++
		return l.st.fences[name], func() {}, nil
	}
	unlock, err := l.Lock(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	switch l.mutant {
	case "ConstantFence":
		return 1, unlock, nil
	case "FencePerSession":
		l.fences++
		return l.fences, unlock, nil
	}
	l.st.fences[name]++
	return l.st.fences[name], unlock, nil
}

var _ core.FencingLocker = (*refLocker)(nil)

func lockerOptions(mutant string) storetest.LockerOptions {
	return storetest.LockerOptions{
		New:  func(*testing.T) core.Locker { return newRefLocker(mutant) },
		Peer: func(_ *testing.T, l core.Locker) core.Locker { return l.(*refLocker).session() },
		Abandon: func(t *testing.T, l core.Locker, name string) {
			holder := l.(*refLocker).session()
			if _, err := holder.Lock(context.Background(), name); err != nil {
				t.Fatal(err)
			}
			holder.kill()
		},
		DeadHolderTimeout: 2 * time.Second,
	}
}

// mutants are defects the suites must catch, each with the subtests that
// must fail.
var mutants = []struct {
	name     string
	locker   bool
	fails    []string
	raceOnly bool
}{
	{name: "NotFoundNil", fails: []string{"TokenNotFound", "TokenRoundTrip"}},
	{name: "WrongSentinel", fails: []string{"CredentialsNotFound", "CredentialsRoundTrip"}},
	{name: "BareSentinel", fails: []string{"CredentialsNotFound"}},
	{name: "DeleteMissingOK", fails: []string{"CredentialsNotFound"}},
	{name: "SharesGiven", fails: []string{"TokenPrivateCopies"}},
	{name: "SharesReturned", fails: []string{"CredentialsPrivateCopies"}},
	{name: "ShallowCopy", fails: []string{"TokenPrivateCopies"}},
	{name: "DropsExtra", fails: []string{"TokenRoundTrip"}},
	{name: "TruncatesExpiry", fails: []string{"TokenRoundTrip"}},
	{name: "FoldsCase", fails: []string{"Names"}},
	{name: "TrimsNames", fails: []string{"Names"}},
	{name: "ShortNames", fails: []string{"MaxNameLen"}},
	{name: "LongNamesOK", fails: []string{"MaxNameLen", "InvalidNames"}},
	{name: "NoNameCheck", fails: []string{"InvalidNames"}},
	{name: "AcceptsNil", fails: []string{"NilValues"}},
	{name: "ListsTokens", fails: []string{"CredentialsNotFound", "ListCredentials"}},
	{name: "ListStale", fails: []string{"ListCredentials"}},
	{name: "DeleteTokenDeletesCredentials", fails: []string{"TokenRoundTrip"}},
	{name: "IgnoresContext", fails: []string{"CancelledContext"}},
	{name: "WritesDespiteCancel", fails: []string{"CancelledContext"}},
	{name: "LeaksSecret", fails: []string{"InvalidNames", "MaxNameLen"}},
	{name: "ReadOnlyWrites", fails: []string{"ReadOnlyCredentials"}},
	{name: "PeerIndependent", fails: []string{"Peer", "ConcurrentWriters"}},
	{name: "Racy", fails: []string{"ConcurrentWriters"}, raceOnly: true},
	{name: "NoConflict", fails: []string{"StaleTokens"}},
	{name: "EqualAccepted", fails: []string{"StaleTokens"}},
	{name: "IgnoresFence", fails: []string{"StaleTokens"}},
	{name: "WrongConflictError", fails: []string{"StaleTokens"}},
	{name: "RefusesUndeclared", fails: []string{"StaleTokens"}},

	{name: "NoExclusion", locker: true, fails: []string{"BlocksWhileHeld", "UnlockIdempotent"}},
	{name: "WrongContextError", locker: true, fails: []string{"BlocksWhileHeld", "CancelWhileWaiting"}},
	{name: "IgnoresDoneContext", locker: true, fails: []string{"DoneContext"}},
	{name: "UnlockReleasesAny", locker: true, fails: []string{"UnlockIdempotent"}},
	{name: "FoldsCase", locker: true, fails: []string{"NamesIndependent"}},
	{name: "NoNameCheck", locker: true, fails: []string{"InvalidNames"}},
	{name: "DeadBlocksForever", locker: true, fails: []string{"DeadHolder"}},
	{name: "PeerIndependent", locker: true, fails: []string{"BlocksWhileHeld", "UnlockIdempotent"}},
	{name: "ConstantFence", locker: true, fails: []string{"Fences"}},
	{name: "FencePerSession", locker: true, fails: []string{"Fences"}},
	{name: "FencedNoExclusion", locker: true, fails: []string{"Fences"}},
}

// TestMutantChild runs a suite against one mutant; TestMutants starts it
// in a child process, since the suite failing is the expected outcome.
func TestMutantChild(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestMutants")
	}
	if n, ok := strings.CutPrefix(name, "locker/"); ok {
		storetest.TestLocker(t, lockerOptions(n))
		return
	}
	storetest.TestStore(t, storeOptions(name))
}

// The suites catch each defect: the child run fails in the expected
// subtests.
func TestMutants(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	for _, m := range mutants {
		id := m.name
		if m.locker {
			id = "locker/" + m.name
		}
		t.Run(id, func(t *testing.T) {
			mutanttest.RunChild(t, mutantEnv, id, m.raceOnly, m.fails)
		})
	}
}
