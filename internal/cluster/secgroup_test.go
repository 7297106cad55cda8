package cluster

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIngressRulesLeastPrivilege(t *testing.T) {
	rules := ingressRules(
		[]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("192.0.2.7/24")},
		[]netip.Prefix{netip.MustParsePrefix("198.51.100.4/32")},
	)
	var got []string
	for _, r := range rules {
		got = append(got, r.String())
	}
	want := []string{
		"tcp/3306 from members", "tcp/4444 from members", "tcp/4567 from members", "tcp/4568 from members",
		"tcp/3306 from 192.0.2.0/24", "tcp/22 from 198.51.100.4/32",
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("rules:\n got %v\nwant %v", got, want)
	}
	for _, r := range rules {
		if r.Port != portMySQL && r.Port != portSSH && !r.RemoteGroup {
			t.Errorf("replication port open to a CIDR: %s", r)
		}
	}
}
