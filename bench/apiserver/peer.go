package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
	"github.com/svcplane/svcplane/internal/storage/etcd"
)

// peerConfig is the comparison of LIST with kube-apiserver on one etcd.
type peerConfig struct {
	binary  string // kube-apiserver
	objects int
	rounds  int
	hogs    int
}

// server is one API server under comparison.
type server struct {
	name   string
	client kubernetes.Interface
}

// comparePeer stores the same ConfigMaps through svcplane and through
// kube-apiserver, both over one embedded etcd (kube-apiserver under its own
// --etcd-prefix), and times their LISTs, quiet and while CPU hogs run.
func comparePeer(ctx context.Context, cfg peerConfig, workers int) error {
	dir, err := os.MkdirTemp("", "svcplane-bench-peer")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), Logger: benchutil.Quiet()})
	if err != nil {
		return err
	}
	defer e.Close()
	endpoint := "unix://" + filepath.Join(dir, "etcd", "etcd.sock")
	ours, stopOurs, err := startOurs(ctx, filepath.Join(dir, "svcplane"), endpoint)
	if err != nil {
		return err
	}
	defer stopOurs()
	peer, stopPeer, err := startKubeAPIServer(ctx, cfg.binary, filepath.Join(dir, "kube-apiserver"), endpoint)
	if err != nil {
		return err
	}
	defer stopPeer()
	servers := []server{{"svcplane", ours}, {"kube-apiserver", peer}}
	for _, s := range servers {
		if err := createConfigMaps(ctx, s.client, cfg.objects, workers); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return printComparison(ctx, servers, cfg)
}

func printComparison(ctx context.Context, servers []server, cfg peerConfig) error {
	tw := newTable()
	fmt.Fprintf(tw, "LIST of %d configmaps (median of %d, max)\t%s\t%s\n", cfg.objects, cfg.rounds, servers[0].name, servers[1].name)
	cases := []struct {
		name string
		opts metav1.ListOptions
	}{
		{`resourceVersion="" (consistent)`, metav1.ListOptions{}},
		{"resourceVersion=0", metav1.ListOptions{ResourceVersion: "0"}},
		{`pages of 500, resourceVersion=""`, metav1.ListOptions{Limit: 500}},
	}
	for _, hog := range []bool{false, true} {
		stop := func() {}
		if hog {
			var err error
			if stop, err = startHogs(cfg.hogs); err != nil {
				return err
			}
			time.Sleep(time.Second)
		}
		for _, tc := range cases {
			name := tc.name
			if hog {
				name += fmt.Sprintf(", %d CPU hogs", cfg.hogs)
			}
			res, err := timeLists(ctx, servers, tc.opts, cfg)
			if err != nil {
				stop()
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", name, res[0], res[1])
		}
		stop()
	}
	return tw.Flush()
}

// timeLists lists through each server in turn, round after round, so that
// both see the same machine.
func timeLists(ctx context.Context, servers []server, opts metav1.ListOptions, cfg peerConfig) ([]string, error) {
	samples := make([][]time.Duration, len(servers))
	for range cfg.rounds {
		for i, s := range servers {
			start := time.Now()
			n, err := listAll(ctx, s.client, opts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			if n != cfg.objects {
				return nil, fmt.Errorf("%s listed %d configmaps, want %d", s.name, n, cfg.objects)
			}
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	out := make([]string, len(servers))
	for i, d := range samples {
		med := median(d)
		out[i] = fmt.Sprintf("%v (max %v)", med.Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	return out, nil
}

// listAll lists every page and returns how many configmaps came.
func listAll(ctx context.Context, client kubernetes.Interface, opts metav1.ListOptions) (int, error) {
	n := 0
	for {
		l, err := client.CoreV1().ConfigMaps("default").List(ctx, opts)
		if err != nil {
			return 0, err
		}
		n += len(l.Items)
		if l.Continue == "" {
			return n, nil
		}
		opts.Continue, opts.ResourceVersion = l.Continue, ""
	}
}

func createConfigMaps(ctx context.Context, client kubernetes.Interface, n, workers int) error {
	cms := client.CoreV1().ConfigMaps("default")
	return benchutil.ParallelErr(n, workers, func(i int) error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-" + strconv.Itoa(i), Labels: map[string]string{"bench": "yes"}},
			Data: map[string]string{"key": "some value of a modest size, as configuration often is"}}
		_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
		return err
	})
}

// startHogs starts n processes that spin on a CPU each; stop kills them.
func startHogs(n int) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	for range n {
		c := exec.Command("sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("start CPU hog: %w", err)
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}

func startOurs(ctx context.Context, dir, endpoint string) (kubernetes.Interface, func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{DataDir: dir, EtcdServers: []string{endpoint}, Logger: benchutil.Quiet(),
		DisableAdmission: []string{"ServiceAccount"}})
	if err != nil {
		cancel()
		return nil, nil, err
	}
	stop := func() { cancel(); <-srv.Done }
	rc, err := kubeconfig.RESTConfig(srv.AdminKubeconfig)
	if err != nil {
		stop()
		return nil, nil, err
	}
	client, err := newClient(rc)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return client, stop, nil
}

func newClient(rc *rest.Config) (kubernetes.Interface, error) {
	rc.QPS, rc.Burst = 100000, 100000
	rc.Timeout = 5 * time.Minute
	return kubernetes.NewForConfig(rc)
}

// startKubeAPIServer runs upstream kube-apiserver on loopback over etcd,
// with a static token of system:masters, every request allowed
// (AlwaysAllow; kube-apiserver then turns anonymous requests off, so the
// token is needed) and API priority and fairness off, so that only
// serving is measured.
func startKubeAPIServer(ctx context.Context, binary, dir, endpoint string) (kubernetes.Interface, func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	key, err := writeServiceAccountKey(filepath.Join(dir, "sa.key"))
	if err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, nil, err
	}
	token := rand.Text()
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",bench,bench,system:masters\n"), 0o600); err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, binary,
		"--etcd-servers="+endpoint, "--etcd-prefix=/kube-registry",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port), "--cert-dir="+filepath.Join(dir, "certs"),
		"--authorization-mode=AlwaysAllow", "--token-auth-file="+tokens, "--enable-priority-and-fairness=false",
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+key,
		"--service-account-signing-key-file="+key, "--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount", "--profiling=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("start kube-apiserver: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	}
	host := "https://127.0.0.1:" + strconv.Itoa(port)
	start := time.Now()
	if err := waitReady(ctx, host+"/readyz", token, exited); err != nil {
		stop()
		return nil, nil, fmt.Errorf("kube-apiserver: %w (exit: %v); its log ends:\n%s", err, waitErr, tail(logf.Name(), 3000))
	}
	fmt.Fprintf(os.Stderr, "kube-apiserver ready after %v\n", time.Since(start).Round(time.Second))
	client, err := newClient(&rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		stop()
		return nil, nil, err
	}
	if err := waitNamespace(ctx, client); err != nil {
		stop()
		return nil, nil, err
	}
	return client, stop, nil
}

// tail returns the last n bytes of a file.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// readyTimeout is how long kube-apiserver may take to answer /readyz: on
// two loaded cores its post-start hooks take minutes.
const readyTimeout = 10 * time.Minute

// waitReady polls url until it answers 200, the process exits, or
// readyTimeout passes; the error says which, with the last answer.
func waitReady(ctx context.Context, url, token string, exited <-chan struct{}) error {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(readyTimeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, body)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("exited before it was ready")
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("not ready after %v; last answer of %s: %s", readyTimeout, url, last)
}

func waitNamespace(ctx context.Context, client kubernetes.Interface) error {
	for range 900 {
		if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver made no default namespace")
}

func writeServiceAccountKey(path string) (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	return path, os.WriteFile(path, data, 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
