package iptablestest

import (
	"context"
	"strings"
	"testing"
)

func TestRestore(t *testing.T) {
	cases := []struct {
		name    string
		restore []string
		wantErr bool
		want    []string // lines the nat save must hold
		notWant []string
	}{{
		name: "noflush keeps undeclared chains",
		restore: []string{
			"*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j MASQUERADE\nCOMMIT\n",
			"*nat\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n",
		},
		want: []string{"-A A -j RETURN", "-A B -j MASQUERADE"},
	}, {
		name:    "deleting a referenced chain fails",
		restore: []string{"*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\nCOMMIT\n", "*nat\n:B - [0:0]\n-X B\nCOMMIT\n"},
		wantErr: true,
		want:    []string{"-A A -j B"},
	}, {
		name:    "a jump to a missing chain fails",
		restore: []string{"*nat\n:A - [0:0]\n-A A -j KUBE-NOPE\nCOMMIT\n"},
		wantErr: true,
		notWant: []string{":A "},
	}, {
		name:    "declare then delete",
		restore: []string{"*nat\n:A - [0:0]\n-A A -m comment --comment \"a b\" -j RETURN\nCOMMIT\n", "*nat\n:A - [0:0]\n-X A\nCOMMIT\n"},
		notWant: []string{":A "},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := NewFake()
			ctx := context.Background()
			var err error
			for _, r := range c.restore {
				_, err = f.Run(ctx, "iptables-legacy-restore", []string{"--noflush"}, []byte(r))
			}
			if (err != nil) != c.wantErr {
				t.Errorf("err %v, want error %v", err, c.wantErr)
			}
			save := f.Save("legacy/4")
			for _, w := range c.want {
				if !strings.Contains(save, w+"\n") {
					t.Errorf("missing %q in\n%s", w, save)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(save, w) {
					t.Errorf("unexpected %q in\n%s", w, save)
				}
			}
		})
	}
}

func TestCommands(t *testing.T) {
	f := NewFake()
	ctx := context.Background()
	run := func(args ...string) error {
		_, err := f.Run(ctx, "iptables-nft", args, nil)
		return err
	}
	if err := run("-w", "5", "-t", "nat", "-N", "KUBE-SERVICES"); err != nil {
		t.Fatal(err)
	}
	if err := run("-t", "nat", "-N", "KUBE-SERVICES"); err == nil || err.(*ExitError).Code != 1 {
		t.Errorf("second -N: %v, want exit 1", err)
	}
	rule := []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}
	if err := run(append([]string{"-t", "nat", "-C", "PREROUTING"}, rule...)...); err == nil {
		t.Error("-C found a missing rule")
	}
	if err := run(append([]string{"-t", "nat", "-I", "PREROUTING"}, rule...)...); err != nil {
		t.Fatal(err)
	}
	if err := run(append([]string{"-t", "nat", "-C", "PREROUTING"}, rule...)...); err != nil {
		t.Errorf("-C after -I: %v", err)
	}
	if err := run("-t", "mangle", "-S", "KUBE-PROXY-CANARY"); err == nil {
		t.Error("-S of a missing chain succeeded")
	}
	want := `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`
	if save := f.Save("nft/4"); !strings.Contains(save, want) {
		t.Errorf("missing %s in\n%s", want, save)
	}
}
