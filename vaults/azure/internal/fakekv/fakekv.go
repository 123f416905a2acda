// Package fakekv is an in-process fake of the Azure Key Vault secrets REST
// API, served over TLS by httptest. It answers the challenge of Key
// Vault's bearer authentication and checks the token. It enforces what the
// azure provider relies on: 404 SecretNotFound, case-insensitive names,
// soft-delete (a deleted name answers 409 to a write until it is purged
// or recovered, and a purge answers 409 while the delete is "in
// progress"), purge protection, paging with nextLink, and 429 with
// Retry-After on demand.
package fakekv

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Server is a fake Key Vault. Set its fields before Start.
type Server struct {
	// Token is the only bearer token accepted.
	Token string
	// PurgeProtection refuses purges with 403, as a vault with purge
	// protection does.
	PurgeProtection bool
	// PurgeDelay is how many purge attempts after a delete answer 409,
	// as while Key Vault is still deleting.
	PurgeDelay int
	// PurgeLag is how many writes of a name after its purge answer 409,
	// as while Key Vault is still purging; meanwhile the name is not
	// among the deleted secrets either (recover answers 404).
	PurgeLag int

	*httptest.Server

	mu       sync.Mutex
	secrets  map[string]*secret // by lower-case name
	purging  map[string]int     // by lower-case name: writes still refused
	throttle int
	calls    map[string]int
}

type secret struct {
	name     string
	versions []version
	deleted  bool
	delay    int
}

type version struct {
	id, value string
	created   time.Time
}

// Start serves on a loopback port. Call Close when done.
func (s *Server) Start() *Server {
	s.secrets, s.calls, s.purging = map[string]*secret{}, map[string]int{}, map[string]int{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// Throttle makes the next n requests answer 429 with Retry-After: 0.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Calls reports requests by operation: "get", "set", "delete", "purge",
// "recover", "list", "challenge" or "throttled".
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// State returns a secret's latest value, its number of versions and
// whether it is soft-deleted; ok is false when the name is unknown or
// purged.
func (s *Server) State(name string) (value string, versions int, deleted, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[strings.ToLower(name)]
	if sec == nil {
		return "", 0, false, false
	}
	return sec.versions[len(sec.versions)-1].value, len(sec.versions), sec.deleted, true
}

// Names returns the stored names as written, live or soft-deleted, sorted.
func (s *Server) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, sec := range s.secrets {
		out = append(out, sec.name)
	}
	sort.Strings(out)
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle > 0 {
		s.throttle--
		s.calls["throttled"]++
		w.Header().Set("Retry-After", "0")
		writeErr(w, http.StatusTooManyRequests, "Throttled", "Request was not processed because too many requests were received.")
		return
	}
	if r.Header.Get("Authorization") == "" {
		s.calls["challenge"]++
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"`)
		writeErr(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeErr(w, http.StatusUnauthorized, "Unauthorized", "AKV10032: Invalid issuer.")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "secrets" && r.Method == http.MethodGet:
		s.calls["list"]++
		s.list(w, r)
	case len(parts) >= 2 && parts[0] == "secrets":
		s.secretOp(w, r, parts[1], r.Method)
	case len(parts) >= 2 && parts[0] == "deletedsecrets":
		s.deletedOp(w, r, parts[1], len(parts) == 3 && parts[2] == "recover")
	default:
		writeErr(w, http.StatusNotFound, "NotFound", "no such route")
	}
}

func (s *Server) bundle(sec *secret, v version) map[string]any {
	return map[string]any{
		"value": v.value, "id": s.URL + "/secrets/" + sec.name + "/" + v.id,
		"attributes": map[string]any{"enabled": true, "created": v.created.Unix(), "updated": v.created.Unix(), "recoveryLevel": "Recoverable+Purgeable"},
	}
}

func (s *Server) secretOp(w http.ResponseWriter, r *http.Request, name, method string) {
	sec := s.secrets[strings.ToLower(name)]
	switch method {
	case http.MethodGet:
		s.calls["get"]++
		if sec == nil || sec.deleted {
			writeErr(w, http.StatusNotFound, "SecretNotFound", "A secret with (name/id) "+name+" was not found in this key vault.")
			return
		}
		writeJSON(w, http.StatusOK, s.bundle(sec, sec.versions[len(sec.versions)-1]))
	case http.MethodPut:
		s.calls["set"]++
		var body struct {
			Value *string `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Value == nil {
			writeErr(w, http.StatusBadRequest, "BadParameter", "value is required")
			return
		}
		if n := s.purging[strings.ToLower(name)]; n > 0 {
			s.purging[strings.ToLower(name)] = n - 1
			writeErr(w, http.StatusConflict, "Conflict", "Secret "+name+" is currently being deleted.")
			return
		}
		if sec != nil && sec.deleted {
			writeErr(w, http.StatusConflict, "Conflict", "Secret "+name+" is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can be recovered or purged.")
			return
		}
		if sec == nil {
			sec = &secret{name: name}
			s.secrets[strings.ToLower(name)] = sec
		}
		v := version{id: strings.ToLower(rand.Text()), value: *body.Value, created: time.Now()}
		sec.versions = append(sec.versions, v)
		writeJSON(w, http.StatusOK, s.bundle(sec, v))
	case http.MethodDelete:
		s.calls["delete"]++
		if sec == nil || sec.deleted {
			writeErr(w, http.StatusNotFound, "SecretNotFound", "A secret with (name/id) "+name+" was not found in this key vault.")
			return
		}
		sec.deleted, sec.delay = true, s.PurgeDelay
		b := s.bundle(sec, sec.versions[len(sec.versions)-1])
		b["recoveryId"] = s.URL + "/deletedsecrets/" + sec.name
		writeJSON(w, http.StatusOK, b)
	default:
		writeErr(w, http.StatusMethodNotAllowed, "BadRequest", "unsupported")
	}
}

func (s *Server) deletedOp(w http.ResponseWriter, r *http.Request, name string, recover bool) {
	sec := s.secrets[strings.ToLower(name)]
	if sec == nil || !sec.deleted {
		writeErr(w, http.StatusNotFound, "DeletedSecretNotFound", "Deleted Secret not found")
		return
	}
	switch {
	case recover && r.Method == http.MethodPost:
		s.calls["recover"]++
		sec.deleted = false
		writeJSON(w, http.StatusOK, s.bundle(sec, sec.versions[len(sec.versions)-1]))
	case r.Method == http.MethodGet:
		b := s.bundle(sec, sec.versions[len(sec.versions)-1])
		b["recoveryId"] = s.URL + "/deletedsecrets/" + sec.name
		writeJSON(w, http.StatusOK, b)
	case r.Method == http.MethodDelete:
		s.calls["purge"]++
		if s.PurgeProtection {
			writeErr(w, http.StatusForbidden, "Forbidden", "Operation \"purge\" is not allowed because purge protection is enabled for this vault.")
			return
		}
		if sec.delay > 0 {
			sec.delay--
			writeErr(w, http.StatusConflict, "Conflict", "Secret is currently being deleted.")
			return
		}
		delete(s.secrets, strings.ToLower(name))
		if s.PurgeLag > 0 {
			s.purging[strings.ToLower(name)] = s.PurgeLag
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErr(w, http.StatusMethodNotAllowed, "BadRequest", "unsupported")
	}
}

// list answers two secrets a page, with a nextLink to the rest.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	var live []*secret
	for _, sec := range s.secrets {
		if !sec.deleted {
			live = append(live, sec)
		}
	}
	sort.Slice(live, func(i, j int) bool { return strings.ToLower(live[i].name) < strings.ToLower(live[j].name) })
	start := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		start = sort.Search(len(live), func(i int) bool { return strings.ToLower(live[i].name) >= tok })
	}
	end := min(start+2, len(live))
	items := []map[string]any{}
	for _, sec := range live[start:end] {
		items = append(items, map[string]any{"id": s.URL + "/secrets/" + sec.name, "attributes": map[string]any{"enabled": true}})
	}
	out := map[string]any{"value": items}
	if end < len(live) {
		q := url.Values{"api-version": {r.URL.Query().Get("api-version")}, "$skiptoken": {strings.ToLower(live[end].name)}}
		out["nextLink"] = s.URL + "/secrets?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}

func writeErr(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": errCode, "message": msg}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
