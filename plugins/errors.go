package plugins

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins/internal/pb"
)

// Errors of the plugin machinery itself. A strategy's own errors keep
// their meaning across the process boundary instead: they match core's
// sentinels, and *core.OAuthError and *core.ReauthRequiredError are found
// with errors.As, as if the strategy ran in-process.
var (
	// ErrChecksumMismatch is returned by Open when Options.AllowedSHA256 is
	// set and the binary matches none of its entries. The binary has not
	// been executed.
	ErrChecksumMismatch = errors.New("plugin checksum not allowed")
	// ErrIncompatibleVersion is returned by Open when the plugin speaks
	// another protocol version than the host.
	ErrIncompatibleVersion = errors.New("incompatible plugin protocol version")
	// ErrHandshake is returned by Open when the plugin did not complete the
	// handshake: it printed something else to stdout first, exited, or
	// stayed silent past Options.StartTimeout.
	ErrHandshake = errors.New("plugin handshake failed")
	// ErrUnavailable is matched by the error of a call during which the
	// plugin process crashed, was killed, or could not be restarted. It
	// is temporary: the next call starts the plugin again.
	ErrUnavailable = errors.New("plugin unavailable")
	// ErrClosed is returned by every call after Close.
	ErrClosed = errors.New("plugin closed")
)

// maxMessage caps an error message crossing the boundary.
const maxMessage = 1024

// kinds lists the sentinels whose matching survives the boundary.
var kinds = []struct {
	kind pb.Error_Kind
	err  error
}{
	{pb.Error_KIND_REFRESH_FAILED, core.ErrRefreshFailed},
	{pb.Error_KIND_TOKEN_EXPIRED, core.ErrTokenExpired},
	{pb.Error_KIND_INVALID_CREDENTIALS, core.ErrInvalidCredentials},
	{pb.Error_KIND_UNSUPPORTED_CREDENTIAL_TYPE, core.ErrUnsupportedCredentialType},
	{pb.Error_KIND_CREDENTIALS_NOT_FOUND, core.ErrCredentialsNotFound},
	{pb.Error_KIND_TOKEN_NOT_FOUND, core.ErrTokenNotFound},
	{pb.Error_KIND_REAUTH_REQUIRED, core.ErrReauthRequired},
	{pb.Error_KIND_VAULT_NOT_CONFIGURED, core.ErrVaultNotConfigured},
	{pb.Error_KIND_CLOSED, core.ErrClosed},
	{pb.Error_KIND_PERSIST_FAILED, core.ErrPersistFailed},
	{pb.Error_KIND_CANCELED, context.Canceled},
	{pb.Error_KIND_DEADLINE_EXCEEDED, context.DeadlineExceeded},
}

// encodeError describes a strategy's error for the host. nil stays nil.
func encodeError(err error) *pb.Error {
	if err == nil {
		return nil
	}
	e := &pb.Error{
		Message:      truncate(err.Error(), maxMessage),
		Temporary:    core.IsTemporary(err),
		Permanent:    core.IsPermanent(err),
		RetryAfterMs: core.RetryAfterOf(err).Milliseconds(),
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			e.Kinds = append(e.Kinds, k.kind)
		}
	}
	var oe *core.OAuthError
	if errors.As(err, &oe) {
		e.Oauth = &pb.OAuthError{
			Code:         oe.Code,
			Description:  truncate(oe.Description, maxMessage),
			Uri:          truncate(oe.URI, maxMessage),
			StatusCode:   int32(oe.StatusCode),
			RetryAfterMs: oe.Retry.Milliseconds(),
		}
	}
	var re *core.ReauthRequiredError
	if errors.As(err, &re) {
		r := &pb.ReauthRequired{
			VerificationUri:         re.VerificationURI,
			VerificationUriComplete: re.VerificationURIComplete,
			UserCode:                re.UserCode,
		}
		if !re.Expiry.IsZero() {
			r.ExpiryUnixNano = re.Expiry.UnixNano()
		}
		if re.Err != nil {
			r.Cause = truncate(re.Err.Error(), maxMessage)
		}
		e.Reauth = r
	}
	return e
}

// decodeError rebuilds a strategy's error on the host.
func decodeError(typ string, e *pb.Error) error {
	if e == nil {
		return nil
	}
	re := &remoteError{
		typ:        typ,
		msg:        e.GetMessage(),
		temporary:  e.GetTemporary(),
		permanent:  e.GetPermanent(),
		retryAfter: time.Duration(e.GetRetryAfterMs()) * time.Millisecond,
	}
	for _, k := range e.GetKinds() {
		for _, known := range kinds {
			if known.kind == k {
				re.kinds = append(re.kinds, known.err)
			}
		}
	}
	if o := e.GetOauth(); o != nil {
		re.causes = append(re.causes, &core.OAuthError{
			Code:        o.GetCode(),
			Description: o.GetDescription(),
			URI:         o.GetUri(),
			StatusCode:  int(o.GetStatusCode()),
			Retry:       time.Duration(o.GetRetryAfterMs()) * time.Millisecond,
		})
	}
	if r := e.GetReauth(); r != nil {
		ra := &core.ReauthRequiredError{
			VerificationURI:         r.GetVerificationUri(),
			VerificationURIComplete: r.GetVerificationUriComplete(),
			UserCode:                r.GetUserCode(),
		}
		if n := r.GetExpiryUnixNano(); n != 0 {
			ra.Expiry = time.Unix(0, n)
		}
		if c := r.GetCause(); c != "" {
			ra.Err = errors.New(c)
		}
		re.causes = append(re.causes, ra)
	}
	return re
}

// remoteError is a strategy's error rebuilt on the host. It matches the
// sentinels the original matched, unwraps to the rebuilt *core.OAuthError
// and *core.ReauthRequiredError, and answers Temporary, Permanent and
// RetryAfter as the original did, so core.IsPermanent, core.IsTemporary
// and core.RetryAfterOf agree on both sides.
type remoteError struct {
	typ        string
	msg        string
	kinds      []error
	causes     []error
	temporary  bool
	permanent  bool
	retryAfter time.Duration
}

// Error names the plugin's type and carries the strategy's message.
func (e *remoteError) Error() string { return "plugins: " + e.typ + ": " + e.msg }

// Is matches the sentinels the original error matched.
func (e *remoteError) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}

// Unwrap returns the rebuilt OAuth and re-authorization errors.
func (e *remoteError) Unwrap() []error { return e.causes }

// Temporary reports core.IsTemporary of the original.
func (e *remoteError) Temporary() bool { return e.temporary }

// Permanent reports core.IsPermanent of the original.
func (e *remoteError) Permanent() bool { return e.permanent }

// RetryAfter reports core.RetryAfterOf of the original.
func (e *remoteError) RetryAfter() time.Duration { return e.retryAfter }

// callError is a call that failed because the plugin process did: it
// crashed, was killed, or could not be started again. It is temporary.
type callError struct {
	typ, op string
	err     error
}

// Error names the plugin's type, the call and the cause.
func (e *callError) Error() string {
	return "plugins: " + e.typ + ": " + e.op + ": plugin unavailable: " + e.err.Error()
}

// Unwrap returns the cause.
func (e *callError) Unwrap() error { return e.err }

// Is matches ErrUnavailable.
func (e *callError) Is(target error) bool { return target == ErrUnavailable }

// Temporary reports true: the next call starts the plugin again.
func (e *callError) Temporary() bool { return true }

// truncate caps s at n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
