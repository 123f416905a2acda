package omnitoken

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// lenient is a strategy as the engine of a TokenManager sees it: its
// Validate checks structure only, so that SetCredentials stores what
// v0.1.0 stored (an OAuth 2.0 credential whose endpoint is still to come,
// say). The strategy's own checks run when a token is requested, and in
// ValidateCredentials.
type lenient struct{ s core.Strategy }

// lenientRegistry returns a registry serving each strategy of reg through
// lenient.
func lenientRegistry(reg *core.Registry) *core.Registry {
	out := core.NewRegistry()
	for _, t := range reg.Types() {
		s, _ := reg.Lookup(t)
		out.Register(lenient{s})
	}
	return out
}

// Unwrap returns the strategy itself.
func (l lenient) Unwrap() core.Strategy { return l.s }

// Type implements core.Strategy.
func (l lenient) Type() string { return l.s.Type() }

// Token implements core.Strategy.
func (l lenient) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	return l.s.Token(ctx, c, prev)
}

// Validate implements driver.Validator with the structural checks only.
func (l lenient) Validate(c *core.Credentials) error { return structural(c) }

// Revoke implements driver.Revoker when the strategy does; otherwise there
// is nothing to revoke.
func (l lenient) Revoke(ctx context.Context, c *core.Credentials, t *core.Token) error {
	if r, ok := l.s.(driver.Revoker); ok {
		return r.Revoke(ctx, c, t)
	}
	return nil
}

// structural reports whether c is structurally sound: it has a type, and
// the section named by the type is a JSON object.
func structural(c *core.Credentials) error {
	if c.Type == "" {
		return fmt.Errorf("%w: no type", ErrInvalidCredentials)
	}
	if !c.HasSection(c.Type) {
		return fmt.Errorf("%w: type %q has no %q section", ErrInvalidCredentials, c.Type, c.Type)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c.Section(c.Type), &obj); err != nil || obj == nil {
		return fmt.Errorf("%w: the %q section is not a JSON object", ErrInvalidCredentials, c.Type)
	}
	return nil
}

var (
	_ driver.Validator = lenient{}
	_ driver.Revoker   = lenient{}
)
