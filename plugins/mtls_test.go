package plugins

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/plugins/internal/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// TestOutsideClientRefused: another process that
// connects to the plugin's socket is refused by AutoMTLS, with or without
// a certificate of its own; the host's connection works.
func TestOutsideClientRefused(t *testing.T) {
	s, err := Open(BuildTestPlugin(t, 0), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	addr := s.cur.client.ReattachConfig().Addr
	host := s.cur.rpc
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := host.Info(ctx, &pb.InfoRequest{}); err != nil {
		t.Fatalf("the host's own connection: %v", err)
	}

	cert := selfSigned(t)
	for name, creds := range map[string]credentials.TransportCredentials{
		"plaintext": insecure.NewCredentials(),
		"tls without a client certificate": credentials.NewTLS(&tls.Config{
			InsecureSkipVerify: true, // the intruder does not care who the server is
			MinVersion:         tls.VersionTLS12,
		}),
		"tls with its own client certificate": credentials.NewTLS(&tls.Config{
			InsecureSkipVerify: true,
			Certificates:       []tls.Certificate{cert},
			MinVersion:         tls.VersionTLS12,
		}),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient(addr.Network()+"://"+addr.String(), grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			info, err := pb.NewStrategyClient(conn).Info(ctx, &pb.InfoRequest{})
			if err == nil {
				t.Fatalf("an outside client was served: %v", info)
			}
			// The intruder reached the plugin's socket and was turned away
			// there, not by a wrong address.
			for _, wrongAddr := range []string{"no such file", "connection refused"} {
				if strings.Contains(err.Error(), wrongAddr) {
					t.Fatalf("the test dialled the wrong address: %v", err)
				}
			}
		})
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
