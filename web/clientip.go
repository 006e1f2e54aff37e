package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// clientIP returns echo's IP extractor for the configured proxies.
//
// With no trusted proxy the client is the peer address. Otherwise a request
// from a trusted proxy has its X-Forwarded-For read from the right, skipping
// the trusted proxies' own hops, and the first address that is not one of
// them is the client: everything to its left was written by the client and
// proves nothing. A request from any other peer is taken at its address,
// whatever headers it carries.
//
// This closes GO-2026-6872 (echo's X-Forwarded-For extraction, which by
// default trusts any private or loopback hop) in this code: echo's extractor
// is not used, and echo has no fixed release yet.
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		peer, err := netip.ParseAddr(host)
		if err != nil {
			return host
		}
		peer = peer.Unmap()
		if len(trusted) == 0 || !isTrusted(peer) {
			return peer.String()
		}
		var hops []string
		for _, h := range r.Header.Values(echo.HeaderXForwardedFor) {
			hops = append(hops, strings.Split(h, ",")...)
		}
		client := peer
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				// Garbage in the chain: believe nothing left of it.
				return client.String()
			}
			client = a.Unmap()
			if !isTrusted(client) {
				return client.String()
			}
		}
		return client.String()
	}
}
