package omnitoken

import (
	"encoding/json"
	"fmt"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken/core"
)

// toCore converts goauth credentials to the engine's envelope through
// goauth's own JSON, so every field and section is carried.
func toCore(c *goauth.Credentials) (*core.Credentials, error) {
	if c == nil {
		return nil, fmt.Errorf("omnitoken: %w: credentials are nil", ErrInvalidCredentials)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w: cannot encode credentials", ErrInvalidCredentials)
	}
	cc, err := core.ParseCredentials(b)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return cc, nil
}

// fromCore converts the envelope back to goauth credentials. Sections
// goauth does not know (a plugin's own type) are dropped from the result
// but stay intact in the vault.
func fromCore(c *core.Credentials) (*goauth.Credentials, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: encode credentials: %w", err)
	}
	var g goauth.Credentials
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("omnitoken: %w: stored credentials do not decode as goauth credentials", ErrInvalidCredentials)
	}
	return &g, nil
}
