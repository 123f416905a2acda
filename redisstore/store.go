package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
)

// casScript writes the token record unless what Redis holds is not
// older: a higher fence, or the same fence and a higher or equal
// generation. When Redis holds no record (it restarted empty) the durable
// store's version, passed as ARGV[4] and ARGV[5] when ARGV[6] is "1",
// stands in for it. Fences and generations are compared as decimal
// strings, exactly, as uint64. A written fence above the fencing counter
// (KEYS[2]) raises it, so every lease granted later carries a higher
// fence: a token written under an uncoordinated fence (see
// LockerOptions.AllowUncoordinated) never makes later leases' writes
// look older. Returns {1} when written, or {0, fence, generation} of what
// is kept.
var casScript = goredis.NewScript(`
local function lt(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function older(af, ag, bf, bg)
  if af ~= bf then return lt(af, bf) end
  return lt(ag, bg)
end
local cur = redis.call('HMGET', KEYS[1], 'f', 'g')
local hf, hg = cur[1], cur[2]
if not hf and ARGV[6] == '1' then
  hf, hg = ARGV[4], ARGV[5]
end
if hf and not older(hf, hg, ARGV[1], ARGV[2]) then
  return {0, hf, hg}
end
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'g', ARGV[2], 'v', ARGV[3])
local c = redis.call('GET', KEYS[2]) or '0'
if lt(c, ARGV[1]) and lt(ARGV[1], '9223372036854775807') then
  redis.call('SET', KEYS[2], ARGV[1])
end
return {1}
`)

// StoreOptions configures a Store.
type StoreOptions struct {
	// Cipher encrypts the token records in Redis. Required: see
	// NewAESGCM, or NewKeysCipher to share the vault's keys.
	Cipher Cipher
	// Prefix starts every key; it must match the Locker's. Default
	// DefaultPrefix.
	Prefix string
	// Logger receives warnings; no secret. Default: discard.
	Logger *slog.Logger
}

// Store is a core.Store for replicas: credentials live in a durable
// store (a vault), tokens in a shared record on Redis, versioned and
// encrypted, and written through to the durable store.
//
// GetToken reads Redis (one round trip) and falls back to the durable
// store when Redis holds no record, as after a restart without
// persistence. SetToken first reads the durable store's token, then
// writes the record with one compare-and-swap script (one round trip)
// that refuses a token not newer than the one held, by (fence,
// generation), with an error matching core.ErrConflict (the Manager then
// adopts the stored token; a write it retries carries a new fence). Then
// it writes the token to the durable store too, so that a rotated refresh
// token survives the loss of everything in Redis, and reads the record
// once more (one round trip): if a newer token was stored meanwhile (this
// writer was paused between its two writes), it copies that one to the
// durable store and returns an error matching core.ErrConflict. When
// Redis is unavailable SetToken still writes the durable store and
// returns an error matching ErrUnavailable, so the Manager keeps the
// token and writes it again later.
//
// Credentials methods go to the durable store unchanged. A Store is safe
// for concurrent use; it closes neither the client nor the durable store.
type Store struct {
	core.Store
	durable core.Store
	c       goredis.UniversalClient
	prefix  string
	cipher  Cipher
	log     *slog.Logger
}

// NewStore returns a Store keeping tokens on c and credentials (and a
// durable copy of each token) in durable.
func NewStore(c goredis.UniversalClient, durable core.Store, opts StoreOptions) (*Store, error) {
	if c == nil || durable == nil {
		return nil, fmt.Errorf("redisstore: %w: a Redis client and a durable store are both required", core.ErrVaultNotConfigured)
	}
	if opts.Cipher == nil {
		return nil, fmt.Errorf("redisstore: %w: no Cipher: tokens in Redis must be encrypted", core.ErrVaultNotConfigured)
	}
	prefix, err := checkPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{Store: durable, durable: durable, c: c, prefix: prefix, cipher: opts.Cipher, log: log}, nil
}

// Durable returns the store that keeps credentials and the durable copy
// of tokens.
func (s *Store) Durable() core.Store { return s.durable }

// additionalData binds a record's ciphertext to its name and version.
// The fence and generation are digits, so the name, last, cannot make two
// records' data equal.
func additionalData(name string, fence, gen string) []byte {
	return []byte("redis token " + fence + "." + gen + " " + name)
}

// GetToken implements core.Store.
func (s *Store) GetToken(ctx context.Context, name string) (*core.StoredToken, error) {
	k, err := keysFor(s.prefix, name)
	if err != nil {
		return nil, err
	}
	t, err := s.read(ctx, name, k)
	if err != nil || t != nil {
		return t, err
	}
	return s.durable.GetToken(ctx, name)
}

// read returns the Redis record of name, or nil when there is none.
func (s *Store) read(ctx context.Context, name string, k keys) (*core.StoredToken, error) {
	vals, err := s.c.HMGet(ctx, k.token, "f", "g", "v").Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: token %q: %w", name, unavailable(err))
	}
	f, _ := vals[0].(string)
	g, _ := vals[1].(string)
	v, _ := vals[2].(string)
	if f == "" || g == "" || v == "" {
		return nil, nil
	}
	fence, ferr := strconv.ParseUint(f, 10, 64)
	gen, gerr := strconv.ParseUint(g, 10, 64)
	if ferr != nil || gerr != nil {
		return nil, fmt.Errorf("redisstore: token %q: %w: the record's version is malformed", name, core.ErrInvalidCredentials)
	}
	pt, err := s.cipher.Open([]byte(v), additionalData(name, f, g))
	if err != nil {
		return nil, fmt.Errorf("redisstore: token %q: %w: %w", name, core.ErrInvalidCredentials, err)
	}
	t, err := core.ParseStoredToken(pt)
	if err != nil {
		return nil, fmt.Errorf("redisstore: token %q: %w", name, err)
	}
	t.Generation = gen
	t.Fence = fence
	return t, nil
}

// SetToken implements core.Store; see Store for what it writes where.
func (s *Store) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	k, err := keysFor(s.prefix, name)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("redisstore: token %q: %w: nil token", name, core.ErrInvalidCredentials)
	}
	f := strconv.FormatUint(t.Fence, 10)
	g := strconv.FormatUint(t.Generation, 10)
	floorF, floorG, hasFloor := "0", "0", "0"
	durable, derr := s.durable.GetToken(ctx, name)
	switch {
	case derr == nil:
		floorF, floorG, hasFloor = strconv.FormatUint(durable.Fence, 10), strconv.FormatUint(durable.Generation, 10), "1"
	case !errors.Is(derr, core.ErrTokenNotFound):
		s.log.Warn("redisstore: reading the durable token failed", "name", name, "error", derr)
	}
	pt, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("redisstore: token %q: %w", name, err)
	}
	ct, err := s.cipher.Seal(pt, additionalData(name, f, g))
	if err != nil {
		return fmt.Errorf("redisstore: token %q: %w", name, err)
	}
	res, err := casScript.Run(ctx, s.c, []string{k.token, k.fence}, f, g, ct, floorF, floorG, hasFloor).Slice()
	if err != nil {
		rerr := fmt.Errorf("redisstore: token %q: the shared record was not written: %w", name, unavailable(err))
		if !errors.Is(rerr, ErrUnavailable) {
			return rerr
		}
		// Keep a rotated refresh token durable whatever happens to Redis;
		// the error makes the Manager write it again once Redis is back.
		return errors.Join(rerr, s.writeThrough(ctx, name, t, durable))
	}
	if len(res) == 3 {
		return fmt.Errorf("redisstore: token %q: %w: the store holds fence %v generation %v, not older than fence %s generation %s",
			name, core.ErrConflict, res[1], res[2], f, g)
	}
	if err := s.writeThrough(ctx, name, t, durable); err != nil {
		return err
	}
	return s.settle(ctx, name, k, t)
}

// settleTries bounds how often settle copies a newer record to the
// durable store; each further copy needs yet another pause of this
// writer while yet another newer token is stored.
const settleTries = 3

// settle runs after a token was written to Redis and to the durable
// store: with one more read it checks that Redis holds nothing newer, as
// when this writer was paused between the two writes and a newer holder
// wrote both meanwhile, so this write-through replaced the newer durable
// copy. The durable store has no compare-and-swap; settle copies the
// newer record back to it, and reports ErrConflict so that the Manager
// adopts the newer token instead of serving its own.
func (s *Store) settle(ctx context.Context, name string, k keys, written *core.StoredToken) error {
	superseded := false
	for range settleTries {
		cur, err := s.read(ctx, name, k)
		if err != nil {
			s.log.Warn("redisstore: checking the durable copy against Redis failed", "name", name, "error", err)
			break
		}
		if cur == nil || !newer(cur, written) {
			break
		}
		superseded = true
		if err := s.durable.SetToken(ctx, name, cur); err != nil {
			return fmt.Errorf("redisstore: token %q: %w: a newer token was stored meanwhile, and copying it to the durable store failed: %w", name, core.ErrConflict, err)
		}
		written = cur
	}
	if superseded {
		return fmt.Errorf("redisstore: token %q: %w: a newer token (fence %d generation %d) was stored while this one was written", name, core.ErrConflict, written.Fence, written.Generation)
	}
	return nil
}

// newer reports whether a is a later version than b: a higher fence, or
// the same fence and a higher generation.
func newer(a, b *core.StoredToken) bool {
	return a.Fence > b.Fence || a.Fence == b.Fence && a.Generation > b.Generation
}

// writeThrough writes t to the durable store unless what it held when
// SetToken began (cur) is newer.
func (s *Store) writeThrough(ctx context.Context, name string, t, cur *core.StoredToken) error {
	if cur != nil && newer(cur, t) {
		return nil
	}
	if err := s.durable.SetToken(ctx, name, t); err != nil {
		return fmt.Errorf("redisstore: token %q: the durable copy was not written: %w", name, err)
	}
	return nil
}

// DeleteToken implements core.Store: it deletes the Redis record and the
// durable copy. The fencing counter stays, so fences keep increasing.
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	k, err := keysFor(s.prefix, name)
	if err != nil {
		return err
	}
	var errs []error
	if err := s.c.Del(ctx, k.token).Err(); err != nil {
		errs = append(errs, fmt.Errorf("redisstore: token %q: %w", name, unavailable(err)))
	}
	if err := s.durable.DeleteToken(ctx, name); err != nil && !errors.Is(err, core.ErrTokenNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

var _ core.Store = (*Store)(nil)
