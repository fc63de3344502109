package forward

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseKubeDNSConfigMap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      map[string]string
		stubs     map[string][]string
		upstreams []string
		errKey    string // the key the error must name; "" for no error
	}{
		{name: "empty", data: nil},
		{name: "blank values", data: map[string]string{"stubDomains": " \n", "upstreamNameservers": ""}},
		{
			name: "kubernetes docs example",
			data: map[string]string{
				"stubDomains":         `{"acme.local": ["1.2.3.4"]}`,
				"upstreamNameservers": `["8.8.8.8", "8.8.4.4"]`,
			},
			stubs:     map[string][]string{"acme.local": {"1.2.3.4"}},
			upstreams: []string{"8.8.8.8", "8.8.4.4"},
		},
		{
			name:  "ports and IPv6",
			data:  map[string]string{"stubDomains": `{"corp.example.": ["10.0.0.1:5353", "2001:db8::1", "[2001:db8::2]:53"]}`},
			stubs: map[string][]string{"corp.example.": {"10.0.0.1:5353", "2001:db8::1", "[2001:db8::2]:53"}},
		},
		{name: "stubDomains not JSON", data: map[string]string{"stubDomains": `acme.local: 1.2.3.4`}, errKey: "stubDomains"},
		{name: "stubDomains a list", data: map[string]string{"stubDomains": `["1.2.3.4"]`}, errKey: "stubDomains"},
		{name: "bad domain", data: map[string]string{"stubDomains": `{"acme_local": ["1.2.3.4"]}`}, errKey: "stubDomains"},
		{name: "host name server", data: map[string]string{"stubDomains": `{"acme.local": ["ns.acme.local"]}`}, errKey: "stubDomains"},
		{name: "no servers", data: map[string]string{"stubDomains": `{"acme.local": []}`}, errKey: "stubDomains"},
		{name: "bad port", data: map[string]string{"upstreamNameservers": `["8.8.8.8:0"]`}, errKey: "upstreamNameservers"},
		{name: "upstream not JSON", data: map[string]string{"upstreamNameservers": `8.8.8.8`}, errKey: "upstreamNameservers"},
		{name: "four upstreams", data: map[string]string{"upstreamNameservers": `["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]`}, errKey: "upstreamNameservers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stubs, upstreams, err := ParseKubeDNSConfigMap(tc.data)
			if tc.errKey != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.errKey+":") {
					t.Fatalf("error %v, want one naming %s", err, tc.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stubs, tc.stubs) || !reflect.DeepEqual(upstreams, tc.upstreams) {
				t.Errorf("got %v, %v; want %v, %v", stubs, upstreams, tc.stubs, tc.upstreams)
			}
		})
	}
}
