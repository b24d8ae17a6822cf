// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"net"
	"net/netip"
	"strings"
)

// The standard environment: https_proxy for https URLs, http_proxy for
// http ones (lower case first, then upper case), and no_proxy naming the
// hosts reached directly. Loopback addresses are not exempt by
// themselves, as with curl: list them in no_proxy.

// FromEnv is the proxy the environment (getenv) names for a HEC URL of
// scheme and host, nil when there is none or no_proxy exempts the host.
func FromEnv(getenv func(string) string, scheme, host, port string) (*Proxy, error) {
	var names []string
	if scheme == "https" {
		names = []string{"https_proxy", "HTTPS_PROXY"}
	} else {
		names = []string{"http_proxy", "HTTP_PROXY"}
	}
	for _, name := range names {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		noProxy := getenv("no_proxy")
		if noProxy == "" {
			noProxy = getenv("NO_PROXY")
		}
		if Exempt(noProxy, host, port) {
			return nil, nil
		}
		return Parse(v, "environment variable "+name)
	}
	return nil, nil
}

// Exempt reports whether no_proxy's list (comma or space separated) names
// host: "*" names every host; a name names itself and its subdomains (a
// leading dot is allowed); an address or a CIDR block names the addresses
// in it; any entry may end in :port to name only that port.
func Exempt(noProxy, host, port string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	addr, aerr := netip.ParseAddr(host)
	isAddr := aerr == nil
	for _, e := range strings.FieldsFunc(noProxy, func(r rune) bool { return r == ',' || r == ' ' }) {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "*" {
			return true
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if p != port {
				continue
			}
			e = h
		}
		e = strings.Trim(e, "[]")
		if pfx, err := netip.ParsePrefix(e); err == nil {
			if isAddr && pfx.Contains(addr) {
				return true
			}
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil {
			if isAddr && a == addr {
				return true
			}
			continue
		}
		e = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(e, "*"), "."), ".")
		if e != "" && !isAddr && (host == e || strings.HasSuffix(host, "."+e)) {
			return true
		}
	}
	return false
}
