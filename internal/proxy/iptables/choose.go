package iptables

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// The iptables backends (--iptables-backend).
const (
	BackendLegacy = "legacy"
	BackendNFT    = "nft"
	BackendAuto   = "auto"
)

// tools are the binary names of one backend for one family.
type tools struct {
	iptables, save, restore string
}

func toolsFor(family corev1.IPFamily, backend string) tools {
	base := "iptables"
	if family == corev1.IPv6Protocol {
		base = "ip6tables"
	}
	b := base + "-" + backend
	return tools{iptables: b, save: b + "-save", restore: b + "-restore"}
}

// Choice is the backend a Backend uses, and why.
type Choice struct {
	// Backend is BackendLegacy or BackendNFT.
	Backend string
	// Reason says why, for the log ("asked for", "holds 12 KUBE-* rules",
	// "no rules anywhere; the kernel has legacy iptables").
	Reason string
}

// choose picks the backend: the one asked for, or (auto) the one that
// already holds rules on the node, else legacy where the kernel has it,
// else nft.
func choose(ctx context.Context, ex Exec, family corev1.IPFamily, want string) (Choice, error) {
	switch want {
	case BackendLegacy, BackendNFT:
		if !works(ctx, ex, toolsFor(family, want)) {
			return Choice{}, fmt.Errorf("iptables backend %s: %w", want, proxy.ErrUnavailable)
		}
		return Choice{Backend: want, Reason: "asked for"}, nil
	case BackendAuto, "":
	default:
		return Choice{}, fmt.Errorf("iptables backend %q: want legacy, nft or auto", want)
	}
	legacy, nft := holdings(ctx, ex, toolsFor(family, BackendLegacy)), holdings(ctx, ex, toolsFor(family, BackendNFT))
	switch {
	case legacy.kube > nft.kube:
		return Choice{BackendLegacy, fmt.Sprintf("legacy holds %d KUBE-* lines, nft %d", legacy.kube, nft.kube)}, nil
	case nft.kube > legacy.kube:
		return Choice{BackendNFT, fmt.Sprintf("nft holds %d KUBE-* lines, legacy %d", nft.kube, legacy.kube)}, nil
	case legacy.rules > nft.rules:
		return Choice{BackendLegacy, fmt.Sprintf("legacy holds %d rules, nft %d", legacy.rules, nft.rules)}, nil
	case nft.rules > legacy.rules:
		return Choice{BackendNFT, fmt.Sprintf("nft holds %d rules, legacy %d", nft.rules, legacy.rules)}, nil
	}
	if works(ctx, ex, toolsFor(family, BackendLegacy)) {
		return Choice{BackendLegacy, "no rules in either backend; the kernel has legacy iptables"}, nil
	}
	if works(ctx, ex, toolsFor(family, BackendNFT)) {
		return Choice{BackendNFT, "no rules in either backend; the kernel lacks legacy iptables"}, nil
	}
	return Choice{}, fmt.Errorf("neither legacy nor nft iptables works: %w", proxy.ErrUnavailable)
}

// works says whether the backend's nat table can be read (the kernel has
// its modules and the tool is installed).
func works(ctx context.Context, ex Exec, t tools) bool {
	_, err := ex.Run(ctx, t.iptables, []string{"-w", "5", "-t", "nat", "-S", "POSTROUTING"}, nil)
	return err == nil
}

type holding struct{ kube, rules int }

// holdings counts the KUBE-* lines and the rules a backend holds.
func holdings(ctx context.Context, ex Exec, t tools) holding {
	out, err := ex.Run(ctx, t.save, nil, nil)
	if err != nil {
		return holding{}
	}
	var h holding
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("-A ")) {
			h.rules++
		}
		if len(line) > 0 && (line[0] == ':' || line[0] == '-') && bytes.Contains(line, []byte("KUBE-")) {
			h.kube++
		}
	}
	return h
}

var versionRE = regexp.MustCompile(`v(\d+)\.(\d+)\.(\d+)`)

// randomFully says whether the tool supports MASQUERADE --random-fully
// (iptables 1.6.2 and later), as kube-proxy decides.
func randomFully(ctx context.Context, ex Exec, t tools) bool {
	out, err := ex.Run(ctx, t.iptables, []string{"--version"}, nil)
	if err != nil {
		return false
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return false
	}
	v := [3]int{}
	for i := range v {
		v[i], _ = strconv.Atoi(string(m[i+1]))
	}
	return v[0] > 1 || (v[0] == 1 && (v[1] > 6 || (v[1] == 6 && v[2] >= 2)))
}
