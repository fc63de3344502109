package app

import (
	"testing"

	"github.com/svcplane/svcplane/internal/proxy"
)

// After a switch to nftables the iptables tables keep only their built-in
// chains: `svcplane proxy rules` must not print them as iptables rules.
func TestHoldsProxyRules(t *testing.T) {
	builtins := "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n"
	for _, c := range []struct {
		mode proxy.Mode
		text string
		want bool
	}{
		{proxy.ModeIPTables, builtins, false},
		{proxy.ModeIPTables, builtins + ":KUBE-SERVICES - [0:0]\n", true},
		{proxy.ModeNFTables, "table ip svcplane {\n}\n", true},
		{proxy.ModeNFTables, " \n", false},
	} {
		if got := holdsProxyRules(c.mode, c.text); got != c.want {
			t.Errorf("%s %q: %v, want %v", c.mode, c.text, got, c.want)
		}
	}
}
