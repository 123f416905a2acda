package gcpsa_test

import (
	"bytes"
	"encoding/json"
	"testing"

	goauthgoogle "github.com/grokify/goauth/google"

	"github.com/plexusone/omnitoken/strategy/gcpsa"
)

// The section must encode exactly as goauth's CredentialsGCP does, so a
// credential converted between the two keeps its bytes. goauth's google
// subpackage is light enough for a test; its root package is not imported.
func TestSectionMatchesGoauth(t *testing.T) {
	full := gcpsa.ServiceAccount{
		Type: "service_account", ClientEmail: "e", ClientID: "i", ClientSecret: "s", ProjectID: "p",
		PrivateKey: "k", PrivateKeyID: "ki", AuthURI: "a", TokenURI: "t",
		AuthProviderX509CertURL: "ap", ClientX509CertURL: "cx", RedirectURIs: []string{"r"},
	}
	theirs := goauthgoogle.Credentials{
		Type: "service_account", ClientEmail: "e", ClientID: "i", ClientSecret: "s", ProjectID: "p",
		PrivateKey: "k", PrivateKeyID: "ki", AuthURI: "a", TokenURI: "t",
		AuthProviderX509CertURL: "ap", ClientX509CertURL: "cx", RedirectURIs: []string{"r"},
	}
	for name, pair := range map[string][2]any{
		"full":  {full, theirs},
		"empty": {gcpsa.ServiceAccount{}, goauthgoogle.Credentials{}},
	} {
		a, err := json.Marshal(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: ours %s\ngoauth's %s", name, a, b)
		}
		// And goauth reads ours back field for field.
		var back goauthgoogle.Credentials
		if err := json.Unmarshal(a, &back); err != nil {
			t.Fatal(err)
		}
		if c, _ := json.Marshal(back); !bytes.Equal(c, b) {
			t.Errorf("%s: goauth does not read ours back: %s", name, c)
		}
	}
}
