package safename

import (
	"errors"
	"strings"
	"testing"
)

// azure keeps lower-case letters and digits only: Key Vault compares
// names without regard to case and allows no other byte but '-'.
var azure = Mapping{Keep: func(b byte) bool { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' }, Escape: '-', LowerHex: true, MaxLen: 127}

var aws = Mapping{Keep: func(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("/_+=.", b) >= 0
}, Escape: '@', MaxLen: 512}

func TestRoundTripAndDistinct(t *testing.T) {
	names := []string{"", "a", "A", "credentials/GitHub Bot", "tokens/a-b", "tokens/a@b", "ünï/ß", "a%2Fb", "-", "@", "x-2d", "x@2D", strings.Repeat("z", 40)}
	for _, m := range []Mapping{azure, aws} {
		seen := map[string]string{}
		for _, n := range names {
			enc, err := m.Encode(n)
			if err != nil {
				t.Fatalf("Encode(%q): %v", n, err)
			}
			for i := 0; i < len(enc); i++ {
				if enc[i] != m.Escape && !m.Keep(enc[i]) {
					t.Fatalf("Encode(%q) = %q holds %q", n, enc, enc[i])
				}
			}
			key := enc
			if m.LowerHex {
				key = strings.ToLower(enc) // compared without case
			}
			if prev, dup := seen[key]; dup {
				t.Fatalf("%q and %q both encode to %q", prev, n, enc)
			}
			seen[key] = n
			dec, err := m.Decode(enc)
			if err != nil || dec != n {
				t.Fatalf("Decode(Encode(%q)) = %q, %v", n, dec, err)
			}
		}
	}
}

func TestAzureCaseInsensitiveNamesStayApart(t *testing.T) {
	a, _ := azure.Encode("GitHub")
	b, _ := azure.Encode("github")
	if strings.EqualFold(a, b) {
		t.Fatalf("GitHub and github collide as %q and %q", a, b)
	}
}

func TestDecodeRefusesForeignNames(t *testing.T) {
	for _, bad := range []string{"A", "x-", "x-4", "x-zz", "x-61"} { // upper case; truncated; not hex; escaped kept byte
		if _, err := azure.Decode(bad); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

func TestMaxLen(t *testing.T) {
	if _, err := azure.Encode(strings.Repeat("a", 127)); err != nil {
		t.Fatal(err)
	}
	if _, err := azure.Encode(strings.Repeat("a", 126) + "/"); !errors.Is(err, ErrTooLong) {
		t.Fatalf("129 encoded bytes: %v, want ErrTooLong", err)
	}
}
