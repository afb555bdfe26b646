package webhook

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeDNS answers lookups from a table, as a zone under the test's control would.
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

var dns = fakeDNS{
	"hooks.example.com":    {"81.2.69.160", "2a00:1450:4009:81f::200e"},
	"rebind.example.com":   {"81.2.69.160", "10.0.0.5"},
	"mapped.example.com":   {"::ffff:127.0.0.1"},
	"cgnat.example.com":    {"100.100.100.200"},
	"nat64.example.com":    {"64:ff9b::a00:1"},
	"localhost":            {"127.0.0.1", "::1"},
	"loopback.example.com": {"127.0.0.1"},
}

func TestGuardRefusesAddressesOutsideThePublicInternet(t *testing.T) {
	t.Parallel()
	refused := []string{
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.254",
		"169.254.169.254", "169.254.0.1", "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1",
		"198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "64:ff9b::a00:1", "100::1",
		"2001::1", "2001:db8::1", "2002:a00:1::1", "fc00::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1",
	}
	for _, a := range refused {
		require.ErrorIs(t, Guard{}.CheckAddr(netip.MustParseAddr(a)), ErrURL, a)
	}
	allowed := []string{"81.2.69.160", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255",
		"198.17.255.255", "223.255.255.255", "2a00:1450:4009:81f::200e", "2606:4700:4700::1111", "::ffff:81.2.69.160"}
	for _, a := range allowed {
		require.NoError(t, Guard{}.CheckAddr(netip.MustParseAddr(a)), a)
	}

	loop := Guard{AllowLoopback: true}
	require.NoError(t, loop.CheckAddr(netip.MustParseAddr("127.0.0.1")))
	require.NoError(t, loop.CheckAddr(netip.MustParseAddr("::1")))
	require.NoError(t, loop.CheckAddr(netip.MustParseAddr("::ffff:127.0.0.1")))
	require.ErrorIs(t, loop.CheckAddr(netip.MustParseAddr("10.0.0.1")), ErrURL, "the test option allows loopback, nothing else")
	require.ErrorIs(t, loop.CheckAddr(netip.MustParseAddr("169.254.169.254")), ErrURL)
}

func TestGuardChecksWebhookURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url          string
		loopbackTest bool // Guard.AllowLoopback
		ok           bool
	}{
		{"https://hooks.example.com/pbudget", false, true},
		{"https://hooks.example.com:8443/pbudget?tenant=1", false, true},
		{"https://HOOKS.example.com./pbudget", false, true},
		{"https://81.2.69.160/hook", false, true},
		{"http://hooks.example.com/pbudget", false, false},
		{"http://hooks.example.com/pbudget", true, false}, // http only to loopback, even in tests
		{"ftp://hooks.example.com/", false, false},
		{"https://user:secret@hooks.example.com/", false, false},
		{"https://rebind.example.com/", false, false}, // one of its addresses is private
		{"https://mapped.example.com/", false, false},
		{"https://cgnat.example.com/", false, false},
		{"https://nat64.example.com/", false, false},
		{"https://unknown.example.com/", false, false},
		{"https://10.0.0.1/", false, false},
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"https://[::ffff:169.254.169.254]/", false, false},
		{"https://[::1]:8080/", false, false},
		{"https://[fd00:ec2::254]/", false, false},
		{"https://[fe80::1%25eth0]/", false, false},
		{"https://2130706433/", false, false},
		{"https://0x7f.1/", false, false},
		{"https://127.1/", false, false},
		{"https://017700000001/", false, false},
		{"https://localhost/", false, false},
		{"https://api.localhost/", false, false},
		{"https://metadata.google.internal/", false, false},
		{"https://metadata/", false, false},
		{"https://printer.local/", false, false},
		{"https://intranet/", false, false},
		{"https://router.home.arpa/", false, false},
		{"hooks.example.com/pbudget", false, false},
		{"https:///pbudget", false, false},
		{"http://127.0.0.1:8080/hook", false, false},
		{"http://127.0.0.1:8080/hook", true, true},
		{"http://[::1]:8080/hook", true, true},
		{"http://localhost:8080/hook", true, true},
		{"http://loopback.example.com:8080/hook", true, true},
		{"http://10.0.0.1/hook", true, false},
	}
	for _, tt := range tests {
		g := Guard{AllowLoopback: tt.loopbackTest, Resolver: dns}
		_, err := g.CheckURL(context.Background(), tt.url)
		if tt.ok {
			require.NoError(t, err, tt.url)
		} else {
			require.ErrorIs(t, err, ErrURL, tt.url)
			require.True(t, IsRefused(err))
		}
	}
}

func TestGuardControlRefusesAtConnectTime(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, Guard{}.Control("tcp", "127.0.0.1:443", nil), ErrURL)
	require.ErrorIs(t, Guard{}.Control("tcp6", "[fd00::1]:443", nil), ErrURL)
	require.NoError(t, Guard{}.Control("tcp", "81.2.69.160:443", nil))
	require.NoError(t, Guard{AllowLoopback: true}.Control("tcp", "127.0.0.1:8080", nil))
	require.Error(t, Guard{}.Control("tcp", "not an address", nil))
}
