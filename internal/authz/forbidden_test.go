package authz

import "testing"

func TestForbidden(t *testing.T) {
	u := User{Name: "x"}
	cases := []struct {
		a      Attributes
		reason string
		want   string
	}{
		{Attributes{User: u, Verb: "list", ResourceRequest: true, Resource: "services", Namespace: "y"}, "",
			`services is forbidden: User "x" cannot list resource "services" in API group "" in the namespace "y"`},
		{Attributes{User: u, Verb: "get", ResourceRequest: true, Resource: "pods", Subresource: "log", Name: "p", Namespace: "d"}, "",
			`pods "p" is forbidden: User "x" cannot get resource "pods/log" in API group "" in the namespace "d"`},
		{Attributes{User: u, Verb: "list", ResourceRequest: true, APIGroup: "apps", Resource: "deployments"}, "",
			`deployments.apps is forbidden: User "x" cannot list resource "deployments" in API group "apps" at the cluster scope`},
		{Attributes{User: u, Verb: "get", Path: "/foo"}, "",
			`forbidden: User "x" cannot get path "/foo"`},
		{Attributes{User: User{Name: "system:node:a"}, Verb: "get", ResourceRequest: true, Resource: "secrets", Name: "s", Namespace: "d"},
			"no relationship found between node 'a' and this object",
			`secrets "s" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "d": no relationship found between node 'a' and this object`},
	}
	for _, tc := range cases {
		if got := Forbidden(tc.a, tc.reason).Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
