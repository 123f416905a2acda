package loopback

import "testing"

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.8.9.10": true,
		"::1": true, "::ffff:127.0.0.1": true, "fe80::1%lo": false, "::1%lo": true,
		"": false, "example.com": false, "localhost.example.com": false, "127.0.0.1.nip.io": false,
		"128.0.0.1": false, "0.0.0.0": false, "10.0.0.1": false, "::": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}
