package authn

import (
	"context"
	"slices"
	"testing"
)

func TestWithAuthenticatedGroup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []string
		want   []string
	}{
		{"none", nil, []string{AuthenticatedGroup}},
		{"added last", []string{"system:masters"}, []string{"system:masters", AuthenticatedGroup}},
		{"kept once", []string{AuthenticatedGroup, "a"}, []string{AuthenticatedGroup, "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := User{Name: "u", Groups: tc.groups}
			got := in.WithAuthenticatedGroup()
			if !slices.Equal(got.Groups, tc.want) {
				t.Fatalf("groups %q, want %q", got.Groups, tc.want)
			}
			if len(tc.groups) > 0 && len(in.Groups) != len(tc.groups) {
				t.Fatalf("input changed: %q", in.Groups)
			}
		})
	}
}

func TestUserInContext(t *testing.T) {
	if _, ok := UserFrom(context.Background()); ok {
		t.Fatal("user in an empty context")
	}
	u, ok := UserFrom(WithUser(context.Background(), User{Name: "x"}))
	if !ok || u.Name != "x" {
		t.Fatalf("got %+v %v", u, ok)
	}
}
