package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

func newKeys(t testing.TB, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		k, err := storage.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k
	}
	return out
}

func parseKeys(t testing.TB, keys ...string) *storage.Keys {
	t.Helper()
	ks, err := storage.ParseKeys(strings.Join(keys, ","))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func encStore(t testing.TB, v vault.Vault, ks *storage.Keys, opts storage.EncryptOptions) (*storage.Store, *storage.EncryptedVault) {
	t.Helper()
	ev, err := storage.EncryptVault(v, ks, opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.New(ev, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st, ev
}

// setToken and tokenAccess keep the tests independent of the Store's
// token type.
func setToken(t testing.TB, st *storage.Store, name, access string) {
	t.Helper()
	tok := &core.StoredToken{Token: core.Token{AccessToken: access, RefreshToken: access + "-refresh", Expiry: time.Unix(2e9, 0).UTC()}}
	if err := st.SetToken(context.Background(), name, tok); err != nil {
		t.Fatal(err)
	}
}

func tokenAccess(st *storage.Store, name string) (string, error) {
	tok, err := st.GetToken(context.Background(), name)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// grepDir reports the files under dir whose bytes contain secret.
func grepDir(t *testing.T, dir, secret string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			hits = append(hits, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestEncryptedFileVaultHoldsNoSecret(t *testing.T) {
	dir := t.TempDir()
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	ks := parseKeys(t, newKeys(t, 1)...)
	st, _ := encStore(t, fv, ks, storage.EncryptOptions{})
	ctx := context.Background()
	if err := st.SetCredentials(ctx, "github", githubCreds(t)); err != nil {
		t.Fatal(err)
	}
	setToken(t, st, "github", canary+"-access")
	if hits := grepDir(t, dir, canary); len(hits) > 0 {
		t.Fatalf("the canary is in %v", hits)
	}
	// The mutant: the same writes without encryption do leave it.
	plain := newStore(t, fv, storage.Options{})
	setToken(t, plain, "other", canary)
	if hits := grepDir(t, dir, canary); len(hits) != 1 {
		t.Fatalf("the grep cannot see a plaintext canary: %v", hits)
	}

	got, err := st.GetCredentials(ctx, "github")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(jsonOf(t, got), jsonOf(t, githubCreds(t))) {
		t.Fatalf("credentials do not round-trip: %s", jsonOf(t, got))
	}
	if a, err := tokenAccess(st, "github"); err != nil || a != canary+"-access" {
		t.Fatalf("token = %q, %v", a, err)
	}
	names, err := st.ListCredentials(ctx)
	if err != nil || len(names) != 1 || names[0] != "github" {
		t.Fatalf("list = %v, %v", names, err)
	}
}

func TestEncryptedWrongOrMissingKey(t *testing.T) {
	mem := memory.New()
	k := newKeys(t, 2)
	st, _ := encStore(t, mem, parseKeys(t, k[0]), storage.EncryptOptions{})
	ctx := context.Background()
	if err := st.SetCredentials(ctx, "acme/prod", githubCreds(t)); err != nil {
		t.Fatal(err)
	}
	setToken(t, st, "acme/prod", canary)

	other, _ := encStore(t, mem, parseKeys(t, k[1]), storage.EncryptOptions{AllowPlaintext: true})
	_, err := other.GetCredentials(ctx, "acme/prod")
	checkDecryptErr(t, err, `"acme/prod"`, "not among the configured keys")
	_, err = tokenAccess(other, "acme/prod")
	checkDecryptErr(t, err, `"acme/prod"`, "not among the configured keys")

	// Without any key, the sealed value is refused, not handed out.
	raw := newStore(t, mem, storage.Options{})
	_, err = raw.GetCredentials(ctx, "acme/prod")
	checkDecryptErr(t, err, `"acme/prod"`, "no key is configured", storage.EnvKey)
	_, err = tokenAccess(raw, "acme/prod")
	checkDecryptErr(t, err, `"acme/prod"`, "no key is configured")

	if _, err := storage.EncryptVault(mem, nil, storage.EncryptOptions{}); !errors.Is(err, storage.ErrNoKey) {
		t.Fatalf("no keys: %v", err)
	}
	t.Setenv(storage.EnvKey, "")
	t.Setenv(storage.EnvKeyFile, "")
	if _, err := storage.KeysFromEnv(); !errors.Is(err, storage.ErrNoKey) || !strings.Contains(err.Error(), storage.EnvKey) {
		t.Fatalf("KeysFromEnv without env: %v", err)
	}
}

func checkDecryptErr(t *testing.T, err error, wants ...string) {
	t.Helper()
	if !errors.Is(err, storage.ErrDecrypt) {
		t.Fatalf("error %v does not match ErrDecrypt", err)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), canary) {
		t.Errorf("error quotes the secret: %v", err)
	}
}

func TestEncryptedFlippedByte(t *testing.T) {
	mem := memory.New()
	st, _ := encStore(t, mem, parseKeys(t, newKeys(t, 1)...), storage.EncryptOptions{AllowPlaintext: true})
	setToken(t, st, "github", canary)
	p, _ := st.TokenPath("github")
	ctx := context.Background()
	orig, err := mem.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	val := orig.Value
	// Every byte position, each flipped in its low bit: never a token,
	// always ErrDecrypt naming the credential.
	for i := range len(val) {
		b := []byte(val)
		b[i] ^= 1
		if err := mem.Set(ctx, p, &vault.Secret{Value: string(b)}); err != nil {
			t.Fatal(err)
		}
		a, err := tokenAccess(st, "github")
		if err == nil {
			t.Fatalf("byte %d flipped: read succeeded with %q", i, a)
		}
		checkDecryptErr(t, err, `"github"`)
	}
	if err := mem.Set(ctx, p, orig); err != nil {
		t.Fatal(err)
	}
	if a, err := tokenAccess(st, "github"); err != nil || a != canary {
		t.Fatalf("restored value: %q, %v", a, err)
	}
}

func TestEncryptedValueBoundToPath(t *testing.T) {
	mem := memory.New()
	st, _ := encStore(t, mem, parseKeys(t, newKeys(t, 1)...), storage.EncryptOptions{})
	setToken(t, st, "alice", "alice-token")
	setToken(t, st, "bob", "bob-token")
	ctx := context.Background()
	pa, _ := st.TokenPath("alice")
	pb, _ := st.TokenPath("bob")
	s, err := mem.Get(ctx, pa)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Set(ctx, pb, s); err != nil {
		t.Fatal(err)
	}
	_, err = tokenAccess(st, "bob")
	checkDecryptErr(t, err, `"bob"`, "fails authentication")
}

func TestEncryptedRotationAndRekey(t *testing.T) {
	mem := memory.New()
	k := newKeys(t, 2)
	old, new := k[0], k[1]
	stOld, _ := encStore(t, mem, parseKeys(t, old), storage.EncryptOptions{})
	for i := range 5 {
		setToken(t, stOld, fmt.Sprintf("svc-%d", i), fmt.Sprintf("tok-%d", i))
	}
	// New key first, old kept: reads every old value, writes with the new.
	st, ev := encStore(t, mem, parseKeys(t, new, old), storage.EncryptOptions{})
	for i := range 5 {
		if a, err := tokenAccess(st, fmt.Sprintf("svc-%d", i)); err != nil || a != fmt.Sprintf("tok-%d", i) {
			t.Fatalf("svc-%d under rotation: %q, %v", i, a, err)
		}
	}
	setToken(t, st, "svc-0", "tok-0b")
	if _, err := tokenAccess(stOld, "svc-0"); !errors.Is(err, storage.ErrDecrypt) {
		t.Fatalf("a write after rotation is still readable with the old key alone: %v", err)
	}
	res, err := storage.Rekey(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewritten != 4 || res.Current != 1 {
		t.Fatalf("rekey = %+v, want 4 rewritten, 1 current", res)
	}
	// The old key can now go.
	stNew, ev2 := encStore(t, mem, parseKeys(t, new), storage.EncryptOptions{})
	for i, want := range []string{"tok-0b", "tok-1", "tok-2", "tok-3", "tok-4"} {
		if a, err := tokenAccess(stNew, fmt.Sprintf("svc-%d", i)); err != nil || a != want {
			t.Fatalf("svc-%d after rekey: %q, %v", i, a, err)
		}
	}
	if res, err := storage.Rekey(context.Background(), ev2); err != nil || res.Rewritten != 0 || res.Current != 5 {
		t.Fatalf("second rekey = %+v, %v", res, err)
	}
}

func TestEncryptPlaintextVaultInPlace(t *testing.T) {
	dir := t.TempDir()
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	ctx := context.Background()
	plain := newStore(t, fv, storage.Options{})
	if err := plain.SetCredentials(ctx, "github", githubCreds(t)); err != nil {
		t.Fatal(err)
	}
	setToken(t, plain, "github", canary)

	ks := parseKeys(t, newKeys(t, 1)...)
	strict, _ := encStore(t, fv, ks, storage.EncryptOptions{})
	_, err = strict.GetCredentials(ctx, "github")
	checkDecryptErr(t, err, `"github"`, "plaintext", "Rekey")

	// Migration: plaintext readable, new writes sealed, so the vault is
	// mixed for a while.
	mig, ev := encStore(t, fv, ks, storage.EncryptOptions{AllowPlaintext: true})
	setToken(t, mig, "github", canary+"-2")
	if _, err := mig.GetCredentials(ctx, "github"); err != nil {
		t.Fatalf("mixed vault, plaintext credential: %v", err)
	}
	if a, err := tokenAccess(mig, "github"); err != nil || a != canary+"-2" {
		t.Fatalf("mixed vault, sealed token: %q, %v", a, err)
	}
	if len(grepDir(t, dir, canary)) != 1 {
		t.Fatal("want the canary in the plaintext credential only")
	}
	res, err := storage.Rekey(ctx, ev)
	if err != nil || res.Rewritten != 1 || res.Current != 1 {
		t.Fatalf("rekey = %+v, %v", res, err)
	}
	if hits := grepDir(t, dir, canary); len(hits) > 0 {
		t.Fatalf("after rekey the canary is in %v", hits)
	}
	if _, err := strict.GetCredentials(ctx, "github"); err != nil {
		t.Fatalf("strict read after rekey: %v", err)
	}

	// A value that is neither sealed nor JSON is never taken for plaintext.
	p, _ := mig.CredentialsPath("bad")
	if err := fv.Set(ctx, p, &vault.Secret{Value: "Xmnitoken:aes256gcm:v1:AAAA"}); err != nil {
		t.Fatal(err)
	}
	_, err = mig.GetCredentials(ctx, "bad")
	checkDecryptErr(t, err, `"bad"`, "neither sealed nor")
}

func TestParseKeys(t *testing.T) {
	k := newKeys(t, 2)
	ks, err := storage.ParseKeys("# rotated in March\n" + k[0] + "\n" + k[1] + "\n")
	if err != nil || len(ks.IDs()) != 2 {
		t.Fatalf("ParseKeys: %v, %v", ks, err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, ks)
		if strings.Contains(out, k[0]) || strings.Contains(out, k[1]) || !strings.Contains(out, ks.IDs()[0]) {
			t.Errorf("%s of Keys = %q", f, out)
		}
	}
	short := "c2hvcnQta2V5LXMzY3IzdA==" // 16 bytes
	for _, bad := range []string{"", "# only a comment", short, "not base64 " + canary, k[0] + "," + k[0]} {
		_, err := storage.ParseKeys(bad)
		if err == nil {
			t.Errorf("ParseKeys(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), short) || strings.Contains(err.Error(), k[0]) {
			t.Errorf("error quotes the key text: %v", err)
		}
	}

	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(k[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(storage.EnvKey, "")
	t.Setenv(storage.EnvKeyFile, file)
	fromFile, err := storage.KeysFromEnv()
	if err != nil || fromFile.IDs()[0] != ks.IDs()[1] {
		t.Fatalf("KeysFromEnv from file: %v, %v", fromFile, err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.KeysFromEnv(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key file readable by others was accepted: %v", err)
	}
	t.Setenv(storage.EnvKey, k[0])
	fromEnv, err := storage.KeysFromEnv()
	if err != nil || fromEnv.IDs()[0] != ks.IDs()[0] {
		t.Fatalf("KeysFromEnv: OMNITOKEN_KEY should win: %v, %v", fromEnv, err)
	}
}

// BenchmarkCodec measures a Store's token read and write over a memory
// vault, plain and encrypted, in the same run: the ratio is the added
// cost of encryption.
func BenchmarkCodec(b *testing.B) {
	ks := parseKeys(b, newKeys(b, 1)...)
	for _, enc := range []bool{false, true} {
		var st *storage.Store
		if enc {
			st, _ = encStore(b, memory.New(), ks, storage.EncryptOptions{})
		} else {
			var err error
			if st, err = storage.New(memory.New(), storage.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		name := map[bool]string{false: "plain", true: "aes256gcm"}[enc]
		setToken(b, st, "github", strings.Repeat("a", 900)) // a token with an ID token
		b.Run(name+"/read", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tokenAccess(st, "github"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/write", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				setToken(b, st, "github", "tok")
			}
		})
	}
}

// BenchmarkCodecPaired alternates a plain and an encrypted operation in
// each iteration, so that both see the same load on a shared machine, and
// reports each one's time and their ratio (enc/plain).
func BenchmarkCodecPaired(b *testing.B) {
	ks := parseKeys(b, newKeys(b, 1)...)
	plain, err := storage.New(memory.New(), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	enc, _ := encStore(b, memory.New(), ks, storage.EncryptOptions{})
	big := strings.Repeat("a", 900)
	for _, op := range []string{"read", "write"} {
		b.Run(op, func(b *testing.B) {
			setToken(b, plain, "github", big)
			setToken(b, enc, "github", big)
			var tPlain, tEnc time.Duration
			run := func(st *storage.Store) time.Duration {
				start := time.Now()
				if op == "read" {
					if _, err := tokenAccess(st, "github"); err != nil {
						b.Fatal(err)
					}
				} else {
					setToken(b, st, "github", big)
				}
				return time.Since(start)
			}
			for b.Loop() {
				tPlain += run(plain)
				tEnc += run(enc)
			}
			b.ReportMetric(float64(tPlain.Nanoseconds())/float64(b.N), "plain-ns/op")
			b.ReportMetric(float64(tEnc.Nanoseconds())/float64(b.N), "enc-ns/op")
			b.ReportMetric(float64(tEnc)/float64(tPlain), "enc/plain")
		})
	}
}

// TestEncryptedEncodingNotMalleable: a stored value whose text differs
// from what was sealed is refused even where the change falls in the
// unused low bits of the last base64 character, which a lenient decoder
// drops, so that "any altered byte is detected" holds for the text the
// vault keeps, not only for the ciphertext under it.
func TestEncryptedEncodingNotMalleable(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	mem := memory.New()
	ev, err := storage.EncryptVault(mem, parseKeys(t, newKeys(t, 1)...), storage.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// key id, nonce and tag are 36 bytes: with one or two bytes more the
	// last character carries 4 or 2 unused bits.
	for _, n := range []int{1, 2} {
		p := fmt.Sprintf("tokens/v%d", n)
		if err := ev.Set(ctx, p, &vault.Secret{Value: strings.Repeat("x", n)}); err != nil {
			t.Fatal(err)
		}
		s, err := mem.Get(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		last := strings.IndexByte(alphabet, s.Value[len(s.Value)-1])
		altered := s.Value[:len(s.Value)-1] + string(alphabet[last^1])
		if err := mem.Set(ctx, p, &vault.Secret{Value: altered}); err != nil {
			t.Fatal(err)
		}
		got, err := ev.Get(ctx, p)
		if !errors.Is(err, storage.ErrDecrypt) || !strings.Contains(err.Error(), p) {
			t.Fatalf("%d-byte value with its last character altered: %v, %v; want ErrDecrypt naming %q", n, got, err, p)
		}
	}
}

// racingVault runs hook once, after the first Get of path has read its
// value: a writer that lands between Rekey's read and its write.
type racingVault struct {
	vault.Vault
	path string
	hook func()
	done bool
}

func (r *racingVault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	s, err := r.Vault.Get(ctx, p)
	if p == r.path && !r.done {
		r.done = true
		r.hook()
	}
	return s, err
}

// TestRekeyKeepsAConcurrentWrite: a token refreshed while Rekey runs is
// not overwritten by the older value Rekey read before it (with rotating
// refresh tokens that older one is already spent).
func TestRekeyKeepsAConcurrentWrite(t *testing.T) {
	mem := memory.New()
	k := newKeys(t, 2)
	stOld, _ := encStore(t, mem, parseKeys(t, k[0]), storage.EncryptOptions{})
	setToken(t, stOld, "svc", "old")
	stNew, _ := encStore(t, mem, parseKeys(t, k[1], k[0]), storage.EncryptOptions{})
	p, _ := stNew.TokenPath("svc")
	rv := &racingVault{Vault: mem, path: p, hook: func() { setToken(t, stNew, "svc", "refreshed") }}
	ev, err := storage.EncryptVault(rv, parseKeys(t, k[1], k[0]), storage.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Rekey(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if a, err := tokenAccess(stNew, "svc"); err != nil || a != "refreshed" {
		t.Fatalf("after Rekey raced a refresh the token is %q, %v; want the refreshed one", a, err)
	}
}

// With OMNITOKEN_KEY set but a Store opened without keys (a constructor
// that does not read the environment), the error says so instead of
// asking to set the variable that is already set.
func TestSealedReadWithoutKeysWhileKeySet(t *testing.T) {
	mem := memory.New()
	key := newKeys(t, 1)
	st, _ := encStore(t, mem, parseKeys(t, key...), storage.EncryptOptions{})
	setToken(t, st, "svc", canary)
	raw := newStore(t, mem, storage.Options{})
	t.Setenv(storage.EnvKey, key[0])
	_, err := tokenAccess(raw, "svc")
	checkDecryptErr(t, err, `"svc"`, storage.EnvKey+" is set", "opened without keys")
	if strings.Contains(err.Error(), key[0]) {
		t.Fatalf("the error quotes the key: %v", err)
	}
}

// TestRekeyInterrupted: a Rekey that fails part way (vault errors,
// including writes applied whose reply was lost) leaves every value
// readable with the listed keys, and running it again finishes the job.
func TestRekeyInterrupted(t *testing.T) {
	mem := memory.New()
	k := newKeys(t, 2)
	stOld, _ := encStore(t, mem, parseKeys(t, k[0]), storage.EncryptOptions{})
	const n = 40
	for i := range n {
		setToken(t, stOld, fmt.Sprintf("svc-%d", i), fmt.Sprintf("tok-%d", i))
	}
	fv := newFaultVault(mem, 7)
	ev, err := storage.EncryptVault(fv, parseKeys(t, k[1], k[0]), storage.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	both, _ := encStore(t, mem, parseKeys(t, k[1], k[0]), storage.EncryptOptions{})
	ctx := context.Background()
	check := func(when string) {
		t.Helper()
		for i := range n {
			if a, err := tokenAccess(both, fmt.Sprintf("svc-%d", i)); err != nil || a != fmt.Sprintf("tok-%d", i) {
				t.Fatalf("%s, svc-%d: %q, %v", when, i, a, err)
			}
		}
	}
	// Rekey stops at its first error, so under faults it is interrupted
	// again and again, each run getting further.
	failed := 0
	for range 10 {
		fv.on.Store(true)
		_, err := storage.Rekey(ctx, ev)
		fv.on.Store(false)
		check("after an interrupted Rekey")
		if err != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no Rekey was interrupted: the test shows nothing")
	}
	if _, err := storage.Rekey(ctx, ev); err != nil {
		t.Fatalf("Rekey without faults: %v", err)
	}
	check("after Rekey completed")
	newOnly, _ := encStore(t, mem, parseKeys(t, k[1]), storage.EncryptOptions{})
	for i := range n {
		if _, err := tokenAccess(newOnly, fmt.Sprintf("svc-%d", i)); err != nil {
			t.Fatalf("after Rekey completed, svc-%d needs the old key: %v", i, err)
		}
	}
}
