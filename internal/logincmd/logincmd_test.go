package logincmd

import "testing"

func TestFor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		device bool
		want   string
	}{
		{"github", false, "omnitoken login github"},
		{"tv", true, "omnitoken login tv --device"},
		{"my app", false, "omnitoken login 'my app'"},
		{"-me", false, "omnitoken login -- -me"},
		{"-tv", true, "omnitoken login --device -- -tv"},
		{"--help", false, "omnitoken login -- --help"},
	} {
		if got := For(tc.name, tc.device); got != tc.want {
			t.Errorf("For(%q, %v) = %q, want %q", tc.name, tc.device, got, tc.want)
		}
	}
}
