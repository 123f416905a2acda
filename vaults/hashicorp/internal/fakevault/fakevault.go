// Package fakevault is an in-process fake of the parts of the HashiCorp
// Vault (and OpenBao) HTTP API that the hashicorp provider uses: one KV
// version 2 mount, token lookup and renewal, and AppRole and Kubernetes
// logins. It enforces what the provider relies on: versions and
// check-and-set (against the current version, soft-deleted or not, as
// Vault compares it), soft deletes, permission denied for a missing or
// lapsed token, token
// TTLs by an injected clock, and 429 throttling on demand.
package fakevault

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// Server is a fake Vault. Its fields may be set before the first request.
type Server struct {
	// Mount is the KV v2 mount path. Default "secret".
	Mount string
	// RootToken is a token that never expires.
	RootToken string
	// RoleID and SecretID are the one AppRole that logs in.
	RoleID, SecretID string
	// K8sRole and K8sJWT are the one Kubernetes login accepted.
	K8sRole, K8sJWT string
	// TokenTTL is the lease of tokens issued by a login. Default 1 h.
	TokenTTL time.Duration
	// MaxTTL caps renewals of a login token. Default 4 × TokenTTL.
	MaxTTL time.Duration
	// Now is the clock that tokens expire by. Default time.Now.
	Now func() time.Time

	*httptest.Server

	mu       sync.Mutex
	secrets  map[string]*entry
	tokens   map[string]*token
	issued   []string
	throttle int
	requests map[string]int
	denied   []string
	onLogin  func()
	onRead   func()
}

// BeforeRead makes the next read of KV data run f first, before the fake
// takes its lock.
func (s *Server) BeforeRead(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRead = f
}

// Deny makes every request for a path under prefix (such as
// "secret/data/x") answer 403, as a policy that does not grant it would,
// whatever the token.
func (s *Server) Deny(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied = append(s.denied, prefix)
}

// BeforeLogin makes the next login run f first, before the fake takes
// its lock, so that a test can hold a login in flight.
func (s *Server) BeforeLogin(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onLogin = f
}

type entry struct {
	versions []map[string]any // index v-1 holds version v; nil: destroyed
	created  []time.Time
	deleted  []time.Time // soft-deleted at; zero: live
}

type token struct {
	expires   time.Time // zero: never
	maxExpiry time.Time
	renewable bool
}

// Start starts s on a loopback port. Call Close when done.
func (s *Server) Start() *Server {
	if s.Mount == "" {
		s.Mount = "secret"
	}
	if s.TokenTTL == 0 {
		s.TokenTTL = time.Hour
	}
	if s.MaxTTL == 0 {
		s.MaxTTL = 4 * s.TokenTTL
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.secrets = map[string]*entry{}
	s.tokens = map[string]*token{}
	s.requests = map[string]int{}
	if s.RootToken != "" {
		s.tokens[s.RootToken] = &token{}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Throttle makes the next n requests answer 429 with Retry-After: 0.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Requests reports how many requests reached the fake for an operation:
// "login", "lookup-self", "renew-self", "read", "write", "soft-delete",
// "metadata", "list", "delete", or "throttled".
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// Revoke makes token t invalid, as an operator or an expiry would.
func (s *Server) Revoke(t string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, t)
}

// Tokens returns the tokens that logins issued and that are not revoked,
// oldest first.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, t := range s.issued {
		if _, ok := s.tokens[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// Data returns the latest data stored at path, or nil.
func (s *Server) Data(path string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.secrets[path]
	if e == nil || len(e.versions) == 0 {
		return nil
	}
	return e.versions[len(e.versions)-1]
}

// Version returns the current version at path, or 0.
func (s *Server) Version(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.secrets[path]; e != nil {
		return len(e.versions)
	}
	return 0
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var f func()
	s.mu.Lock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/login"):
		f, s.onLogin = s.onLogin, nil
	case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/data/"):
		f, s.onRead = s.onRead, nil
	}
	s.mu.Unlock()
	if f != nil {
		f()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle > 0 {
		s.throttle--
		s.requests["throttled"]++
		w.Header().Set("Retry-After", "0")
		writeErr(w, http.StatusTooManyRequests, "request path rate limit quota exceeded")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/v1/")
	switch {
	case strings.HasPrefix(p, "auth/") && strings.HasSuffix(p, "/login") && r.Method != http.MethodGet:
		s.requests["login"]++
		s.login(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "auth/"), "/login"))
		return
	}
	tok, ok := s.tokens[r.Header.Get("X-Vault-Token")]
	if !ok || (!tok.expires.IsZero() && !s.Now().Before(tok.expires)) {
		writeErr(w, http.StatusForbidden, "permission denied")
		return
	}
	for _, d := range s.denied {
		if strings.HasPrefix(p, d) {
			writeErr(w, http.StatusForbidden, "permission denied")
			return
		}
	}
	switch {
	case p == "auth/token/lookup-self":
		s.requests["lookup-self"]++
		ttl := 0
		if !tok.expires.IsZero() {
			ttl = int(tok.expires.Sub(s.Now()) / time.Second)
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"ttl": ttl, "renewable": tok.renewable}})
	case p == "auth/token/renew-self":
		s.requests["renew-self"]++
		if !tok.renewable {
			writeErr(w, http.StatusBadRequest, "lease is not renewable")
			return
		}
		exp := s.Now().Add(s.TokenTTL)
		if exp.After(tok.maxExpiry) {
			exp = tok.maxExpiry
		}
		tok.expires = exp
		writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
			"client_token": r.Header.Get("X-Vault-Token"), "lease_duration": int(exp.Sub(s.Now()) / time.Second), "renewable": true,
		}})
	case strings.HasPrefix(p, s.Mount+"/data/"):
		s.data(w, r, strings.TrimPrefix(p, s.Mount+"/data/"))
	case strings.HasPrefix(p, s.Mount+"/metadata"):
		s.metadata(w, r, strings.TrimPrefix(strings.TrimPrefix(p, s.Mount+"/metadata"), "/"))
	default:
		writeErr(w, http.StatusNotFound, "no handler for route")
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, method string) {
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeErr(w, http.StatusBadRequest, "malformed body")
		return
	}
	ok := false
	switch method {
	case "approle":
		ok = s.RoleID != "" && body["role_id"] == s.RoleID && body["secret_id"] == s.SecretID
	case "kubernetes":
		ok = s.K8sRole != "" && body["role"] == s.K8sRole && body["jwt"] == s.K8sJWT
	}
	if !ok {
		writeErr(w, http.StatusBadRequest, "invalid credentials")
		return
	}
	t := "hvs." + rand.Text()
	now := s.Now()
	s.tokens[t] = &token{expires: now.Add(s.TokenTTL), maxExpiry: now.Add(s.MaxTTL), renewable: true}
	s.issued = append(s.issued, t)
	writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
		"client_token": t, "lease_duration": int(s.TokenTTL / time.Second), "renewable": true,
	}})
}

func (s *Server) data(w http.ResponseWriter, r *http.Request, path string) {
	e := s.secrets[path]
	switch r.Method {
	case http.MethodGet:
		s.requests["read"]++
		if e == nil || len(e.versions) == 0 {
			writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
			return
		}
		v := len(e.versions)
		if !e.deleted[v-1].IsZero() {
			// As Vault answers for a soft-deleted latest version: 404,
			// with the version's metadata and no data.
			m := versionMeta(v, e.created[v-1])
			m["deletion_time"] = e.deleted[v-1].UTC().Format(time.RFC3339Nano)
			writeJSON(w, http.StatusNotFound, map[string]any{"data": map[string]any{"data": nil, "metadata": m}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"data":     e.versions[v-1],
			"metadata": versionMeta(v, e.created[v-1]),
		}})
	case http.MethodPost, http.MethodPut:
		s.requests["write"]++
		var body struct {
			Data    map[string]any `json:"data"`
			Options struct {
				CAS *int `json:"cas"`
			} `json:"options"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Data == nil {
			writeErr(w, http.StatusBadRequest, "no data provided")
			return
		}
		cur := 0
		if e != nil {
			cur = len(e.versions)
		}
		if body.Options.CAS != nil && *body.Options.CAS != cur {
			writeErr(w, http.StatusBadRequest, "check-and-set parameter did not match the current version")
			return
		}
		if e == nil {
			e = &entry{}
			s.secrets[path] = e
		}
		now := s.Now()
		e.versions = append(e.versions, body.Data)
		e.created = append(e.created, now)
		e.deleted = append(e.deleted, time.Time{})
		writeJSON(w, http.StatusOK, map[string]any{"data": versionMeta(len(e.versions), now)})
	case http.MethodDelete:
		// A soft delete of the latest version: its data stays, reads
		// answer 404, and the current version (which check-and-set
		// compares with) does not change.
		s.requests["soft-delete"]++
		if e != nil && len(e.versions) > 0 {
			e.deleted[len(e.versions)-1] = s.Now()
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErr(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case r.Method == "LIST" || (r.Method == http.MethodGet && r.URL.Query().Get("list") == "true"):
		s.requests["list"]++
		dir := strings.TrimSuffix(path, "/")
		if dir != "" {
			dir += "/"
		}
		seen := map[string]bool{}
		for p, e := range s.secrets {
			if len(e.versions) == 0 || !strings.HasPrefix(p, dir) {
				continue
			}
			rest := strings.TrimPrefix(p, dir)
			if i := strings.Index(rest, "/"); i >= 0 {
				rest = rest[:i+1]
			}
			seen[rest] = true
		}
		if len(seen) == 0 {
			writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
			return
		}
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"keys": keys}})
	case r.Method == http.MethodGet:
		s.requests["metadata"]++
		e := s.secrets[path]
		if e == nil || len(e.versions) == 0 {
			writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
			return
		}
		vs := map[string]any{}
		for i, c := range e.created {
			m := versionMeta(i+1, c)
			if !e.deleted[i].IsZero() {
				m["deletion_time"] = e.deleted[i].UTC().Format(time.RFC3339Nano)
			}
			vs[itoa(i+1)] = m
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"current_version": len(e.versions), "oldest_version": 1, "max_versions": 0,
			"cas_required": false, "delete_version_after": "0s",
			"created_time": e.created[0].Format(time.RFC3339Nano), "updated_time": e.created[len(e.created)-1].Format(time.RFC3339Nano),
			"versions": vs,
		}})
	case r.Method == http.MethodDelete:
		s.requests["delete"]++
		delete(s.secrets, path)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErr(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

func versionMeta(v int, created time.Time) map[string]any {
	return map[string]any{"version": v, "created_time": created.UTC().Format(time.RFC3339Nano), "deletion_time": "", "destroyed": false}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"errors": []string{msg}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
