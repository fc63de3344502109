package tour

// rules prints the node's proxy rules (iptables-save, nft list table or
// ipvsadm -ln style), as the kernel holds them.
const rules = "svcplane proxy rules --sandbox {{node}} --node {{node}}"

// switchMode edits the kube-proxy ConfigMap's mode, as
// `kubectl -n kube-system edit configmap kube-proxy` would.
func switchMode(from, to string) Step {
	return Step{Cmd: "kubectl -n kube-system get configmap kube-proxy -o yaml | sed 's/mode: " + from + "/mode: " + to +
		"/' | kubectl replace -f -"}
}

func modesPage() Page {
	return Page{File: "proxy-modes.md", Title: "Proxy modes: the rules each writes, and one packet's way",
		Intro: `Continuing the [tour](tour.md). The node's proxy (the ` + "`kube-proxy`" + ` pod in kube-system)
turns Services and EndpointSlices into kernel rules that rewrite a packet for a Service address
to one endpoint's address (DNAT), and masquerade it when the reply would otherwise not come back
the same way. Here are the same three endpoints as each mode writes them.`,
		Steps: []Step{
			{Text: "Three pods that answer with their own name make the load balancing visible:",
				Cmd: "kubectl create deployment hostnames --image=registry.k8s.io/e2e-test-images/agnhost:2.53 --replicas=3 -- /agnhost serve-hostname"},
			{Cmd: "kubectl expose deployment hostnames --port=80 --target-port=9376"},
			{Hidden: true, Cmd: "kubectl rollout status deployment/hostnames --timeout=60s"},
			epCount("hostnames", "3"),
			{Cmd: "kubectl get endpointslices -l kubernetes.io/service-name=hostnames"},
			{Cmd: "kubectl exec client -- sh -c 'for i in 1 2 3 4 5 6 7 8 9; do wget -qO- hostnames; echo; done'", Until: true},
			{Text: `## iptables mode

The default mode writes kube-proxy's chains, rule for rule: ` + "`KUBE-SERVICES`" + ` matches the
ClusterIP and port and jumps to the Service's chain ` + "`KUBE-SVC-<hash>`" + `, which picks one
endpoint chain ` + "`KUBE-SEP-<hash>`" + ` at random (` + "`statistic --mode random`" + ` with
probabilities 1/3, then 1/2 of the rest, then the last), which DNATs to the pod. Packets from
outside the cluster CIDR are marked (` + "`KUBE-MARK-MASQ`" + `) and masqueraded on the way out.
The lines for ` + "`hostnames`" + `, as the node's kernel holds them (` + "`iptables-save`" + ` in the node's
namespace):`,
				Cmd: rules + " | grep hostnames"},
			{Text: `` + "`svcplane trace`" + ` reads those same rules back from the kernel and follows the first packet
of a new connection from the ` + "`client`" + ` pod through them, every way it may go, with its chance:`,
				Cmd: "svcplane trace --from pod/client --to hostnames"},
			{Text: `## nftables mode

Switching modes is the tutorials' way: edit the mode in the ` + "`kube-proxy`" + ` ConfigMap
(` + "`kubectl -n kube-system edit configmap kube-proxy`" + `; here with sed) and restart the proxy's pod,
which at start removes the rules the other mode left:`,
				Cmd: switchMode("iptables", "nftables").Cmd},
			{Cmd: "kubectl -n kube-system delete pod -l k8s-app=kube-proxy"},
			{Hidden: true, Until: true, Cmd: rules + " | grep 'table ip svcplane' >/dev/null"},
			{Hidden: true, Cmd: "sleep 2"},
			{Text: `svcplane's nftables layout is flat: a verdict map keyed by ` + "`address . protocol . port`" + `
sends a Service's packets to a chain shared by every Service with the same number of endpoints,
where ` + "`numgen random mod N`" + ` indexes a map of endpoints. No chain per Service or endpoint:
a packet's cost and a sync's stay the same with 10 or 10,000 Services, and an endpoint change is
a few element updates. The table (` + "`nft list table ip svcplane`" + `):`,
				Cmd: rules + " | sed -n '/^table ip svcplane/,$p'"},
			{Text: "The same packet, now through maps:", Cmd: "svcplane trace --from pod/client --to hostnames"},
			{Cmd: "kubectl exec client -- sh -c 'for i in 1 2 3 4 5 6; do wget -qO- hostnames; echo; done'", Until: true},
			{Text: `## IPVS mode

IPVS mode puts every Service address on a dummy interface ` + "`kube-ipvs0`" + ` and makes one IPVS
virtual server per address and port, with the endpoints as real servers (round robin by
default), plus kube-proxy's ipsets and a few iptables rules for masquerading. It needs the
kernel's ` + "`ip_vs`" + ` modules. The machine these pages were made on has none, and the proxy says so
and keeps a mode that works:`,
				Cmd: switchMode("nftables", "ipvs").Cmd},
			{Cmd: "kubectl -n kube-system delete pod -l k8s-app=kube-proxy"},
			{Hidden: true, Until: true, Cmd: "kubectl -n kube-system rollout status daemonset/kube-proxy --timeout=5s"},
			{Hidden: true, Cmd: "sleep 5"},
			{Cmd: "kubectl get events -A --field-selector reason=IPVSUnavailable", MayFail: true},
			{Cmd: rules + " | sed -n 1,3p", MayFail: true},
			{Text: `On a kernel with IPVS, ` + "`svcplane proxy rules`" + ` prints the virtual servers ` + "`ipvsadm -ln`" + ` style,
and ` + "`svcplane trace`" + ` ends each way in a real server with an equal share. That output is not on
this page because this machine cannot produce it; test/vm boots Debian's kernel (which has
` + "`ip_vs`" + `) under qemu and runs a whole ` + "`svcplane up --proxy-mode ipvs`" + ` node inside:

` + "```sh" + `
sudo go test -run TestIPVSKernel -v ./test/vm/   # logs the guest's ipvsadm -ln, e.g.
# TCP  10.96.x.y:80 rr
#   -> 10.244.0.5:9376    Masq    1      0          0
#   -> 10.244.0.6:9376    Masq    1      0          0
#   -> 10.244.0.7:9376    Masq    1      0          0
` + "```" + `

(the figures above show the shape; the test prints the real ones), and
` + "`hack/vm/run.sh --add bin/svcplane -- 'svcplane up --proxy-mode ipvs ...'`" + ` runs any command
in that VM. See [internal/proxy/ipvs/README.md](../internal/proxy/ipvs/README.md).`},
			{Text: "Next: [the live view](live-view.md)."},
		}}
}

func liveViewPage() Page {
	shot := "timeout 45 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2200 " +
		"--timeout=6000 --screenshot={{png}} {{ui}} 2>/dev/null; test -s {{png}}"
	return Page{File: "live-view.md", Title: "The live view: svcplane ui",
		Intro: `Continuing the [tour](tour.md). ` + "`svcplane up`" + ` serves a live view on 127.0.0.1 and prints its
address (` + "`svcplane: live view at http://127.0.0.1:8090/`" + `); ` + "`svcplane ui`" + ` serves the same page for
any running cluster. For each Service it draws its EndpointSlices, their pods (ready, serving,
terminating) and the ways each node's rules send a new connection, in the node's mode, with the
DNS names that answer for the Service. It follows watches, so a change shows within a second.
The screenshots are headless Chromium's (Debian's ` + "`chromium`" + `).`,
		Steps: []Step{
			{Text: "Every Service of the tour so far, on one page (`hostnames` with its three pods):", Cmd: shot, Screenshot: "live-view.png"},
			{Text: "Scaled to two, one `hostnames` pod and its rule are gone, and each way now has half the chance:",
				Cmd: "kubectl scale deployment hostnames --replicas=2"},
			epCount("hostnames", "2"),
			{Hidden: true, Cmd: "sleep 2"},
			{Cmd: shot, Screenshot: "live-view-scaled.png"},
		}}
}
