package storage

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnivault/vault"
)

// stringFields are the top-level credential keys whose flattened field
// holds the plain string rather than JSON text.
var stringFields = map[string]bool{"service": true, "type": true, "subdomain": true}

// encodeCredentials writes goauth JSON in Value and, for a multi-field
// vault, the flattened top-level keys in Fields.
func encodeCredentials(c *core.Credentials, multiField bool) (*vault.Secret, error) {
	data, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	s := &vault.Secret{Value: string(data)}
	if !multiField {
		return s, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	s.Fields = make(map[string]string, len(top))
	for k, v := range top {
		if stringFields[k] {
			var str string
			if err := json.Unmarshal(v, &str); err == nil {
				s.Fields[k] = str
				continue
			}
		}
		s.Fields[k] = string(v)
	}
	return s, nil
}

// decodeCredentials reads a secret in either form: goauth JSON in the
// value (preferred), or flattened Fields. Errors never quote the content.
func decodeCredentials(s *vault.Secret) (*core.Credentials, error) {
	if err := checkNotSealed(s); err != nil {
		return nil, err
	}
	if data := s.Bytes(); len(bytes.TrimSpace(data)) > 0 {
		return core.ParseCredentials(data)
	}
	if len(s.Fields) == 0 {
		return nil, fmt.Errorf("%w: the secret has neither a value nor fields", core.ErrInvalidCredentials)
	}
	top := make(map[string]json.RawMessage, len(s.Fields))
	for k, v := range s.Fields {
		if stringFields[k] {
			b, _ := json.Marshal(v) // a string always encodes
			top[k] = b
			continue
		}
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("%w: field %q is not valid JSON", core.ErrInvalidCredentials, k)
		}
		top[k] = json.RawMessage(v)
	}
	data, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("%w: fields do not form a JSON object", core.ErrInvalidCredentials)
	}
	return core.ParseCredentials(data)
}

// encodeToken writes the token's complete JSON.
func encodeToken(t *core.StoredToken) (*vault.Secret, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return &vault.Secret{Value: string(data)}, nil
}

// decodeToken reads a token written by encodeToken, or a goauth
// tokens.TokenInfo. Errors never quote
// the content.
func decodeToken(s *vault.Secret) (*core.StoredToken, error) {
	if err := checkNotSealed(s); err != nil {
		return nil, err
	}
	data := bytes.TrimSpace(s.Bytes())
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("%w: stored token is not a JSON object", core.ErrInvalidCredentials)
	}
	// core.ParseStoredToken also reads goauth's TokenInfo, as the seed API's
	// VaultTokenSet writes it under the same prefix.
	return core.ParseStoredToken(data)
}
