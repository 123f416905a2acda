package driver_test

import (
	"strings"
	"testing"

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
