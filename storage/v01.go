package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnivault/vault"
)

// The v0.1.0 layout. omnitoken v0.1.0 kept a directory through omnivault's
// file provider in JSON mode, with the extension ".json":
//
//	credentials/<name>.json   {"value": "<goauth Credentials JSON>", "fields": {…}, "metadata": {…}}
//	tokens/<name>.json        {"value": "<goauth TokenInfo JSON>", "fields": {…}, "metadata": {…}}
//
// The outer object is omnivault's vault.Secret, and <name> is the
// credential name as given, with '/' written as '_'.

// Layout names the way a directory keeps credentials and tokens.
type Layout string

// The layouts DetectLayout tells apart.
const (
	// LayoutCurrent is this module's layout (FileVault under a Store):
	// names escaped by EscapeName, each file holding the value itself.
	LayoutCurrent Layout = "current"
	// LayoutV01 is omnitoken v0.1.0's layout (V01FileVault): names as
	// given, each file holding an omnivault Secret wrapper.
	LayoutV01 Layout = "v0.1.0"
)

// Metadata tags V01FileVault writes, as v0.1.0 did for credentials.
const (
	v01TagType         = "type"
	v01TagService      = "service"
	v01CredentialsKind = "goauth_credentials"
	v01TokenKind       = "goauth_token"
)

// DirVault is a vault over a directory whose refreshes are serialized
// across processes by a FileLocker: a *FileVault or a *V01FileVault.
type DirVault interface {
	vault.Vault
	// Dir returns the directory as an absolute path.
	Dir() string
	// Locker returns a FileLocker over the same directory.
	Locker() *FileLocker
}

// OpenDirectory opens dir in the layout it holds (see DetectLayout): a
// *V01FileVault for a directory written by omnitoken v0.1.0, so that
// v0.1.0 processes sharing it keep reading what is written, and a
// *FileVault otherwise, a new or empty directory included.
func OpenDirectory(dir string) (DirVault, error) {
	l, err := DetectLayout(dir)
	if err != nil {
		return nil, err
	}
	if l == LayoutV01 {
		return NewV01FileVault(dir)
	}
	return NewFileVault(dir)
}

// DetectLayout tells which layout dir holds, from its credentials/ (or,
// when that is empty, its tokens/) directory: LayoutV01 when a file there
// is named in a way EscapeName never writes ("GitHub Bot.json"), or when
// the first file that is a JSON object is omnivault's Secret wrapper;
// LayoutCurrent otherwise, and for a directory that does not exist or
// holds neither. Names are listed, and files read in name order until one
// is a JSON object, usually the first.
func DetectLayout(dir string) (Layout, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return LayoutCurrent, nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: detect layout: %w", err)
	}
	defer root.Close()
	for _, sub := range []string{strings.TrimSuffix(DefaultCredentialsPrefix, "/"), strings.TrimSuffix(DefaultTokensPrefix, "/")} {
		fi, err := root.Lstat(sub)
		if err != nil || !fi.IsDir() {
			continue
		}
		entries, err := fs.ReadDir(root.FS(), sub)
		if err != nil {
			return "", fmt.Errorf("storage: detect layout: %s: %w", sub, err)
		}
		var files []string
		for _, e := range entries {
			n := e.Name()
			if !e.Type().IsRegular() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, fileExt) {
				continue
			}
			if _, err := UnescapeName(strings.TrimSuffix(n, fileExt)); err != nil {
				return LayoutV01, nil
			}
			files = append(files, n)
		}
		for _, f := range files {
			data, err := readLimited(root, sub+"/"+f)
			if err != nil {
				return "", fmt.Errorf("storage: detect layout: %s/%s: %w", sub, f, err)
			}
			_, wrapped, err := unwrapV01(data)
			switch {
			case wrapped:
				return LayoutV01, nil
			case err == nil:
				return LayoutCurrent, nil
			}
			// Neither form: the layout's reader will report the file.
		}
	}
	return LayoutCurrent, nil
}

func readLimited(root *os.Root, name string) ([]byte, error) {
	f, err := root.OpenFile(name, openReadFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileSize))
}

// V01FileVault is a vault.Vault over a directory in omnitoken v0.1.0's
// layout. A Store over it reads and writes what v0.1.0 does, so v0.1.0
// processes and this module can share the directory, during a rolling
// upgrade for example:
//
//   - A Store path prefix+EscapeName(name) is the file prefix+name+".json":
//     "GitHub Bot" is credentials/GitHub Bot.json, as v0.1.0 wrote it. A
//     name v0.1.0 stored lossily ("team/slides" as team_slides.json) is
//     listed and found under the stored name, "team_slides". A name that
//     v0.1.0 would have stored under another file name is refused: one
//     that holds '/' or '\' (v0.1.0 would have merged "a/b" with "a_b"),
//     or starts or ends with white space (v0.1.0 trimmed it), with an
//     error matching core.ErrInvalidCredentials that names the stored
//     name; MigrateV01 moves the directory to this module's escaped names,
//     which keep every name.
//   - Each file holds omnivault's Secret JSON, {"value": …, "fields": …,
//     "metadata": …}, as omnivault's file provider writes it in JSON mode;
//     the value is the goauth JSON. A file holding the bare value (written
//     by hand, or by FileVault) is read as well. Tokens are written so
//     that the value is also goauth TokenInfo JSON ({"token": {…}}), which
//     v0.1.0 reads. A token v0.1.0 wrote carries no generation; it is read
//     with the file's modification time in nanoseconds as its generation,
//     so a token a v0.1.0 process refreshed supersedes the ones this
//     module wrote before it.
//   - A file that cannot be read as a credential or token is an error
//     naming the file and what is wrong, matching
//     core.ErrInvalidCredentials; never an empty value.
//
// Writes are FileVault's: temp file, fsync, rename, directory fsync, mode
// 0600, no symlinks followed.
//
// Paths under "tokens/" hold tokens and all others credentials, so use it
// with a Store of the default prefixes, as v0.1.0's NewFromDirectory was.
type V01FileVault struct {
	v01Names // over v01Wrap over fv
	fv       *FileVault
}

// NewV01FileVault opens dir in the v0.1.0 layout, creating it with mode
// 0700 if it does not exist.
func NewV01FileVault(dir string) (*V01FileVault, error) {
	fv, err := NewFileVault(dir)
	if err != nil {
		return nil, err
	}
	return &V01FileVault{v01Names: v01Names{inner: v01Wrap{fv}}, fv: fv}, nil
}

// Dir returns the vault's directory as an absolute path.
func (v *V01FileVault) Dir() string { return v.fv.Dir() }

// Locker returns a FileLocker whose lock files live in the vault's
// directory, under .locks/. v0.1.0 processes take no lock.
func (v *V01FileVault) Locker() *FileLocker { return v.fv.Locker() }

// wrapped reports whether the file at Store path p holds a Secret wrapper.
func (v *V01FileVault) wrapped(ctx context.Context, p string) (bool, error) {
	fp, err := filePath(p)
	if err != nil {
		return false, err
	}
	raw, err := v.fv.Get(ctx, fp)
	if err != nil {
		return false, err
	}
	_, w, _ := unwrapV01(raw.Bytes())
	return w, nil
}

// V01Names returns a vault over v that keeps each credential under the
// name v0.1.0 gave it: a Store path prefix+EscapeName(name) is the path
// prefix+name in v, so "GitHub Bot" is "credentials/GitHub Bot". Values
// pass through unchanged. It is for a vault that v0.1.0 filled through
// omnitoken.New(Config{Vault: v}), a 1Password vault or an omnivault
// file.Provider of your own, say. A credential whose value is not goauth
// JSON is read from its fields, as v0.1.0 read it (see fromV01Fields). A name that v0.1.0 stored under
// another file name is refused, as in V01FileVault; for a directory use
// V01FileVault, which also reads and writes v0.1.0's wrapper.
func V01Names(v vault.Vault) vault.Vault { return v01Names{inner: v} }

// v01Names maps Store paths to v0.1.0's paths over inner.
type v01Names struct{ inner vault.Vault }

// filePath maps a Store path to v0.1.0's path: the last segment, an
// escaped name, is written as the name itself. A segment that is not an
// escaped name (a caller's own path) is kept as is.
func filePath(p string) (string, error) {
	dir, seg := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, seg = p[:i+1], p[i+1:]
	}
	name, err := UnescapeName(seg)
	if err != nil {
		return p, nil
	}
	if stored := v01Key(name); stored != name {
		return "", fmt.Errorf("storage: v0.1.0 layout: %w: name %q holds '/' or '\\', or starts or ends with white space, and v0.1.0 stored it as %q; use that name, or move the directory to escaped names with MigrateV01", core.ErrInvalidCredentials, name, stored)
	}
	return dir + name, nil
}

// v01Key is the file name v0.1.0 gave a credential name: white space
// trimmed at both ends, '/' and '\' written as '_'.
func v01Key(name string) string {
	name = strings.TrimSpace(name)
	name = strings.ReplaceAll(name, "/", "_")
	return strings.ReplaceAll(name, "\\", "_")
}

// isToken reports whether p is a token's path.
func isToken(p string) bool { return strings.HasPrefix(p, DefaultTokensPrefix) }

// Get implements vault.Vault.
func (v v01Names) Get(ctx context.Context, p string) (*vault.Secret, error) {
	fp, err := filePath(p)
	if err != nil {
		return nil, err
	}
	sec, err := v.inner.Get(ctx, fp)
	if err != nil {
		return nil, err
	}
	if sec != nil {
		sec.Metadata.Path = p
		if !isToken(p) {
			fromV01Fields(sec)
		}
	}
	return sec, nil
}

// fromV01Fields gives sec the goauth JSON that v0.1.0 read from its flat
// fields when its value is not a goauth JSON object: a password manager's
// item with fields "type", "username" and "password", say. The fields are
// v0.1.0's: "service" and "type"; "username", "password", "server_url"
// (basic); "server_url", "headers" as JSON (headerquery); "client_id",
// "client_secret", "server_url", "redirect_url", "grant_type", "scopes"
// separated by spaces (oauth2); "issuer", "private_key", "signing_method"
// (jwt). With no type, "client_id" or "client_secret" makes it oauth2, and
// "username" with "password" basic. Anything else is left as it is.
func fromV01Fields(sec *vault.Secret) {
	if len(sec.Fields) == 0 {
		return
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(sec.Bytes(), &probe) == nil && probe != nil {
		return
	}
	f := sec.Fields
	typ := f["type"]
	if typ == "" {
		switch {
		case f["client_id"] != "" || f["client_secret"] != "":
			typ = "oauth2"
		case f["username"] != "" && f["password"] != "":
			typ = "basic"
		}
	}
	keys := map[string][]string{ // goauth key, v0.1.0 field
		"basic":       {"username", "username", "password", "password", "serverURL", "server_url"},
		"headerquery": {"serverURL", "server_url"},
		"oauth2":      {"clientID", "client_id", "clientSecret", "client_secret", "serverURL", "server_url", "redirectURL", "redirect_url", "grantType", "grant_type"},
		"jwt":         {"issuer", "issuer", "privateKey", "private_key", "signingMethod", "signing_method"},
	}[typ]
	if keys == nil {
		return
	}
	section := map[string]any{}
	for i := 0; i < len(keys); i += 2 {
		if s := f[keys[i+1]]; s != "" {
			section[keys[i]] = s
		}
	}
	var header map[string][]string
	if typ == "headerquery" && json.Unmarshal([]byte(f["headers"]), &header) == nil && header != nil {
		section["header"] = header
	}
	if typ == "oauth2" && f["scopes"] != "" {
		section["scope"] = strings.Split(f["scopes"], " ")
	}
	top := map[string]any{"type": typ, typ: section}
	if s := f["service"]; s != "" {
		top["service"] = s
	}
	if b, err := json.Marshal(top); err == nil {
		sec.Value, sec.ValueBytes = string(b), nil
	}
}

// Set implements vault.Vault.
func (v v01Names) Set(ctx context.Context, p string, secret *vault.Secret) error {
	fp, err := filePath(p)
	if err != nil {
		return err
	}
	return v.inner.Set(ctx, fp, secret)
}

// Delete implements vault.Vault.
func (v v01Names) Delete(ctx context.Context, p string) error {
	fp, err := filePath(p)
	if err != nil {
		return err
	}
	return v.inner.Delete(ctx, fp)
}

// Exists implements vault.Vault.
func (v v01Names) Exists(ctx context.Context, p string) (bool, error) {
	fp, err := filePath(p)
	if err != nil {
		return false, err
	}
	return v.inner.Exists(ctx, fp)
}

// List implements vault.Vault. Each name is given back as a Store path,
// its last segment escaped; a name no credential can have (it is not
// valid UTF-8, say) is not listed.
func (v v01Names) List(ctx context.Context, prefix string) ([]string, error) {
	paths, err := v.inner.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(paths))
	for _, f := range paths {
		dir, name := "", f
		if i := strings.LastIndexByte(f, '/'); i >= 0 {
			dir, name = f[:i+1], f[i+1:]
		}
		seg, err := EscapeName(name)
		if err != nil {
			continue
		}
		out = append(out, dir+seg)
	}
	sort.Strings(out)
	return out, nil
}

// Name implements vault.Vault.
func (v v01Names) Name() string { return v.inner.Name() }

// Capabilities implements vault.Vault.
func (v v01Names) Capabilities() vault.Capabilities { return v.inner.Capabilities() }

// Close implements vault.Vault.
func (v v01Names) Close() error { return v.inner.Close() }

// v01Wrap keeps values in omnivault's Secret wrapper in a FileVault, at
// the paths it is given.
type v01Wrap struct{ fv *FileVault }

// Get implements vault.Vault. The secret's Value is the unwrapped value,
// checked to be a credential (or, under tokens/, a token).
func (v v01Wrap) Get(ctx context.Context, fp string) (*vault.Secret, error) {
	raw, err := v.fv.Get(ctx, fp)
	if err != nil {
		return nil, err
	}
	var mod time.Time
	if raw.Metadata.ModifiedAt != nil {
		mod = raw.Metadata.ModifiedAt.Time
	}
	sec, err := decodeV01(fp, raw.Bytes(), mod)
	if err != nil {
		return nil, err
	}
	sec.Metadata.Provider = v.Name()
	sec.Metadata.Path = fp
	if sec.Metadata.ModifiedAt == nil {
		sec.Metadata.ModifiedAt = raw.Metadata.ModifiedAt
	}
	return sec, nil
}

// decodeV01 reads one file of a v0.1.0 directory; fp is its vault path
// and mod the file's modification time.
func decodeV01(fp string, data []byte, mod time.Time) (*vault.Secret, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("storage: v0.1.0 layout: %s: %w: "+format, append([]any{fp + fileExt, core.ErrInvalidCredentials}, a...)...)
	}
	sec, _, err := unwrapV01(data)
	if err != nil {
		return nil, bad("%s", err)
	}
	inner := bytes.TrimSpace(sec.Bytes())
	if isToken(fp) {
		if err := checkV01Token(inner); err != nil {
			return nil, bad("%s", err)
		}
		if stamped, ok := stampV01Token(inner, mod); ok {
			sec.Value, sec.ValueBytes = string(stamped), nil
		}
		return sec, nil
	}
	c, err := core.ParseCredentials(inner)
	if err != nil {
		return nil, bad("the value is not goauth credentials JSON")
	}
	if c.Type == "" {
		return nil, bad(`the goauth credentials have no "type"`)
	}
	return sec, nil
}

// unwrapV01 reads omnivault's Secret JSON, or a bare JSON object (wrapped
// is then false and the secret's Value is data). The error says what is
// wrong without quoting data.
func unwrapV01(data []byte) (sec *vault.Secret, wrapped bool, err error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return nil, false, errors.New("the file is empty")
	case data[0] != '{':
		return nil, false, errors.New("the file is not a JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, false, fmt.Errorf("the file is not valid JSON (%s)", driver.DescribeJSONError(err))
	}
	_, hasValue := top["value"]
	_, hasBytes := top["valueBytes"]
	if !hasValue && !hasBytes {
		return &vault.Secret{Value: string(data)}, false, nil
	}
	sec = new(vault.Secret)
	if err := json.Unmarshal(data, sec); err != nil {
		return nil, true, fmt.Errorf("the omnivault secret wrapper does not decode (%s)", driver.DescribeJSONError(err))
	}
	if len(bytes.TrimSpace(sec.Bytes())) == 0 {
		return nil, true, errors.New("the omnivault secret wrapper holds an empty value")
	}
	return sec, true, nil
}

// v01Token is what checkV01Token and the writer need of a token's JSON:
// this module's token at the top level, or goauth TokenInfo's "token".
type v01Token struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	RefreshToken string          `json:"refresh_token"`
	Expiry       *time.Time      `json:"expiry,omitempty"`
	Header       json.RawMessage `json:"header"`
	Query        json.RawMessage `json:"query"`
	Inner        *v01Token       `json:"token"`
}

func (t *v01Token) empty() bool {
	return t.AccessToken == "" && t.RefreshToken == "" && len(t.Header) == 0 && len(t.Query) == 0
}

func checkV01Token(data []byte) error {
	var t v01Token
	if len(data) == 0 || data[0] != '{' {
		return errors.New("the value is not a JSON object")
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("the value is not token JSON (%s)", driver.DescribeJSONError(err))
	}
	if t.empty() && (t.Inner == nil || t.Inner.empty()) {
		return errors.New("the value holds no token (no access_token or refresh_token, at the top or under \"token\")")
	}
	return nil
}

// stampV01Token gives a token that carries no generation, as every token
// v0.1.0 writes, the generation mod.UnixNano(). This module's tokens count
// generations up from 1, and a Manager prefers its cached token to a
// stored one that is not newer, so without it a token that a v0.1.0
// process refreshed (rotating the refresh token) would be ignored, and the
// consumed refresh token sent again. A token this module writes after
// reading one takes the next generation, and a v0.1.0 write made later
// (a later file time, in nanoseconds) supersedes it in turn. The token is
// returned as its own JSON object, goauth TokenInfo's "token" unwrapped.
// ok is false when data already has a generation or mod is unknown.
func stampV01Token(data []byte, mod time.Time) (stamped []byte, ok bool) {
	if mod.IsZero() || mod.UnixNano() <= 0 {
		return nil, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil, false
	}
	var probe v01Token
	_ = json.Unmarshal(data, &probe) // checked by checkV01Token
	if probe.AccessToken == "" && probe.Inner != nil {
		// Read as core.ParseStoredToken reads it: TokenInfo's "token".
		top = nil
		if json.Unmarshal(data, &struct {
			Inner *map[string]json.RawMessage `json:"token"`
		}{&top}) != nil || top == nil {
			return nil, false
		}
	}
	if _, ok := top["generation"]; ok {
		return nil, false
	}
	top["generation"], _ = json.Marshal(uint64(mod.UnixNano()))
	b, err := json.Marshal(top)
	if err != nil {
		return nil, false
	}
	return b, true
}

// Set implements vault.Vault: the value goes into omnivault's Secret
// wrapper, with v0.1.0's fields and tags, and is written durably.
func (v v01Wrap) Set(ctx context.Context, fp string, secret *vault.Secret) error {
	if secret == nil {
		return fmt.Errorf("storage: v0.1.0 layout: set %q: nil secret", fp)
	}
	data, err := encodeV01(fp, secret.Bytes(), time.Now())
	if err != nil {
		return err
	}
	return v.fv.Set(ctx, fp, &vault.Secret{ValueBytes: data})
}

// encodeV01 wraps value as v0.1.0 did. A credential gets the fields
// "service", "type" and, for OAuth 2.0, "client_id", none of them a
// secret. A token's JSON gains goauth TokenInfo's "serviceKey" and
// "token", so that v0.1.0 reads it.
func encodeV01(fp string, value []byte, now time.Time) ([]byte, error) {
	sec := vault.Secret{Metadata: vault.Metadata{ModifiedAt: vault.NewTimestamp(now.UTC().Truncate(time.Second))}}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(value, &top) // a value that is not an object is wrapped as is
	if isToken(fp) {
		sec.Metadata.Tags = map[string]string{v01TagType: v01TokenKind}
		var t v01Token
		if top != nil && json.Unmarshal(value, &t) == nil && t.AccessToken != "" {
			inner, _ := json.Marshal(struct {
				AccessToken  string     `json:"access_token"`
				TokenType    string     `json:"token_type,omitempty"`
				RefreshToken string     `json:"refresh_token,omitempty"`
				Expiry       *time.Time `json:"expiry,omitempty"`
			}{t.AccessToken, t.TokenType, t.RefreshToken, t.Expiry})
			top["token"] = inner
			key, _ := json.Marshal(path.Base(fp))
			top["serviceKey"] = key
			b, err := json.Marshal(top)
			if err != nil {
				return nil, fmt.Errorf("storage: v0.1.0 layout: set %q: %w", fp, err)
			}
			value = b
		}
	} else {
		sec.Metadata.Tags = map[string]string{v01TagType: v01CredentialsKind}
		sec.Fields = map[string]string{}
		str := func(raw json.RawMessage) string {
			var s string
			_ = json.Unmarshal(raw, &s)
			return s
		}
		if s := str(top["service"]); s != "" {
			sec.Fields["service"] = s
			sec.Metadata.Tags[v01TagService] = s
		}
		if s := str(top["type"]); s != "" {
			sec.Fields["type"] = s
		}
		var o2 struct {
			ClientID string `json:"clientID"`
		}
		if raw, ok := top["oauth2"]; ok && json.Unmarshal(raw, &o2) == nil && o2.ClientID != "" {
			sec.Fields["client_id"] = o2.ClientID
		}
	}
	sec.Value = string(value)
	b, err := json.MarshalIndent(&sec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("storage: v0.1.0 layout: set %q: %w", fp, err)
	}
	return b, nil
}

// Delete implements vault.Vault.
func (v v01Wrap) Delete(ctx context.Context, fp string) error { return v.fv.Delete(ctx, fp) }

// Exists implements vault.Vault.
func (v v01Wrap) Exists(ctx context.Context, fp string) (bool, error) { return v.fv.Exists(ctx, fp) }

// List implements vault.Vault.
func (v v01Wrap) List(ctx context.Context, prefix string) ([]string, error) {
	return v.fv.List(ctx, prefix)
}

// Name implements vault.Vault.
func (v v01Wrap) Name() string { return v.fv.Name() }

// Capabilities implements vault.Vault.
func (v v01Wrap) Capabilities() vault.Capabilities { return v.fv.Capabilities() }

// Close implements vault.Vault.
func (v v01Wrap) Close() error { return v.fv.Close() }

var (
	_ DirVault    = (*V01FileVault)(nil)
	_ DirVault    = (*FileVault)(nil)
	_ vault.Vault = v01Names{}
	_ vault.Vault = v01Wrap{}
)

// noType explains stored credentials without a type: never empty
// credentials with a nil error.
func noType(c *core.Credentials) error {
	hint := ""
	if c.HasSection("value") && c.HasSection("metadata") {
		hint = v01HintText
	}
	return fmt.Errorf(`%w: the stored value has no "type"%s`, core.ErrInvalidCredentials, hint)
}

const v01HintText = "; it is omnitoken v0.1.0's omnivault Secret wrapper: open the directory with OpenDirectory (omnitoken.NewFromDirectory does), or move it to this layout with MigrateV01"

// v01Hint returns v01HintText when data is a Secret wrapper.
func v01Hint(data []byte) string {
	if _, wrapped, _ := unwrapV01(data); wrapped {
		return v01HintText
	}
	return ""
}
