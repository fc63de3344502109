package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	mdns "github.com/miekg/dns"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// loopback is the only address anything here listens on or sends to.
const loopback = "127.0.0.1"

func hostPort(port int) string { return loopback + ":" + strconv.Itoa(port) }

// target is a DNS server under measurement.
type target struct {
	name string
	addr string
	proc *proc
}

// startAPIServer runs `svcplane apiserver` on core 1 and returns a client
// once the API answers.
func startAPIServer(ctx context.Context, ps *procs, cfg config, dir string) (kubernetes.Interface, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	c, err := ps.start(startSpec{name: "apiserver", core: "1", bin: cfg.svcplane, args: []string{"apiserver",
		"--data-dir", dir, "--bind-address", loopback, "--secure-port", strconv.Itoa(port), "--log-level", "warn"}})
	if err != nil {
		return nil, "", err
	}
	kc := filepath.Join(dir, "admin.kubeconfig")
	var client kubernetes.Interface
	err = ps.waitFor(ctx, c, "API", time.Minute, func() bool {
		if _, err := os.Stat(kc); err != nil {
			return false
		}
		if client == nil {
			if client, err = adminClient(kc); err != nil {
				return false
			}
		}
		_, err := client.Discovery().ServerVersion()
		return err == nil
	})
	return client, kc, err
}

func adminClient(path string) (kubernetes.Interface, error) {
	rc, err := kubeconfig.RESTConfig(path)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 5000, 10000
	return kubernetes.NewForConfig(rc)
}

// startResponder runs the trivial responder on core; procName names its
// log file.
func startResponder(ctx context.Context, ps *procs, cfg config, name, procName, core string) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	t := target{name: name, addr: hostPort(port)}
	t.proc, err = ps.start(startSpec{name: procName, core: core, gomaxprocs: true, bin: cfg.self, args: []string{"respond", "-listen", t.addr}})
	if err != nil {
		return t, err
	}
	return t, ps.waitFor(ctx, t.proc, "answer", 10*time.Second, func() bool { return answers(t.addr) })
}

// answers says whether addr answers a query over UDP.
func answers(addr string) bool {
	c := &mdns.Client{Timeout: 200 * time.Millisecond}
	_, _, err := c.Exchange(new(mdns.Msg).SetQuestion("ready.bench.example.", mdns.TypeA), addr)
	return err == nil
}

// startSvcplaneDNS runs svcplane-dns (or `svcplane dns`) on core 0 with GOMAXPROCS=1 and
// waits for /ready. Its upstream is the local responder; resolv.conf is
// /dev/null so that no real resolver could ever be used.
func startSvcplaneDNS(ctx context.Context, ps *procs, cfg config, kc, upstream string) (target, error) {
	port, err := freePort()
	if err != nil {
		return target{}, err
	}
	ready, err := freePort()
	if err != nil {
		return target{}, err
	}
	t := target{name: "svcplane dns", addr: hostPort(port)}
	bin, args := cfg.svcplane, []string{"dns"}
	if cfg.svcplaneDNS != "" {
		t.name, bin, args = "svcplane-dns", cfg.svcplaneDNS, nil
	}
	t.proc, err = ps.start(startSpec{name: "svcplane-dns", core: "0", gomaxprocs: true, bin: bin, args: append(args,
		"--kubeconfig", kc, "--listen", t.addr, "--upstream", upstream, "--resolv-conf", os.DevNull,
		"--pods", "insecure", "--ttl", "30", "--health-addr", "", "--ready-addr", hostPort(ready), "--metrics-addr", "",
		"--log-level", "warn")})
	if err != nil {
		return t, err
	}
	url := "http://" + hostPort(ready) + "/ready"
	return t, ps.waitFor(ctx, t.proc, "/ready", 2*time.Minute, func() bool { return httpOK(url) })
}

// corefile is kubeadm's Corefile on loopback ports, without health, loop
// and reload (which add nothing per query), forwarding to the local
// upstream.
const corefile = `.:%[1]d {
    bind 127.0.0.1
    errors
    ready 127.0.0.1:%[2]d
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %[3]s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus 127.0.0.1:%[4]d
    forward . %[5]s
    cache 30
}
`

// startCoreDNS runs CoreDNS on core 0 with GOMAXPROCS=1 and waits for
// /ready.
func startCoreDNS(ctx context.Context, ps *procs, cfg config, dir, kc, upstream string) (target, error) {
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return target{}, err
		}
		ports[i] = p
	}
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, fmt.Appendf(nil, corefile, ports[0], ports[1], kc, ports[2], upstream), 0o644); err != nil {
		return target{}, err
	}
	t := target{name: "CoreDNS", addr: hostPort(ports[0])}
	var err error
	t.proc, err = ps.start(startSpec{name: "coredns", core: "0", gomaxprocs: true, bin: cfg.coredns, args: []string{"-conf", conf}})
	if err != nil {
		return t, err
	}
	url := "http://" + hostPort(ports[1]) + "/ready"
	return t, ps.waitFor(ctx, t.proc, "/ready", 2*time.Minute, func() bool { return httpOK(url) })
}
