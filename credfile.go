package omnitoken

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grokify/goauth"
)

// readCredentialsFile reads a goauth CredentialsSet file, or a file of one
// goauth Credentials, as a set. Errors never quote the file's content.
func readCredentialsFile(file string) (*goauth.CredentialsSet, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: read credentials file: %w", err)
	}
	bad := func(what string) error {
		return fmt.Errorf("omnitoken: credentials file %s: %w: %s", filepath.Base(file), ErrInvalidCredentials, what)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return nil, bad("not a JSON object")
	}
	if _, ok := top["credentials"]; ok {
		var set goauth.CredentialsSet
		if err := json.Unmarshal(b, &set); err != nil {
			return nil, bad("not a goauth credentials set")
		}
		if set.Credentials == nil {
			set.Credentials = map[string]goauth.Credentials{}
		}
		return &set, nil
	}
	if _, ok := top["type"]; ok {
		var c goauth.Credentials
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, bad("holds one credential, which does not decode as goauth credentials")
		}
		name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		return &goauth.CredentialsSet{Credentials: map[string]goauth.Credentials{name: c}}, nil
	}
	return nil, bad(`not a goauth credentials set (no "credentials" key) nor one credential (no "type" key)`)
}
