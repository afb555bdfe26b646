package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/pbudget/pbudget/internal/apperr"
)

// ErrURL is a webhook URL the guard refuses; its message names the rule.
var ErrURL = apperr.New(apperr.RuleViolation, "webhook-url-not-allowed",
	"webhook URLs are https:// URLs of hosts on the public internet")

// Resolver looks up a host's addresses (net.DefaultResolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard keeps webhook deliveries away from the service's own networks (server-side request
// forgery): it refuses URLs that are not https, and addresses that are not on the public
// internet. It is used twice: CheckURL when a subscription is made and before each delivery, and
// Control at connect time, which checks the address actually dialled, so a name that resolves to
// a public address when checked and to an internal one a moment later (DNS rebinding) is refused.
type Guard struct {
	// AllowLoopback permits loopback addresses (127.0.0.0/8, ::1), and http:// to them: for tests,
	// whose receivers listen on loopback. Never set in production.
	AllowLoopback bool
	// Resolver resolves hosts; nil uses net.DefaultResolver.
	Resolver Resolver
}

// forbidden are the ranges that are not the public internet, with the reason a refusal names.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are unmapped and checked as IPv4 first.
var forbidden = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (this-network) address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared carrier-grade NAT address (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (cloud metadata services live here)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a 6to4 relay address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address, which reaches IPv4 addresses"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address, which reaches IPv4 addresses"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address, which reaches IPv4 addresses"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address, which reaches IPv4 addresses"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local address (RFC 4193; cloud metadata services live here too)"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// internalNames are host names that only ever mean this network or its cloud.
var internalNames = []string{"localhost", "metadata", "metadata.google.internal", "instance-data"}
var internalSuffixes = []string{".localhost", ".local", ".internal", ".home.arpa", ".localdomain"}

// CheckAddr returns nil when a may be dialled, else ErrURL naming why not.
func (g Guard) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	if a.Zone() != "" {
		return ErrURL.WithMessage("%s: %s has a zone: a link-local address", ErrURL.Message, a)
	}
	for _, f := range forbidden {
		if f.prefix.Contains(a) {
			if g.AllowLoopback && a.IsLoopback() {
				return nil
			}
			return ErrURL.WithMessage("%s: %s is %s", ErrURL.Message, a, f.why)
		}
	}
	return nil
}

// CheckURL parses a webhook URL and checks it: https (http only to loopback when AllowLoopback),
// no credentials, a host that is a public IP address or a public name all of whose addresses are
// public. It returns the parsed URL.
func (g Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, ErrURL.WithMessage("%s: the URL is longer than 2048 characters", ErrURL.Message)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, ErrURL.WithMessage("%s: %q is not an absolute URL", ErrURL.Message, raw)
	}
	if u.Scheme != "https" && !(g.AllowLoopback && u.Scheme == "http") {
		return nil, ErrURL.WithMessage("%s: the scheme is %q", ErrURL.Message, u.Scheme)
	}
	if u.User != nil {
		return nil, ErrURL.WithMessage("%s: the URL carries credentials; authenticate with the signature instead", ErrURL.Message)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			return nil, err
		}
		if u.Scheme == "http" && !a.Unmap().IsLoopback() {
			return nil, ErrURL.WithMessage("%s: http is allowed only to loopback, in tests", ErrURL.Message)
		}
	}
	return u, nil
}

func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if looksNumeric(host) {
		// "2130706433", "0x7f.1", "127.1": resolvers read these as addresses in ways that differ.
		return nil, ErrURL.WithMessage("%s: %q is a numeric host that is not a dotted IPv4 address", ErrURL.Message, host)
	}
	if !(g.AllowLoopback && host == "localhost") {
		for _, n := range internalNames {
			if host == n {
				return nil, ErrURL.WithMessage("%s: %q names this network", ErrURL.Message, host)
			}
		}
		for _, s := range internalSuffixes {
			if strings.HasSuffix(host, s) {
				return nil, ErrURL.WithMessage("%s: %q is in an internal domain (%s)", ErrURL.Message, host, s)
			}
		}
		if !strings.Contains(host, ".") {
			// A single label resolves through the server's search domains, to internal hosts.
			return nil, ErrURL.WithMessage("%s: %q is not a fully qualified name", ErrURL.Message, host)
		}
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, ErrURL.WithMessage("%s: %q does not resolve", ErrURL.Message, host).Wrap(err)
	}
	return addrs, nil
}

// looksNumeric reports whether the last label of host is a number (decimal, octal or hex): no
// top-level domain is, so such a host is an address in an unusual notation.
func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		return true
	}
	return strings.Trim(last, "0123456789") == ""
}

// Control is a net.Dialer Control hook: it refuses to connect to an address CheckAddr refuses,
// whatever name led there.
func (g Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: dialling %q: %w", address, err)
	}
	return g.CheckAddr(ap.Addr())
}

// IsRefused reports whether err (from a delivery) is the guard's refusal.
func IsRefused(err error) bool { return errors.Is(err, ErrURL) }
