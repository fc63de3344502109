package dnsserver

import (
	"strings"
	"testing"
)

func TestParseFlagsRefusesBadValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ttl", "0"}, "--ttl 0: must be 1 to 3600"},
		{[]string{"--recursion-from", "10.0.0.0/33"}, `--recursion-from "10.0.0.0/33"`},
		{[]string{"--stub-domain", "corp.example"}, "want zone=server[,server]"},
		{[]string{"--pods", "sometimes"}, "sometimes"},
		{[]string{"--log-level", "loud"}, `--log-level "loud"`},
	} {
		_, err := parseFlags("svcplane-dns", c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
