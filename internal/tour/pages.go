package tour

import "strings"

// Pages is the tour, in reading order.
func Pages() []Page {
	return []Page{servicesPage(), typesPage(), modesPage(), liveViewPage()}
}

// epCount waits until Service svc's EndpointSlices list n addresses.
func epCount(svc, n string) Step {
	return Step{Hidden: true, Until: true,
		Cmd: `test "$(kubectl get endpointslices -l kubernetes.io/service-name=` + svc +
			` -o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}' | wc -w)" -eq ` + n}
}

func servicesPage() Page {
	return Page{File: "tour.md", Title: "A tour of svcplane: Services from the inside", Short: true,
		Intro: `
This tour walks through the classic Kubernetes Service tutorial on svcplane, one step at a
time, and shows what each step does inside the node. Every command below was run, and every
output is the real one: the pages are written by ` + "`hack/docs.sh`" + `, which starts a sandboxed
cluster, runs the steps (in ` + "`internal/tour`" + `), writes these files and removes the cluster.

1. **This page**: a cluster, a Deployment, a ClusterIP Service, its Endpoints and EndpointSlices.
2. [Service types](service-types.md): NodePort, LoadBalancer, headless Services and DNS, ExternalName.
3. [Proxy modes](proxy-modes.md): the rules iptables, nftables and IPVS modes write, and why;
   one packet's way with ` + "`svcplane trace`" + `.
4. [The live view](live-view.md): ` + "`svcplane ui`" + `.`,
		Steps: []Step{
			{Text: `## A cluster

` + "`svcplane up --sandbox NAME`" + ` checks the machine, then runs etcd, the API server, the
controllers and one node in a network namespace of its own (nothing touches the machine's
network), and says when each system component is ready, where the kubeconfig is and what to try:`,
				Cmd: "cat up.stdout", Shown: "sudo svcplane up --sandbox {{node}} --data-dir " + ShownDataDir + " " + strings.Join(UpArgs(), " ")},
			{Text: "In another terminal, with that `KUBECONFIG`, the node and the system Services look as on any cluster:",
				Cmd: "kubectl get nodes -o wide"},
			{Cmd: "kubectl get svc -A"},
			{Text: `## A Deployment and a ClusterIP Service

Pods come and go, and each gets a new address. Three nginx pods:`,
				Cmd: "kubectl create deployment web --image=nginx --replicas=3"},
			{Cmd: "kubectl rollout status deployment/web --timeout=60s"},
			{Cmd: "kubectl get pods -l app=web -o wide"},
			{Text: "A Service gives them one stable address, the ClusterIP, and a name in DNS:",
				Cmd: "kubectl expose deployment web --port=80"},
			epCount("web", "3"),
			{Cmd: "kubectl get svc web"},
			{Text: `## Endpoints and EndpointSlices

The endpoint controllers follow the pods the Service selects: the EndpointSlice controller
writes their addresses, readiness and node into EndpointSlices (what the proxy and DNS read),
and the older Endpoints object lists the same addresses:`,
				Cmd: "kubectl get endpoints web"},
			{Cmd: "kubectl get endpointslices -l kubernetes.io/service-name=web"},
			{Cmd: "kubectl describe svc web"},
			{Text: "A client pod reaches the Service by name (cluster DNS) and address (the proxy's rules):",
				Cmd: "kubectl run client --image=busybox --restart=Never -- sleep 36000"},
			{Hidden: true, Cmd: "kubectl wait --for=condition=Ready pod/client --timeout=60s"},
			{Cmd: "kubectl exec client -- wget -qO- http://web | head -4", Until: true},
			{Text: `Deleting a pod: the Deployment makes a new one with a new address, and the slices (and
with them the node's rules) follow, so the Service keeps working:`,
				Cmd: "kubectl delete pod $(kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')"},
			epCount("web", "3"),
			{Cmd: "kubectl get endpointslices -l kubernetes.io/service-name=web -o wide"},
			{Cmd: "kubectl exec client -- wget -qO- http://web.default.svc.cluster.local | grep title", Until: true},
			{Text: "Next: [Service types](service-types.md)."},
		}}
}

func typesPage() Page {
	return Page{File: "service-types.md", Title: "Service types: NodePort, LoadBalancer, headless, ExternalName",
		Intro: "Continuing the [tour](tour.md), with the `web` Deployment and the `client` pod.",
		Steps: []Step{
			{Text: `## NodePort

A NodePort Service also answers on a port (30000-32767) of every node's address, for clients
outside the pod network:`,
				Cmd: "kubectl expose deployment web --name=web-np --type=NodePort --port=80"},
			{Cmd: "kubectl get svc web-np"},
			{Text: "From the node's own network namespace (outside the pod network), at the node's address:",
				Cmd: `port=$(kubectl get svc web-np -o jsonpath='{.spec.ports[0].nodePort}')
nsenter --net=/run/netns/sp-{{node}}-node-{{node}} busybox wget -qO- http://10.240.0.2:$port | grep title`, Until: true},
			{Text: `## LoadBalancer

A LoadBalancer Service gets an ingress address from svcplane's address controller (from
` + "`--loadbalancer-ip-range`" + `), and the proxy sends traffic for it to the endpoints:`,
				Cmd: "kubectl expose deployment web --name=web-lb --type=LoadBalancer --port=80"},
			{Hidden: true, Until: true, Cmd: `test -n "$(kubectl get svc web-lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"`},
			{Cmd: "kubectl get svc web-lb"},
			{Cmd: `lb=$(kubectl get svc web-lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
nsenter --net=/run/netns/sp-{{node}}-node-{{node}} busybox wget -qO- http://$lb | grep title`, Until: true},
			{Text: `## Headless Services and DNS

A headless Service (` + "`clusterIP: None`" + `) has no virtual address: DNS answers with the pods'
own addresses, and a pod with ` + "`hostname`" + ` and ` + "`subdomain`" + ` gets a name of its own.
The lookups below run in ` + "`peer-1`" + ` (busybox 1.28, the tutorials' image, whose ` + "`nslookup`" + `
prints one answer per search; newer busyboxes try every search domain).`,
				Cmd: `kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: peers
spec:
  clusterIP: None
  selector:
    app: peer
  ports:
  - port: 1234
---
apiVersion: v1
kind: Pod
metadata:
  name: peer-1
  labels:
    app: peer
spec:
  hostname: peer-1
  subdomain: peers
  containers:
  - name: busybox
    image: busybox:1.28
    command: ["sleep", "36000"]
---
apiVersion: v1
kind: Pod
metadata:
  name: peer-2
  labels:
    app: peer
spec:
  hostname: peer-2
  subdomain: peers
  containers:
  - name: busybox
    image: busybox:1.28
    command: ["sleep", "36000"]
EOF`},
			{Hidden: true, Cmd: "kubectl wait --for=condition=Ready pod/peer-1 pod/peer-2 --timeout=60s"},
			epCount("peers", "2"),
			{Cmd: "kubectl get svc peers"},
			{Cmd: "kubectl exec peer-1 -- nslookup peers"},
			{Cmd: "kubectl exec peer-1 -- nslookup peer-1.peers"},
			{Text: "Short names work from the pod's search path; other namespaces need `name.namespace`:",
				Cmd: "kubectl exec peer-1 -- nslookup kube-dns.kube-system"},
			{Text: `## ExternalName

An ExternalName Service is only a DNS alias (a CNAME); no proxy rule is written for it:`,
				Cmd: "kubectl create service externalname docs-alias --external-name web.default.svc.cluster.local"},
			{Cmd: "kubectl get svc docs-alias"},
			{Cmd: "kubectl exec peer-1 -- nslookup docs-alias"},
			{Text: "Next: [proxy modes](proxy-modes.md)."},
		}}
}
