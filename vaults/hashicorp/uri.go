package hashicorp

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/plexusone/omnitoken/internal/loopback"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

// DefaultKubernetesJWTPath is where Kubernetes projects a pod's
// service-account token.
const DefaultKubernetesJWTPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

func init() {
	omnivault.RegisterProvider("vault", func(uri string) (vault.Vault, error) { return FromURI(uri, os.Getenv) })
	omnivault.RegisterProvider("openbao", func(uri string) (vault.Vault, error) { return FromURI(uri, os.Getenv) })
}

// FromURI returns a Vault for a vault:// or openbao:// URI (see the package
// documentation), taking secrets and defaults from getenv.
func FromURI(uri string, getenv func(string) string) (*Vault, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("hashicorp: %w: malformed URI", vault.ErrInvalidPath)
	}
	env := func(vaultName, baoName string) string {
		if u.Scheme == "openbao" {
			if s := getenv(baoName); s != "" {
				return s
			}
		}
		return getenv(vaultName)
	}
	if u.Scheme != "vault" && u.Scheme != "openbao" {
		return nil, fmt.Errorf("hashicorp: scheme %q is not vault or openbao", u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("hashicorp: %w: credentials in the URI; use VAULT_TOKEN or an auth method", vault.ErrInvalidPath)
	}
	q := u.Query()
	cfg := Config{Name: u.Scheme, Namespace: q.Get("namespace")}
	if cfg.Namespace == "" {
		cfg.Namespace = env("VAULT_NAMESPACE", "BAO_NAMESPACE")
	}

	switch {
	case u.Host != "":
		scheme := "https"
		if q.Get("tls") == "false" {
			scheme = "http"
		}
		cfg.Address = scheme + "://" + u.Host
	default:
		cfg.Address = env("VAULT_ADDR", "BAO_ADDR")
		if cfg.Address == "" {
			return nil, fmt.Errorf("hashicorp: %w: the URI names no host and VAULT_ADDR is unset", vault.ErrInvalidPath)
		}
	}

	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if segs[0] == "" {
		return nil, fmt.Errorf("hashicorp: %w: the URI names no KV mount (want %s://host/MOUNT[/PREFIX])", vault.ErrInvalidPath, u.Scheme)
	}
	cfg.Mount = segs[0]
	cfg.Prefix = strings.Join(segs[1:], "/")

	a := Auth{Method: q.Get("auth"), MountPath: q.Get("authmount")}
	switch a.Method {
	case "", AuthToken:
		a.Method = AuthToken
		a.Token = env("VAULT_TOKEN", "BAO_TOKEN")
	case AuthAppRole:
		a.RoleID = env("VAULT_ROLE_ID", "BAO_ROLE_ID")
		a.SecretID = env("VAULT_SECRET_ID", "BAO_SECRET_ID")
	case AuthKubernetes:
		a.Role = q.Get("role")
		if a.Role == "" {
			a.Role = env("VAULT_K8S_ROLE", "BAO_K8S_ROLE")
		}
		p := env("VAULT_K8S_JWT_PATH", "BAO_K8S_JWT_PATH")
		if p == "" {
			p = DefaultKubernetesJWTPath
		}
		a.JWT = func() (string, error) {
			b, err := os.ReadFile(p)
			return strings.TrimSpace(string(b)), err
		}
	}
	cfg.Auth = a
	return New(cfg)
}

// checkAddress refuses a malformed address, and plain http to a host that
// is not loopback: the client token would cross the network in clear.
func checkAddress(addr string) error {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return fmt.Errorf("hashicorp: %w: address %q is not a URL", vault.ErrInvalidPath, addr)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback.Host(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("hashicorp: %w: plain http to %s, which is not loopback; use https", vault.ErrInvalidPath, u.Hostname())
	}
	return fmt.Errorf("hashicorp: %w: address scheme %q (want https)", vault.ErrInvalidPath, u.Scheme)
}
