package shellquote

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"github":          "github",
		"team/api-v2.1":   "team/api-v2.1",
		"":                "''",
		"my app":          "'my app'",
		"it's":            `'it'\''s'`,
		"$(rm -rf /)":     "'$(rm -rf /)'",
		"a;b|c&d`e`*?~!#": "'a;b|c&d`e`*?~!#'",
		"line\nbreak":     "'line\nbreak'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

// A quoted word reaches a real shell's command as the string it was.
func TestQuoteRoundTripsThroughSh(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"plain", "my app", "it's", "$(echo no)", "a\"b'c\\d", "tab\there", "*"} {
		out, err := exec.Command(sh, "-c", "printf '%s' "+Quote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("sh -c printf %s = %q, %v; want %q", Quote(in), out, err, in)
		}
	}
}
