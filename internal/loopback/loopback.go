// Package loopback holds the one rule by which omnitoken lets a secret
// travel over plain http: only to this machine's loopback interface. The
// engine's Transport, the token endpoint checks of the strategies and the
// address checks of the vault backends all apply it.
package loopback

import (
	"net/netip"
	"strings"
)

// Host reports whether host, a URL's Hostname(), names this machine's
// loopback interface: "localhost" (in any case), an address in
// 127.0.0.0/8, or ::1 (IPv4-mapped and zoned forms included). Other names
// are not resolved: a name that a resolver maps to 127.0.0.1 could map
// elsewhere tomorrow.
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
