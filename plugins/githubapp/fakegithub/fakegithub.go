// Package fakegithub is a local fake of the GitHub endpoints a GitHub App
// uses, for tests of the githubapp plugin and of hosts that load it.
//
// It serves, over a loopback httptest server:
//
//   - POST /app/installations/{id}/access_tokens: verifies the app JWT
//     (RS256 signature by the app's key, iss the app ID, iat backdated
//     about 60 s, exp no more than 10 minutes ahead) and issues a numbered
//     installation token with an expires_at TTL ahead;
//   - DELETE /installation/token: revokes the bearer token;
//   - every other path: an API call that answers 200 only to a valid,
//     unexpired, unrevoked installation token, else 401.
package fakegithub

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Server is the fake. Its fields may be changed before the first request.
type Server struct {
	*httptest.Server
	// AppID is the iss the JWT must carry.
	AppID string
	// InstallationID is the only installation that exists.
	InstallationID string
	// Key verifies the JWT's signature.
	Key *rsa.PublicKey
	// TTL is the life of an issued token. Default: one hour.
	TTL time.Duration

	mu        sync.Mutex
	mints     int
	issued    map[string]time.Time // token → expiry
	revoked   map[string]bool
	rejects   []string
	lastJWT   string
	lastToken string
	apiCalls  int
}

// New starts a fake for one app installation. Close it when done.
func New(appID, installationID string, key *rsa.PublicKey) *Server {
	s := &Server{
		AppID:          appID,
		InstallationID: installationID,
		Key:            key,
		TTL:            time.Hour,
		issued:         map[string]time.Time{},
		revoked:        map[string]bool{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Mints returns how many installation tokens were issued.
func (s *Server) Mints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mints
}

// APICalls returns how many API calls were answered 200.
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// Rejections returns why each refused JWT was refused.
func (s *Server) Rejections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejects...)
}

// LastJWT returns the last app JWT received.
func (s *Server) LastJWT() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastJWT
}

// LastToken returns the installation token of the last API call answered
// 200.
func (s *Server) LastToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastToken
}

// Expiry returns when an issued token expires, and whether it was issued.
func (s *Server) Expiry(token string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.issued[token]
	return exp, ok
}

// Revoked reports whether token was revoked.
func (s *Server) Revoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[token]
}

// Valid reports whether token was issued, is unexpired and not revoked.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.issued[token]
	return ok && time.Now().Before(exp) && !s.revoked[token]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	tokensPath := "/app/installations/" + s.InstallationID + "/access_tokens"
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/app/installations/"):
		s.mint(w, r, r.URL.Path == tokensPath)
	case r.Method == http.MethodDelete && r.URL.Path == "/installation/token":
		tok := bearer(r)
		s.mu.Lock()
		_, ok := s.issued[tok]
		if ok {
			s.revoked[tok] = true
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		tok := bearer(r)
		if !s.Valid(tok) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		s.mu.Lock()
		s.apiCalls++
		s.lastToken = tok
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"total_count": 0, "repositories": []any{}})
	}
}

func (s *Server) reject(w http.ResponseWriter, why string) {
	s.mu.Lock()
	s.rejects = append(s.rejects, why)
	s.mu.Unlock()
	writeJSON(w, http.StatusUnauthorized, map[string]string{
		"message":           why,
		"documentation_url": "https://docs.github.com/rest",
	})
}

func (s *Server) mint(w http.ResponseWriter, r *http.Request, known bool) {
	raw := bearer(r)
	s.mu.Lock()
	s.lastJWT = raw
	s.mu.Unlock()
	if r.Header.Get("Accept") != "application/vnd.github+json" {
		s.reject(w, "Accept must be application/vnd.github+json")
		return
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return s.Key, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		s.reject(w, "A JSON web token could not be decoded: "+err.Error())
		return
	}
	now := time.Now()
	switch {
	case claims.Issuer != s.AppID:
		s.reject(w, fmt.Sprintf("iss %q is not the app", claims.Issuer))
		return
	case claims.IssuedAt == nil:
		s.reject(w, "'Issued at' claim ('iat') is missing")
		return
	case now.Sub(claims.IssuedAt.Time) < 50*time.Second || now.Sub(claims.IssuedAt.Time) > 120*time.Second:
		s.reject(w, fmt.Sprintf("'Issued at' claim ('iat') is %s before now, want about 60s", now.Sub(claims.IssuedAt.Time).Round(time.Second)))
		return
	case claims.ExpiresAt.Sub(now) > 10*time.Minute:
		s.reject(w, "'Expiration time' claim ('exp') is too far in the future")
		return
	}
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	s.mu.Lock()
	s.mints++
	tok := fmt.Sprintf("ghs_fake%04d", s.mints)
	exp := now.Add(s.TTL).Truncate(time.Second)
	s.issued[tok] = exp
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"token":                tok,
		"expires_at":           exp.UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"contents": "read"},
		"repository_selection": "all",
	})
}

// NewKey returns a new 2048-bit RSA key and its PKCS#1 PEM.
func NewKey(tb testing.TB) (*rsa.PrivateKey, string) {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return key, string(p)
}
