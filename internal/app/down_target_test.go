package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/clusterdir"
)

func TestChooseTarget(t *testing.T) {
	blue := &clusterdir.Record{Name: "blue", Sandbox: true}
	two := map[string]string{"blue": "/d/blue", "green": ""}
	cases := []struct {
		name string
		in   downInput
		want string // "name dir named", "none", or "error: <text>"
	}{
		{"the data directory's cluster, not the default", downInput{DataDir: "/d/blue", Record: blue, Clusters: two}, "blue /d/blue true"},
		{"a joined node's data directory: that node", downInput{DataDir: "/d/j", Record: &clusterdir.Record{Name: "blue", Node: "n2"}, Clusters: two}, "blue /d/j true n2"},
		{"data directory and the same name", downInput{DataDir: "/d/blue", Sandbox: "blue", Record: blue}, "blue /d/blue true"},
		{"data directory and another name", downInput{DataDir: "/d/blue", Sandbox: "green", Record: blue}, "error: belongs to cluster"},
		{"an old data directory with a name", downInput{DataDir: "/d/old", Sandbox: "old"}, "old /d/old true"},
		{"an old data directory alone", downInput{DataDir: "/d/old", Clusters: two}, "error: records no cluster"},
		{"a name: its registered data directory", downInput{Sandbox: "blue", Clusters: two}, "blue /d/blue false"},
		{"a name nobody registered", downInput{Sandbox: "red", Clusters: two}, "red  false"},
		{"nothing named, one cluster", downInput{Clusters: map[string]string{"green": "/d/g"}}, "green /d/g false"},
		{"nothing named, two clusters", downInput{Clusters: two}, "error: several clusters"},
		{"nothing named, nothing there", downInput{}, "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, ok, err := chooseTarget(tc.in)
			got := "none"
			switch {
			case err != nil:
				got = "error: " + err.Error()
			case ok:
				got = strings.Join([]string{tg.Name, tg.DataDir, map[bool]string{true: "true", false: "false"}[tg.NamedDir]}, " ")
				if tg.Node != "" {
					got += " " + tg.Node
				}
			}
			if got != tc.want && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: "))) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, _, err := chooseTarget(downInput{Clusters: two}); !errors.Is(err, errChooseCluster) {
		t.Errorf("two clusters: %v", err)
	}
}

func TestClusterOfNetns(t *testing.T) {
	cases := map[string]string{
		"sp-blue-node-blue":                "blue",
		"sp-e2e1-2-pod-default-web-1a2b3c": "e2e1-2",
		"sp-a-pod-x-node-y-0011":           "a",
		"sp-lonely":                        "",
		"other-node-x":                     "",
	}
	for in, want := range cases {
		if got := clusterOfNetns(in); got != want {
			t.Errorf("clusterOfNetns(%q) = %q, want %q", in, got, want)
		}
	}
}
