package omnitoken

// vaultImports names the package that registers each vault scheme that
// omnitoken offers outside the root package, for the error of
// NewFromVaultURI when that package is not imported.
var vaultImports = map[string]string{
	"keyring":  "github.com/plexusone/omnitoken/vaults/keyring",
	"keychain": "github.com/plexusone/omnitoken/vaults/keyring",
	"op":       "github.com/plexusone/omnitoken/vaults/onepassword",
	"bw":       "github.com/plexusone/omnitoken/vaults/bitwarden",
	"vault":    "github.com/plexusone/omnitoken/vaults/hashicorp",
	"openbao":  "github.com/plexusone/omnitoken/vaults/hashicorp",
	"aws-sm":   "github.com/plexusone/omnitoken/vaults/aws",
	"gcp-sm":   "github.com/plexusone/omnitoken/vaults/gcp",
	"azure-kv": "github.com/plexusone/omnitoken/vaults/azure",
}
