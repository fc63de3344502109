// Command agent measures the node agent with the simulated runtime: how
// long N pods bound to one node take to become Ready (through the real
// API server, informers and status writes, with no process behind them,
// as kwok does), and the agent process's memory. It prints a table.
//
//	go run ./bench/agent [-pods 10000] [-workers 32] [-qps 1000]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

type config struct {
	pods    int
	workers int
	qps     int
}

const nodeName = "sim-1"

func main() {
	var cfg config
	flag.IntVar(&cfg.pods, "pods", 10000, "pods bound to the simulated node")
	flag.IntVar(&cfg.workers, "workers", 32, "concurrent pod creators")
	flag.IntVar(&cfg.qps, "qps", 1000, "the agent's API requests per second")
	flag.Parse()
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "svcplane-bench-agent")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := app.StartAPIServer(ctx, app.APIServerConfig{DataDir: dir, Port: 0, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DisableAdmission: []string{"ServiceAccount"}})
	if err != nil {
		return err
	}
	client, err := adminClient(s.AdminKubeconfig)
	if err != nil {
		return err
	}
	agent, err := startAgent(ctx, dir, s.AdminKubeconfig, cfg.qps)
	if err != nil {
		return err
	}
	defer func() { _ = agent.Process.Kill(); _ = agent.Wait() }()
	if err := waitNodeReady(ctx, client); err != nil {
		return err
	}
	idle := rss(agent.Process.Pid)
	res, err := measure(ctx, client, cfg)
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	printTable(cfg, res, idle, rss(agent.Process.Pid))
	return nil
}

func adminClient(path string) (kubernetes.Interface, error) {
	rc, err := kubeconfig.RESTConfig(path)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 5000, 10000
	return kubernetes.NewForConfig(rc)
}

// startAgent builds svcplane and runs `svcplane agent --runtime
// simulated` as its own process, so that its memory is its own.
func startAgent(ctx context.Context, dir, kc string, qps int) (*exec.Cmd, error) {
	bin := filepath.Join(dir, "svcplane")
	build := exec.Command("go", "build", "-o", bin, "github.com/svcplane/svcplane/cmd/svcplane")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build svcplane: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "agent", "--runtime", "simulated", "--kubeconfig", kc,
		"--node-name", nodeName, "--node-ip", "127.0.0.1", "--address", "127.0.0.1", "--agent-port", strconv.Itoa(port),
		"--pod-cidr", "10.244.0.0/18", "--pki-dir", filepath.Join(dir, "pki"), "--data-dir", dir,
		"--kube-api-qps", strconv.Itoa(qps), "--log-level", "warn")
	cmd.Stderr = os.Stderr
	return cmd, cmd.Start()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitNodeReady(ctx context.Context, client kubernetes.Interface) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		n, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("node %s not Ready within 30s", nodeName)
}

// result is what one run measured.
type result struct {
	created, ready time.Duration
	ips            int
}

// measure creates the pods and waits until every one is Ready with an IP.
func measure(ctx context.Context, client kubernetes.Interface, cfg config) (result, error) {
	start := time.Now()
	if err := createPods(ctx, client, cfg); err != nil {
		return result{}, err
	}
	res := result{created: time.Since(start)}
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		ready, ips, err := countReady(ctx, client)
		if err != nil {
			return res, err
		}
		if ready >= cfg.pods {
			res.ready, res.ips = time.Since(start), ips
			return res, nil
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("only %d of %d pods Ready after 10m", ready, cfg.pods)
		}
	}
}

func createPods(ctx context.Context, client kubernetes.Interface, cfg config) error {
	var wg sync.WaitGroup
	errc := make(chan error, cfg.workers)
	for w := 0; w < cfg.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < cfg.pods; i += cfg.workers {
				if _, err := client.CoreV1().Pods("default").Create(ctx, pod(i), metav1.CreateOptions{}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func pod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sim-%05d", i), Labels: map[string]string{"app": "sim"}},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{
			Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}},
		}}},
	}
}

// countReady lists the pods and counts the Ready ones and their distinct
// IPs.
func countReady(ctx context.Context, client kubernetes.Interface) (int, int, error) {
	list, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return 0, 0, err
	}
	ready, ips := 0, map[string]bool{}
	for _, p := range list.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
				ips[p.Status.PodIP] = true
			}
		}
	}
	return ready, len(ips), nil
}

// rss reads a process's resident and peak resident memory.
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	var cur, peak string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			cur = mib(f[1])
		}
		if len(f) >= 2 && f[0] == "VmHWM:" {
			peak = mib(f[1])
		}
	}
	return fmt.Sprintf("%s (peak %s)", cur, peak)
}

func mib(kb string) string {
	n, _ := strconv.Atoi(kb)
	return fmt.Sprintf("%.0f MiB", float64(n)/1024)
}

func printTable(cfg config, res result, idle, loaded string) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "measure\tvalue\tnote\n")
	fmt.Fprintf(tw, "pods created\t%d in %.1fs\t%d creators through the API\n", cfg.pods, res.created.Seconds(), cfg.workers)
	fmt.Fprintf(tw, "all pods Ready\t%.1fs\tfrom the first create; %d distinct pod IPs\n", res.ready.Seconds(), res.ips)
	fmt.Fprintf(tw, "Ready per second\t%.0f\tpods / time to all Ready\n", float64(cfg.pods)/res.ready.Seconds())
	fmt.Fprintf(tw, "agent memory, idle\t%s\tnode registered, no pods\n", idle)
	fmt.Fprintf(tw, "agent memory, loaded\t%s\twith %d pods\n", loaded, cfg.pods)
	tw.Flush()
}
