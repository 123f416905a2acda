package driver_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"https://api.example.com/v1":         "https://api.example.com/v1",
		"https://u:SECRET@host/p":            "https://u:xxxxx@host/p",
		"https://host/p?key=SECRET&a=SECRET": "https://host/p?a=xxxxx&key=xxxxx",
		"://bad SECRET":                      "[unparsable URL]",
	} {
		got := driver.RedactURL(in)
		if got != want || strings.Contains(got, "SECRET") {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// apiKey holds a secret; FormatRedacted keeps every fmt verb off it.
type apiKey struct{ key string }

func (k apiKey) Format(f fmt.State, verb rune) { driver.FormatRedacted(f, verb, "apiKey{[REDACTED]}") }

func ExampleFormatRedacted() {
	k := apiKey{key: "s3cr3t"}
	fmt.Printf("%v %+v %#v %q\n", k, k, k, k)
	// Output: apiKey{[REDACTED]} apiKey{[REDACTED]} apiKey{[REDACTED]} "apiKey{[REDACTED]}"
}

func ExampleCheckName() {
	fmt.Println(driver.CheckName("github/bot") == nil, errors.Is(driver.CheckName(""), core.ErrInvalidCredentials))
	// Output: true true
}
