package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/dns/cluster"
)

// addonsUser is the identity up applies the addons with, as kubeadm
// applies them with the admin's.
const addonsUser = "system:svcplane-addons"

// startAddons applies the kube-system addons (the agent runs their pods).
func startAddons(ctx context.Context, s *APIServer, cfg UpConfig) error {
	client, err := addonsClient(s)
	if err != nil {
		return err
	}
	go keepMirrorPods(ctx, client, cfg, cfg.Logger.With("component", "mirror-pods"))
	return applyAddons(ctx, client, cfg, nodeAPIServer(s, cfg))
}

// staticPodLogs returns the log file of a mirror pod's static pod.
func staticPodLogs(cfg UpConfig) func(string) string {
	node, dir := upNodeName(cfg), componentLogDir(cfg)
	return func(mirror string) string {
		for _, sp := range staticPods(cfg) {
			if mirror == sp.component+"-"+node {
				return filepath.Join(dir, sp.component+".log")
			}
		}
		return ""
	}
}

// stopAddons removes the addons when up runs the proxy and DNS itself.
func stopAddons(ctx context.Context, s *APIServer) error {
	client, err := addonsClient(s)
	if err != nil {
		return err
	}
	return removeAddons(ctx, client)
}

func addonsClient(s *APIServer) (kubernetes.Interface, error) {
	rc, err := ComponentRESTConfig(s, addonsUser)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// systemCheck is one line of up's progress: a component and whether it
// is ready.
type systemCheck struct {
	name  string
	ready func(ctx context.Context) bool
}

// systemChecks are the components up waits for with the addons on.
func systemChecks(client kubernetes.Interface, cfg UpConfig) []systemCheck {
	node := upNodeName(cfg)
	checks := []systemCheck{
		{"etcd", func(context.Context) bool { return true }},
		{"kube-apiserver", func(context.Context) bool { return true }},
		{"node " + node, func(ctx context.Context) bool { return nodeReady(ctx, client, node) }},
		{"control plane mirror pods", func(ctx context.Context) bool {
			return podsReady(ctx, client, "tier=control-plane", node, len(staticPods(cfg)))
		}},
	}
	if !cfg.Proxy.NoProxy {
		checks = append(checks, systemCheck{"kube-proxy", func(ctx context.Context) bool {
			return podsReady(ctx, client, "k8s-app="+kubeProxyName, node, 1)
		}})
	}
	if !cfg.DNS.NoDNS {
		checks = append(checks, systemCheck{"coredns", func(ctx context.Context) bool {
			return podsReady(ctx, client, "k8s-app="+kubeDNSName, "", 1)
		}})
		server := net.JoinHostPort(cfg.Agent.withDefaults().ClusterDNS, "53")
		zone := orString(cfg.Agent.ClusterDomain, cluster.DefaultZone)
		checks = append(checks, systemCheck{"cluster DNS at " + server, func(ctx context.Context) bool { return dnsAnswers(server, zone) }})
	}
	return checks
}

// waitSystem prints one line per component as it becomes ready, until
// all are or timeout passes (then it says which are not).
func waitSystem(ctx context.Context, out io.Writer, checks []systemCheck, start time.Time, timeout time.Duration) bool {
	done := make([]bool, len(checks))
	left := len(checks)
	deadline := time.Now().Add(timeout)
	for left > 0 {
		for i, c := range checks {
			if !done[i] && c.ready(ctx) {
				done[i], left = true, left-1
				fmt.Fprintf(out, "  %-30s ready  %5.1fs\n", c.name, time.Since(start).Seconds())
			}
		}
		if left == 0 || ctx.Err() != nil {
			break
		}
		if time.Now().After(deadline) {
			for i, c := range checks {
				if !done[i] {
					fmt.Fprintf(out, "  %-30s NOT ready after %s (kubectl get pods -n kube-system)\n", c.name, timeout)
				}
			}
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return left == 0
}

func nodeReady(ctx context.Context, client kubernetes.Interface, name string) bool {
	n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podsReady reports whether at least min kube-system pods of the
// selector (on node, if set) are Ready.
func podsReady(ctx context.Context, client kubernetes.Interface, selector, node string, min int) bool {
	opts := metav1.ListOptions{LabelSelector: selector}
	if node != "" {
		opts.FieldSelector = "spec.nodeName=" + node
	}
	pods, err := client.CoreV1().Pods("kube-system").List(ctx, opts)
	if err != nil {
		return false
	}
	n := 0
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				n++
			}
		}
	}
	return n >= min
}

// dnsAnswers reports whether the cluster DNS answers for the kubernetes
// Service.
func dnsAnswers(server, zone string) bool {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn("kubernetes.default.svc."+zone), dns.TypeA)
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	r, _, err := c.Exchange(m, server)
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}
