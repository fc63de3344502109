package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/ipvs"
	"github.com/svcplane/svcplane/internal/proxy/nftables"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// TraceConfig configures `svcplane trace`.
type TraceConfig struct {
	Client kubernetes.Interface
	// From is pod/<name> or node/<name>; To is svc/<name> (or a bare
	// name, or <name>.<namespace> as in DNS), or <ip>:<port>.
	From, To  string
	Namespace string
	// Port picks a Service's port by number or name (default its first).
	Port     string
	Protocol corev1.Protocol
	// NetnsDir is where sandboxed nodes' namespaces are mounted.
	NetnsDir string
	Out      io.Writer
}

// traceEnds is what a trace runs between.
type traceEnds struct {
	node    *corev1.Node
	from    string // how the source is named in the output
	src     netip.Addr
	dst     netip.Addr
	port    int32
	proto   corev1.Protocol
	service string
}

// RunTrace prints the ways a new connection from a pod or node to a
// Service or address takes through the rules the source's node holds in
// its kernel (read back with iptables-save and nft), with each way's
// chance and whether it is masqueraded.
func RunTrace(ctx context.Context, cfg TraceConfig) error {
	if cfg.Namespace == "" {
		cfg.Namespace = metav1.NamespaceDefault
	}
	ends, err := resolveTrace(ctx, cfg)
	if err != nil {
		return err
	}
	nodeIPs := nodeAddrs(ends.node)
	explainers, err := readNodeRules(ends.node.Name, cfg.NetnsDir, familyOf(ends.dst), nodeIPs)
	if err != nil {
		return err
	}
	to := netip.AddrPortFrom(ends.dst, uint16(ends.port)).String() + "/" + string(ends.proto)
	if ends.service != "" {
		to += " (" + ends.service + ")"
	}
	fmt.Fprintf(cfg.Out, "From %s (%s, on node %s) to %s\n", ends.from, ends.src, ends.node.Name, to)
	if len(explainers) == 0 {
		fmt.Fprintf(cfg.Out, "Node %s holds no iptables or nftables proxy rules (userspace mode, or no proxy): the kernel does not rewrite the packet.\n", ends.node.Name)
		return nil
	}
	pkt := tracer.Packet{Protocol: ends.proto, Src: ends.src, Dst: ends.dst, Port: ends.port}
	for _, e := range explainers {
		printPaths(cfg.Out, e.what, e.tr.Explain(pkt))
	}
	return nil
}

// resolveTrace finds the source's address and node, and the destination.
func resolveTrace(ctx context.Context, cfg TraceConfig) (*traceEnds, error) {
	kind, name, ok := strings.Cut(cfg.From, "/")
	if !ok || name == "" {
		return nil, fmt.Errorf("--from %q: want pod/<name> or node/<name>", cfg.From)
	}
	ends := &traceEnds{proto: cfg.Protocol}
	switch kind {
	case "pod", "pods", "po":
		pod, err := cfg.Client.CoreV1().Pods(cfg.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if pod.Spec.NodeName == "" || pod.Status.PodIP == "" {
			return nil, fmt.Errorf("pod %s/%s has no node or address yet", pod.Namespace, pod.Name)
		}
		if ends.src, err = netip.ParseAddr(pod.Status.PodIP); err != nil {
			return nil, fmt.Errorf("pod %s/%s: address %q: %w", pod.Namespace, pod.Name, pod.Status.PodIP, err)
		}
		name, ends.from = pod.Spec.NodeName, "pod "+pod.Namespace+"/"+pod.Name
	case "node", "nodes", "no":
		ends.from = "node " + name
	default:
		return nil, fmt.Errorf("--from %q: want pod/<name> or node/<name>", cfg.From)
	}
	node, err := cfg.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	ends.node = node
	if !ends.src.IsValid() {
		ips := nodeAddrs(node)
		if len(ips) == 0 {
			return nil, fmt.Errorf("node %s has no InternalIP", name)
		}
		ends.src = ips[0]
	}
	return ends, resolveDestination(ctx, cfg, ends)
}

// resolveDestination reads <ip>:<port>, or a Service and one of its ports.
func resolveDestination(ctx context.Context, cfg TraceConfig, ends *traceEnds) error {
	if ap, err := netip.ParseAddrPort(cfg.To); err == nil {
		ends.dst, ends.port = ap.Addr(), int32(ap.Port())
		if ends.proto == "" {
			ends.proto = corev1.ProtocolTCP
		}
		return nil
	}
	name, ns := cfg.To, cfg.Namespace
	for _, p := range []string{"svc/", "service/", "services/"} {
		name = strings.TrimPrefix(name, p)
	}
	// <name>.<namespace>[.svc[.<domain>]], as a pod would name it in DNS.
	if parts := strings.Split(name, "."); len(parts) > 1 {
		name, ns = parts[0], parts[1]
	}
	svc, err := cfg.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return fmt.Errorf("service %s/%s has no cluster IP (headless or ExternalName): trace a pod's address instead", svc.Namespace, svc.Name)
	}
	port, err := servicePort(svc, cfg.Port, cfg.Protocol)
	if err != nil {
		return err
	}
	ends.dst, err = netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		return err
	}
	ends.port, ends.proto = port.Port, port.Protocol
	ends.service = "service " + svc.Namespace + "/" + svc.Name + " port " + strconv.Itoa(int(port.Port))
	if port.Name != "" {
		ends.service += " (" + port.Name + ")"
	}
	return nil
}

// servicePort picks the port named or numbered want (the first when
// empty), of protocol proto when given.
func servicePort(svc *corev1.Service, want string, proto corev1.Protocol) (corev1.ServicePort, error) {
	for _, p := range svc.Spec.Ports {
		if proto != "" && p.Protocol != proto {
			continue
		}
		if want == "" || want == p.Name || want == strconv.Itoa(int(p.Port)) {
			return p, nil
		}
	}
	return corev1.ServicePort{}, fmt.Errorf("service %s/%s has no port %q%s", svc.Namespace, svc.Name, want, map[bool]string{true: " of protocol " + string(proto)}[proto != ""])
}

func nodeAddrs(node *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range node.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

func familyOf(a netip.Addr) corev1.IPFamily {
	if a.Is4() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// namedExplainer is the rules of one mode, read from the kernel.
type namedExplainer struct {
	mode proxy.Mode
	what string
	tr   tracer.Explainer
}

// readNodeRules reads the proxy rules node holds: inside its sandbox
// namespace when there is one, else here when the node's address is
// this namespace's.
func readNodeRules(node, dir string, fam corev1.IPFamily, nodeIPs []netip.Addr) ([]namedExplainer, error) {
	path, err := nodeNamespace(node, dir, nodeIPs)
	if err != nil {
		return nil, err
	}
	var out []namedExplainer
	var readErr error
	read := func() error {
		out, readErr = kernelExplainers(fam, nodeIPs)
		return nil
	}
	if path == "" {
		_ = read()
	} else if err := netns.Do(path, read); err != nil {
		return nil, err
	}
	return out, readErr
}

// nodeNamespace is the path of node's sandbox namespace
// (sp-<cluster>-node-<node>), or "" when node is this namespace.
func nodeNamespace(node, dir string, nodeIPs []netip.Addr) (string, error) {
	if dir == "" {
		dir = netns.DefaultDir
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "sp-*-node-"+node))
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		return "", fmt.Errorf("node %s: several sandboxes have it (%s)", node, strings.Join(matches, ", "))
	}
	for _, ip := range nodeIPs {
		if localAddr(ip) {
			return "", nil
		}
	}
	return "", fmt.Errorf("node %s: no sandbox namespace under %s and none of its addresses %v is this machine's: trace on the node itself", node, dir, nodeIPs)
}

func localAddr(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if got, ok := netip.AddrFromSlice(n.IP); ok && got.Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// kernelExplainers reads back the iptables and nftables proxy rules of
// this namespace (both, while a mode switch is under way).
func kernelExplainers(fam corev1.IPFamily, nodeIPs []netip.Addr) ([]namedExplainer, error) {
	ctx := context.Background()
	cfg := ProxyConfig{IPTablesBackend: "auto", Logger: slog.New(slog.DiscardHandler)}
	var out []namedExplainer
	if b, err := newBackend(ctx, proxy.ModeNFTables, fam, cfg); err == nil {
		if text, err := b.Rules(ctx); err == nil && strings.TrimSpace(text) != "" {
			tr, err := tracer.NewNFTables(text, nodeIPs)
			if err != nil {
				return nil, fmt.Errorf("read the nftables rules: %w", err)
			}
			out = append(out, namedExplainer{proxy.ModeNFTables, "nftables mode (nft list table " + nftFamily(fam) + " " + nftables.TableName + ")", tr})
		}
	}
	_, err := os.Stat("/sys/class/net/" + ipvs.DummyDevice)
	ipvsHere := err == nil
	if ipvsHere {
		tr, err := readIPVS(ctx, fam, nodeIPs)
		if err != nil {
			return nil, fmt.Errorf("read the ipvs state: %w", err)
		}
		out = append(out, namedExplainer{proxy.ModeIPVS, "ipvs mode (iptables-save, ipvsadm -Ln, ipset save; rr: each real server an equal share)", tr})
	}
	if b, err := newBackend(ctx, proxy.ModeIPTables, fam, cfg); err == nil {
		if text, err := b.Rules(ctx); err == nil && iptablesMode(text, ipvsHere) {
			tr, err := tracer.NewIPTables(text, nodeIPs)
			if err != nil {
				return nil, fmt.Errorf("read the iptables rules: %w", err)
			}
			out = append(out, namedExplainer{proxy.ModeIPTables, "iptables mode (iptables-save)", tr})
		}
	}
	return out, nil
}

// iptablesMode says whether iptables-save shows iptables mode's rules.
// IPVS mode writes a KUBE-SERVICES chain too, but never the per-Service
// KUBE-SVC- chains (the kubernetes Service always has one).
func iptablesMode(save string, ipvsHere bool) bool {
	if ipvsHere {
		return strings.Contains(save, ":KUBE-SVC-")
	}
	return strings.Contains(save, "KUBE-SERVICES")
}

// readIPVS reads this namespace's IPVS state into a tracer.
func readIPVS(ctx context.Context, fam corev1.IPFamily, nodeIPs []netip.Addr) (tracer.Explainer, error) {
	k, err := ipvs.Open(ctx, fam, "auto")
	if err != nil {
		return nil, err
	}
	if k.Close != nil {
		defer k.Close()
	}
	return ipvs.ReadTracer(ctx, k, fam, nodeIPs)
}

func nftFamily(fam corev1.IPFamily) string {
	if fam == corev1.IPv6Protocol {
		return "ip6"
	}
	return "ip"
}

// printPaths prints each way a packet may go, the likeliest first within
// the order the rules give.
func printPaths(out io.Writer, what string, paths []tracer.Path) {
	fmt.Fprintf(out, "\n%s:\n", what)
	if len(paths) == 0 {
		return
	}
	for i, p := range paths {
		fmt.Fprintf(out, "  way %d of %d: %s\n", i+1, len(paths), describePath(p))
		for _, r := range p.Rules {
			fmt.Fprintf(out, "      %s\n", r)
		}
	}
}

func describePath(p tracer.Path) string {
	var to string
	switch p.To {
	case tracer.Drop:
		to = "DROP"
	case tracer.Reject:
		to = "REJECT (the client gets a refusal at once)"
	case tracer.None:
		to = "no rule rewrites it: it goes on to its destination unchanged"
	default:
		to = "to endpoint " + p.To
	}
	chance := fmt.Sprintf("chance %.1f%%", 100*p.Prob)
	if p.Prob == 0 {
		chance = "only for a client that has session affinity to it"
	}
	masq := ""
	if p.Masq {
		masq = ", masqueraded (source NAT to the node)"
	}
	return to + masq + "; " + chance
}
