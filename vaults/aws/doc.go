// Package aws is an omnivault provider for AWS Secrets Manager.
//
// A blank import registers the URI scheme aws-sm:// with omnivault, so
// that omnitoken.NewFromVaultURI accepts it:
//
//	import _ "github.com/plexusone/omnitoken/vaults/aws"
//
//	mgr, err := omnitoken.NewFromVaultURI("aws-sm://omnitoken/prod/?region=eu-west-1")
//
// # URIs
//
//	aws-sm://[PREFIX][?region=REGION&endpoint=URL&profile=NAME]
//
// PREFIX, followed by a '/' if it does not end with one, starts the name
// of every secret this vault writes, so one account can hold several
// omnitoken vaults side by side (prefixes "a" and "ab" never share a
// name). Credentials and
// the region come from the SDK's default chain (environment, shared
// config and credentials files, SSO, web identity, ECS and EC2 roles);
// region and profile in the URI override it. endpoint points the client
// at another endpoint, such as a VPC endpoint or LocalStack; plain http is
// accepted only for a loopback host.
//
// # Names
//
// A secret's name is PREFIX followed by the vault path, with every byte
// outside A–Z, a–z, 0–9 and "/_+=." written as '@' and two hex digits.
// The mapping is reversible, so List gives the paths back; it also keeps
// '-' out of names, so a name never ends like a partial ARN ("-" and six
// characters). An encoded name is at most 512 bytes.
//
// # Semantics
//
//   - Get reads the version labelled AWSCURRENT. A missing secret, or one
//     scheduled for deletion, is an error matching vault.ErrSecretNotFound.
//   - Get reports the VersionId in Metadata.Version. Set writes a new
//     AWSCURRENT version whatever is there (creating the secret if need
//     be).
//   - SetIfVersion never overwrites blindly, so Vault implements
//     storage.ConditionalVault and omnitoken writes every token that way.
//     For "" it makes the secret with CreateSecret, which fails if another
//     writer made it first. Otherwise it adds a version labelled
//     AWSPENDING and moves the AWSCURRENT label to it from the version
//     read: Secrets Manager refuses the move when AWSCURRENT has moved on
//     since, and the write fails with an error matching core.ErrConflict,
//     so the engine re-reads and adopts the newer token. AWSPENDING is
//     then taken off the new version, won or lost, since it means a
//     rotation in progress to Secrets Manager and to rotation functions;
//     a lost version then holds no label and is aged out by Secrets
//     Manager. A secret with rotation enabled should not also be written
//     by omnitoken: the two would contend for AWSPENDING.
//   - A secret scheduled for deletion reads as missing; Set and
//     SetIfVersion("") restore it and write a new version.
//   - Each write carries its own ClientRequestToken, so a retried request
//     never makes a second version.
//   - Delete deletes without a recovery window, so that the name is free
//     again (Secrets Manager finishes such a deletion asynchronously).
//   - List filters by name prefix and pages through the results.
//   - Throttling (ThrottlingException, 429, 5xx) is retried by the SDK's
//     standard retryer with exponential backoff and jitter.
//
// Values are stored as SecretString; Fields are not kept (Capabilities
// reports no MultiField), which is what omnitoken's storage expects.
//
// # Tested against a fake
//
// No AWS endpoint can be reached where this package is developed. Its
// tests drive the real SDK client against an in-process fake of the
// Secrets Manager JSON API (internal/fakesm) that enforces
// ResourceNotFoundException, ResourceExistsException, version stages and
// the AWSCURRENT move check, and throttles on demand. To run the same
// tests against a real account (it writes under a random prefix and
// deletes what it wrote):
//
//	AWS_REGION=eu-west-1 OMNITOKEN_LIVE_AWS_SM=1 go test -run Live ./...
package aws
