package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The sentinel errors of the seed API. The root package re-exports these
// exact values, so errors.Is matches them whichever package a caller uses.
var (
	// ErrCredentialsNotFound is returned when credentials are not found in the vault.
	ErrCredentialsNotFound = errors.New("credentials not found")
	// ErrTokenNotFound is returned when a token is not found in the vault.
	ErrTokenNotFound = errors.New("token not found")
	// ErrTokenExpired is returned when a token has expired and cannot be refreshed.
	ErrTokenExpired = errors.New("token expired")
	// ErrRefreshFailed is returned when token refresh fails.
	ErrRefreshFailed = errors.New("token refresh failed")
	// ErrInvalidCredentials is returned when credentials are malformed.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrVaultNotConfigured is returned when vault is not configured.
	ErrVaultNotConfigured = errors.New("vault not configured")
	// ErrUnsupportedCredentialType is returned for unsupported credential types.
	ErrUnsupportedCredentialType = errors.New("unsupported credential type")
)

// Errors of the engine itself.
var (
	// ErrClosed is returned by a Manager after Close.
	ErrClosed = errors.New("manager closed")
	// ErrReauthRequired is matched by a ReauthRequiredError: a person must act
	// (visit a URI, enter a code) before a token can be issued.
	ErrReauthRequired = errors.New("re-authorization required")
	// ErrPersistFailed is matched by errors and events reporting that a new
	// token could not be written to the store. The token is kept in memory
	// and written again later.
	ErrPersistFailed = errors.New("token persist failed")
	// ErrConflict is matched by an error from Store.SetToken that refused
	// the write because the token it holds is newer (a higher Fence, or the
	// same Fence and a generation at least as high), or because a
	// compare-and-swap failed. The Manager then reads the stored token
	// again and adopts it; it never retries the write blindly.
	ErrConflict = errors.New("conflicting write")
)

// OAuthError is an error response of a token endpoint (RFC 6749 §5.2),
// or a failed HTTP exchange with one. Its Description never holds a
// secret: strategies redact it before building the error.
//
// Codes invalid_grant, invalid_client and unauthorized_client are
// permanent: the error matches ErrRefreshFailed and the Manager does not
// call the endpoint again until the credential changes. Status 429 and
// 5xx are temporary and retried with backoff, honouring RetryAfter.
type OAuthError struct {
	// Code is the RFC 6749 "error" code, such as "invalid_grant". It may be
	// empty when the server answered without a JSON error.
	Code string
	// Description is the redacted "error_description".
	Description string
	// URI is the "error_uri".
	URI string
	// StatusCode is the HTTP status of the response, or 0.
	StatusCode int
	// Retry is the server's Retry-After, or 0.
	Retry time.Duration
}

// Error describes the failure without any secret.
func (e *OAuthError) Error() string {
	var b strings.Builder
	b.WriteString("oauth2: token endpoint")
	if e.StatusCode != 0 {
		b.WriteString(" returned status ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Retry > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.Retry)
	}
	return b.String()
}

// Permanent reports whether retrying with the same credential is futile.
func (e *OAuthError) Permanent() bool {
	switch e.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "access_denied", "expired_token":
		return true
	}
	return false
}

// Temporary reports whether the request may succeed if tried again later.
func (e *OAuthError) Temporary() bool {
	if e.Permanent() {
		return false
	}
	return e.StatusCode == 429 || e.StatusCode >= 500 || e.Code == "temporarily_unavailable" || e.Code == "slow_down"
}

// RetryAfter is the delay the server asked for, or 0.
func (e *OAuthError) RetryAfter() time.Duration { return e.Retry }

// Is makes a permanent OAuthError match ErrRefreshFailed.
func (e *OAuthError) Is(target error) bool {
	return target == ErrRefreshFailed && e.Permanent()
}

// ReauthRequiredError is returned when a person must act before a token
// can be issued: a credential that needs a person has no token yet (the
// authorization-code grant), its refresh token was refused with
// invalid_grant, or a device code is pending (RFC 8628). It matches
// ErrReauthRequired.
type ReauthRequiredError struct {
	// Name is the credential's name. The Manager fills it in.
	Name string
	// Command is what a person runs to authorize again, such as
	// "omnitoken login NAME" (NAME shell-quoted; "--device" added for a
	// device code). The Manager fills it in when a strategy left it empty.
	Command string
	// VerificationURI is where the user goes.
	VerificationURI string
	// VerificationURIComplete includes the user code, when the server sent one.
	VerificationURIComplete string
	// UserCode is the code the user types at VerificationURI.
	UserCode string
	// Expiry is when the code stops working, or zero.
	Expiry time.Time
	// Err is the cause, if any.
	Err error
}

// Error says what the user must do. A user code is meant to be shown to a
// person and is not a secret.
func (e *ReauthRequiredError) Error() string {
	var b strings.Builder
	b.WriteString("core: re-authorization required")
	if e.Name != "" {
		b.WriteString(" for " + strconv.Quote(e.Name))
	}
	sep := ": "
	if e.VerificationURI != "" {
		b.WriteString(sep + "visit " + e.VerificationURI)
		if e.UserCode != "" {
			b.WriteString(" and enter code " + e.UserCode)
		}
		sep = "; "
	}
	if e.Command != "" {
		b.WriteString(sep + "run " + e.Command)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Is matches ErrReauthRequired.
func (e *ReauthRequiredError) Is(target error) bool { return target == ErrReauthRequired }

// Unwrap returns the cause.
func (e *ReauthRequiredError) Unwrap() error { return e.Err }

// IsPermanent reports whether err says that retrying with the same
// credential cannot succeed: any error in its chain with a
// Permanent() bool method returning true, or one matching
// ErrInvalidCredentials or ErrRefreshFailed. The Manager does not call a
// strategy again for a permanent failure until the credential changes.
// ErrReauthRequired is not permanent, yet the Manager does not wait on
// it either: later calls fail at once with the same error until the
// credential or the token changes (a person authorized), except while a
// device code is pending, when each call asks the strategy, which polls
// for the approval at its own pace.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return true
	}
	return errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrRefreshFailed)
}

// IsTemporary reports whether err says the call may succeed when retried:
// any error in its chain with a Temporary() bool method returning true.
func IsTemporary(err error) bool {
	if IsPermanent(err) {
		return false
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// RetryAfterOf returns the largest Retry-After found in err's chain, or 0.
func RetryAfterOf(err error) time.Duration {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) {
		return r.RetryAfter()
	}
	return 0
}
