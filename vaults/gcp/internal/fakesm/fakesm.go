// Package fakesm is an in-process fake of Google Cloud Secret Manager's
// gRPC service for the calls the gcp provider makes. It serves TLS on a
// loopback port with a certificate made at start, and checks each call's
// bearer token. It enforces what the provider relies on: NOT_FOUND,
// ALREADY_EXISTS, a new etag on every change of a secret, the etag
// condition of UpdateSecret and DestroySecretVersion, version aliases, and
// RESOURCE_EXHAUSTED on demand.
package fakesm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Server is a fake Secret Manager.
type Server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	// Token is the only bearer token accepted.
	Token string
	// Addr is the listening address, set by Start.
	Addr string
	// RootCAs trusts the server's certificate, set by Start.
	RootCAs *x509.CertPool

	grpc *grpc.Server

	mu       sync.Mutex
	secrets  map[string]*secret
	throttle int
	calls    map[string]int
	etags    int
	before   map[string]func()
}

type secret struct {
	pb       *secretmanagerpb.Secret
	versions []*secretmanagerpb.SecretVersion // index n-1 is version n
	payloads [][]byte
}

// Start serves on a loopback port until Stop.
func (s *Server) Start() (*Server, error) {
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr, s.RootCAs = l.Addr().String(), pool
	s.secrets, s.calls, s.before = map[string]*secret{}, map[string]int{}, map[string]func(){}
	s.grpc = grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)), grpc.UnaryInterceptor(s.intercept))
	secretmanagerpb.RegisterSecretManagerServiceServer(s.grpc, s)
	go func() { _ = s.grpc.Serve(l) }()
	return s, nil
}

// Before makes the next call of method run f first, outside the server's
// lock, so that a test can slip another client's call in between two
// calls of the one under test.
func (s *Server) Before(method string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before[method] = f
}

// Stop stops the server.
func (s *Server) Stop() { s.grpc.Stop() }

// Throttle makes the next n calls fail with RESOURCE_EXHAUSTED.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Calls reports how many calls reached a method, such as
// "AddSecretVersion"; "Throttled" counts throttled calls.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Current returns the payload that a secret's alias "current" names, and
// how many of its versions still hold a payload (not destroyed).
func (s *Server) Current(name string) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[name]
	if sec == nil {
		return "", 0
	}
	live := 0
	for _, v := range sec.versions {
		if v.State != secretmanagerpb.SecretVersion_DESTROYED {
			live++
		}
	}
	n := sec.pb.VersionAliases["current"]
	if n == 0 {
		return "", live
	}
	return string(sec.payloads[n-1]), live
}

// IDs returns the stored secrets' IDs, sorted.
func (s *Server) IDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.secrets {
		out = append(out, n[strings.LastIndex(n, "/")+1:])
	}
	sort.Strings(out)
	return out
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	s.mu.Lock()
	if s.throttle > 0 {
		s.throttle--
		s.calls["Throttled"]++
		s.mu.Unlock()
		return nil, status.Error(codes.ResourceExhausted, "quota exceeded")
	}
	s.calls[method]++
	f := s.before[method]
	delete(s.before, method)
	s.mu.Unlock()
	if f != nil {
		f()
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if a := md.Get("authorization"); len(a) != 1 || a[0] != "Bearer "+s.Token {
		return nil, status.Error(codes.Unauthenticated, "request had invalid authentication credentials")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return h(ctx, req)
}

func (s *Server) etag() string {
	s.etags++
	return `"` + strconv.Itoa(s.etags) + `"`
}

func notFound(name string) error {
	return status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", name)
}

// CreateSecret implements the service.
func (s *Server) CreateSecret(_ context.Context, r *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	name := r.GetParent() + "/secrets/" + r.GetSecretId()
	if _, ok := s.secrets[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists.", name)
	}
	if r.GetSecret().GetReplication() == nil {
		return nil, status.Error(codes.InvalidArgument, "replication is required")
	}
	pb := &secretmanagerpb.Secret{Name: name, Replication: r.GetSecret().GetReplication(), Etag: s.etag(), VersionAliases: map[string]int64{}}
	s.secrets[name] = &secret{pb: pb}
	return proto.Clone(pb).(*secretmanagerpb.Secret), nil
}

// GetSecret implements the service.
func (s *Server) GetSecret(_ context.Context, r *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	sec := s.secrets[r.GetName()]
	if sec == nil {
		return nil, notFound(r.GetName())
	}
	return proto.Clone(sec.pb).(*secretmanagerpb.Secret), nil
}

// UpdateSecret implements the service: only version_aliases, under the
// etag condition.
func (s *Server) UpdateSecret(_ context.Context, r *secretmanagerpb.UpdateSecretRequest) (*secretmanagerpb.Secret, error) {
	sec := s.secrets[r.GetSecret().GetName()]
	if sec == nil {
		return nil, notFound(r.GetSecret().GetName())
	}
	if e := r.GetSecret().GetEtag(); e != "" && e != sec.pb.Etag {
		return nil, status.Error(codes.Aborted, "The etag provided does not match the current etag of the resource.")
	}
	if p := r.GetUpdateMask().GetPaths(); len(p) != 1 || p[0] != "version_aliases" {
		return nil, status.Error(codes.InvalidArgument, "only version_aliases can be updated here")
	}
	for k, n := range r.GetSecret().GetVersionAliases() {
		if n < 1 || int(n) > len(sec.versions) || sec.versions[n-1].State == secretmanagerpb.SecretVersion_DESTROYED {
			return nil, status.Errorf(codes.FailedPrecondition, "alias %s names version %d, which cannot be aliased", k, n)
		}
	}
	sec.pb.VersionAliases = map[string]int64{}
	for k, n := range r.GetSecret().GetVersionAliases() {
		sec.pb.VersionAliases[k] = n
	}
	sec.pb.Etag = s.etag()
	return proto.Clone(sec.pb).(*secretmanagerpb.Secret), nil
}

// DeleteSecret implements the service.
func (s *Server) DeleteSecret(_ context.Context, r *secretmanagerpb.DeleteSecretRequest) (*emptypb.Empty, error) {
	sec := s.secrets[r.GetName()]
	if sec == nil {
		return nil, notFound(r.GetName())
	}
	if e := r.GetEtag(); e != "" && e != sec.pb.Etag {
		return nil, status.Error(codes.Aborted, "etag mismatch")
	}
	delete(s.secrets, r.GetName())
	return &emptypb.Empty{}, nil
}

// AddSecretVersion implements the service.
func (s *Server) AddSecretVersion(_ context.Context, r *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	sec := s.secrets[r.GetParent()]
	if sec == nil {
		return nil, notFound(r.GetParent())
	}
	n := len(sec.versions) + 1
	v := &secretmanagerpb.SecretVersion{
		Name: fmt.Sprintf("%s/versions/%d", r.GetParent(), n), State: secretmanagerpb.SecretVersion_ENABLED, Etag: s.etag(),
	}
	sec.versions = append(sec.versions, v)
	sec.payloads = append(sec.payloads, append([]byte(nil), r.GetPayload().GetData()...))
	return proto.Clone(v).(*secretmanagerpb.SecretVersion), nil
}

func (s *Server) version(name string) (*secret, int, error) {
	i := strings.LastIndex(name, "/versions/")
	if i < 0 {
		return nil, 0, status.Error(codes.InvalidArgument, "not a version name")
	}
	sec := s.secrets[name[:i]]
	if sec == nil {
		return nil, 0, notFound(name[:i])
	}
	ref := name[i+len("/versions/"):]
	n, err := strconv.Atoi(ref)
	switch {
	case ref == "latest":
		n = len(sec.versions)
	case err != nil:
		n = int(sec.pb.VersionAliases[ref])
	}
	if n < 1 || n > len(sec.versions) {
		return nil, 0, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	return sec, n, nil
}

// GetSecretVersion implements the service.
func (s *Server) GetSecretVersion(_ context.Context, r *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	sec, n, err := s.version(r.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(sec.versions[n-1]).(*secretmanagerpb.SecretVersion), nil
}

// AccessSecretVersion implements the service.
func (s *Server) AccessSecretVersion(_ context.Context, r *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	sec, n, err := s.version(r.GetName())
	if err != nil {
		return nil, err
	}
	if sec.versions[n-1].State != secretmanagerpb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in DESTROYED state.", r.GetName())
	}
	return &secretmanagerpb.AccessSecretVersionResponse{Name: sec.versions[n-1].Name, Payload: &secretmanagerpb.SecretPayload{Data: sec.payloads[n-1]}}, nil
}

// DestroySecretVersion implements the service, under the etag condition.
// A version that an alias names cannot be destroyed.
func (s *Server) DestroySecretVersion(_ context.Context, r *secretmanagerpb.DestroySecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	sec, n, err := s.version(r.GetName())
	if err != nil {
		return nil, err
	}
	v := sec.versions[n-1]
	if e := r.GetEtag(); e != "" && e != v.Etag {
		return nil, status.Error(codes.Aborted, "etag mismatch")
	}
	for _, a := range sec.pb.VersionAliases {
		if int(a) == n {
			return nil, status.Error(codes.FailedPrecondition, "version is aliased")
		}
	}
	v.State, v.Etag = secretmanagerpb.SecretVersion_DESTROYED, s.etag()
	sec.payloads[n-1] = nil
	return proto.Clone(v).(*secretmanagerpb.SecretVersion), nil
}

// ListSecrets implements the service, two secrets a page.
func (s *Server) ListSecrets(_ context.Context, r *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	var names []string
	for n := range s.secrets {
		if strings.HasPrefix(n, r.GetParent()+"/secrets/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start := 0
	if t := r.GetPageToken(); t != "" {
		start = sort.SearchStrings(names, t)
	}
	end := min(start+2, len(names))
	out := &secretmanagerpb.ListSecretsResponse{TotalSize: int32(len(names))}
	for _, n := range names[start:end] {
		out.Secrets = append(out.Secrets, proto.Clone(s.secrets[n].pb).(*secretmanagerpb.Secret))
	}
	if end < len(names) {
		out.NextPageToken = names[end]
	}
	return out, nil
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fakesm"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool, nil
}
