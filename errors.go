package omnitoken

import "github.com/plexusone/omnitoken/core"

// The sentinel errors. They are the same values as core's, so errors.Is
// matches them whichever package returned the error.
var (
	// ErrCredentialsNotFound is returned when credentials are not found in the vault.
	ErrCredentialsNotFound = core.ErrCredentialsNotFound
	// ErrTokenNotFound is returned when a token is not found in the vault.
	ErrTokenNotFound = core.ErrTokenNotFound
	// ErrTokenExpired is returned when a token has expired and cannot be refreshed.
	ErrTokenExpired = core.ErrTokenExpired
	// ErrRefreshFailed is returned when token refresh fails.
	ErrRefreshFailed = core.ErrRefreshFailed
	// ErrInvalidCredentials is returned when credentials are malformed.
	ErrInvalidCredentials = core.ErrInvalidCredentials
	// ErrVaultNotConfigured is returned when vault is not configured.
	ErrVaultNotConfigured = core.ErrVaultNotConfigured
	// ErrUnsupportedCredentialType is returned for unsupported credential types.
	ErrUnsupportedCredentialType = core.ErrUnsupportedCredentialType
)
