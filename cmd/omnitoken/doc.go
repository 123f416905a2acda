// Command omnitoken is the operators' CLI for omnitoken: it puts
// credentials into a vault, shows what is there, runs the one-time
// authorization-code or device login that an OAuth credential needs, and
// hands tokens to shell scripts.
//
//	omnitoken set github --file github.json     store a goauth Credentials JSON (validated)
//	omnitoken list [--json] [--check]           names, types and token state
//	omnitoken show NAME                         the credential and its token, redacted
//	omnitoken token NAME                        the access token alone
//	omnitoken header NAME                       the full header line ("Authorization: Bearer …")
//	omnitoken exec NAME -- cmd args…            run cmd with the token in $OMNITOKEN_TOKEN
//	omnitoken login NAME [--device]             authorization code + PKCE, or the device flow
//	omnitoken check NAME                        validate, fetch a token, report its expiry
//	omnitoken delete NAME                       delete it (revoking the token where the type can)
//	omnitoken migrate [--rename OLD=NEW]        move a directory written by omnitoken v0.1.0 to this layout
//	omnitoken rekey                             seal every value with the first key of $OMNITOKEN_KEY
//	omnitoken plugins list                      the strategy plugins in the plugin directory
//	omnitoken completion bash|zsh|fish          shell completion
//
// # The vault
//
// --vault URI chooses the vault; without it OMNITOKEN_VAULT_URI does, and
// without that the directory CredentialsDir() of the omnitoken package
// (~/.config/omnitoken/credentials on Linux). A URI is a directory path,
// file:///path, or a scheme registered with omnivault.RegisterProvider.
// Files are laid out as omnitoken.NewFromDirectory lays them out, so a
// program and the CLI share a vault; a directory written by omnitoken
// v0.1.0 is used in its own layout until "omnitoken migrate" moves it.
// With OMNITOKEN_KEY or OMNITOKEN_KEY_FILE set, as for omnitoken.NewAuto,
// values are sealed with AES-256-GCM (storage.EncryptVault).
//
// # Exit codes
//
//	0   success
//	1   failure (the reason is one line on stderr)
//	2   usage: unknown command or flag, wrong number of arguments
//	3   needs login: a person must run the "omnitoken login …" command printed on stderr
//
// exec passes the command's own exit code through (127 when the command
// cannot be started).
//
// # Secrets
//
// No command prints a secret, except the token that token, header and exec
// exist to hand out. Errors and show redact.
//
// # Speed
//
// "omnitoken token NAME" with a valid stored token is meant for loops: the
// binary links core, storage and the strategies, never the omnitoken root
// package (which brings goauth, Google APIs and OpenTelemetry), and the
// cached path reads two small files. BenchmarkTokenProcess measures it as a
// whole process against a minimal Go program and against true.
package main
