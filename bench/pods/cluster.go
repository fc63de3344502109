package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

const (
	upTimeout      = 60 * time.Second
	runningTimeout = 120 * time.Second
)

// up is one `svcplane up --sandbox` run by the bench.
type up struct {
	bin, dir string
	cmd      *exec.Cmd
	log      string
	started  time.Time
	done     chan struct{}
}

// startUp runs `svcplane up` in a sandbox of its own with a fresh data
// directory; down must follow, whatever happens.
func startUp(bin, dir string, example bool) (*up, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	u := &up{bin: bin, dir: dir, log: filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".log"), done: make(chan struct{})}
	log, err := os.Create(u.log)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	sandbox := fmt.Sprintf("bp%d", os.Getpid()%100000)
	u.cmd = exec.Command(bin, "up", "--sandbox", sandbox, "--data-dir", dir, "--secure-port", strconv.Itoa(port),
		"--example="+strconv.FormatBool(example))
	u.cmd.Stdout, u.cmd.Stderr = log, log
	u.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	u.started = time.Now()
	if err := u.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = u.cmd.Wait(); close(u.done) }()
	return u, nil
}

// waitUp waits until up says the cluster is up and returns when it did.
func (u *up) waitUp() (time.Time, error) {
	deadline := time.Now().Add(upTimeout)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(u.log)
		if strings.Contains(string(b), "svcplane is up") {
			return time.Now(), nil
		}
		select {
		case <-u.done:
			return time.Time{}, fmt.Errorf("svcplane up exited:\n%s", tail(b))
		case <-time.After(10 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(u.log)
	return time.Time{}, fmt.Errorf("svcplane up not up in %s:\n%s", upTimeout, tail(b))
}

// down removes the cluster with `svcplane down`, which stops up first.
func (u *up) down() {
	cmd := exec.Command(u.bin, "down", "--data-dir", u.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: svcplane down: %v\n%s", err, out)
	}
	select {
	case <-u.done:
	case <-time.After(upTimeout):
		_ = syscall.Kill(-u.cmd.Process.Pid, syscall.SIGKILL)
		<-u.done
	}
}

func (u *up) client() (kubernetes.Interface, error) {
	rc, err := kubeconfig.RESTConfig(filepath.Join(u.dir, "admin.kubeconfig"))
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 1000, 2000
	return kubernetes.NewForConfig(rc)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) string {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// benchManyPods creates n busybox pods at once on the one node and waits
// until all are Running.
func benchManyPods(bin, dir string, n int) error {
	u, err := startUp(bin, dir, false)
	if err != nil {
		return err
	}
	defer u.down()
	if _, err := u.waitUp(); err != nil {
		return err
	}
	c, err := u.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), runningTimeout)
	defer cancel()
	if err := waitServiceAccount(ctx, c); err != nil {
		return err
	}
	t0 := time.Now()
	err = benchutil.ParallelErr(n, 16, func(i int) error {
		_, err := c.CoreV1().Pods("default").Create(ctx, sleepPod(i), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	created := time.Since(t0)
	running, err := waitRunning(ctx, c, "default", "", n)
	if err != nil {
		return err
	}
	all := running.Sub(t0)
	fmt.Printf("\n%d pods on one node (busybox sleep 3600, created through the API of up --sandbox)\n", n)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\tvalue\tgoal\t")
	fmt.Fprintf(w, "%d pods created (16 creators)\t%s\t\t\n", n, secs(created))
	fmt.Fprintf(w, "all %d Running, from the first create\t%s\t< 10 s\t\n", n, secs(all))
	fmt.Fprintf(w, "pods per second\t%.1f\t> %.1f\t\n", float64(n)/all.Seconds(), float64(n)/10)
	return w.Flush()
}

func sleepPod(i int) *corev1.Pod {
	zero := int64(0)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sleep-%03d", i), Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &zero,
			Containers:                    []corev1.Container{{Name: "sleep", Image: "busybox", Command: []string{"sleep", "3600"}}},
		},
	}
}

// waitServiceAccount waits for the default ServiceAccount, which pods
// need before they can be created.
func waitServiceAccount(ctx context.Context, c kubernetes.Interface) error {
	for {
		_, err := c.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.New("no default ServiceAccount")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitRunning polls until want pods of the namespace (matching the
// selector) are Running, and returns when it saw them.
func waitRunning(ctx context.Context, c kubernetes.Interface, ns, selector string, want int) (time.Time, error) {
	for {
		list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil {
			running := 0
			for _, p := range list.Items {
				if p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
			if want > 0 && running >= want && running == len(list.Items) {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("pods of %s not all Running: %v", ns, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// benchColdUp runs a cold `svcplane up` (with the example) n times and
// prints how long until its example pods are Running.
func benchColdUp(bin, dir string, n int) error {
	var fromStart, fromUp, upTook durations
	for i := range n {
		s, u, r, err := coldUp(bin, filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			return err
		}
		fromStart, fromUp, upTook = append(fromStart, s), append(fromUp, u), append(upTook, r)
	}
	fmt.Printf("\ncold svcplane up --sandbox (fresh data dir) until the example pods (demo/web) are Running, %d runs\n", n)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measure\tmedian\tmax\tgoal\t")
	for _, r := range []struct {
		name string
		d    durations
		goal string
	}{
		{"up launched to the example pods Running", fromStart, "< 2 s (1.6 s before isolation)"},
		{"up launched to \"svcplane is up\" (every system pod Ready, DNS answering)", upTook, ""},
		{"\"svcplane is up\" to the example pods Running (negative: before)", fromUp, ""},
	} {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", r.name, secs(r.d.median()), secs(r.d.quantile(1)), r.goal)
	}
	return w.Flush()
}

// coldUp is one cold start: launch to the example pods Running (watched
// from launch, whatever up prints), up's ready message to Running, and
// launch to up's ready message (printed once every system pod is Ready
// and DNS answers).
func coldUp(bin, dir string) (time.Duration, time.Duration, time.Duration, error) {
	u, err := startUp(bin, dir, true)
	if err != nil {
		return 0, 0, 0, err
	}
	defer u.down()
	type upResult struct {
		at  time.Time
		err error
	}
	upc := make(chan upResult, 1)
	go func() { at, err := u.waitUp(); upc <- upResult{at, err} }()
	running, err := u.waitExample()
	if err != nil {
		return 0, 0, 0, err
	}
	r := <-upc
	if r.err != nil {
		return 0, 0, 0, r.err
	}
	return running.Sub(u.started), running.Sub(r.at), r.at.Sub(u.started), nil
}

// waitExample waits, from up's launch, until the admin kubeconfig exists
// and the example Deployment's pods are all Running.
func (u *up) waitExample() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), runningTimeout)
	defer cancel()
	var c kubernetes.Interface
	for c == nil {
		if _, err := os.Stat(filepath.Join(u.dir, "admin.kubeconfig")); err == nil {
			if c, err = u.client(); err != nil {
				return time.Time{}, err
			}
			break
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("no admin kubeconfig in %s", u.dir)
		case <-u.done:
			return time.Time{}, fmt.Errorf("svcplane up exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
	want, err := webReplicas(ctx, c)
	if err != nil {
		return time.Time{}, err
	}
	return waitRunning(ctx, c, "demo", "", want)
}

// webReplicas waits for the example Deployment and returns its replicas.
func webReplicas(ctx context.Context, c kubernetes.Interface) (int, error) {
	for {
		d, err := c.AppsV1().Deployments("demo").Get(ctx, "web", metav1.GetOptions{})
		if err == nil && d.Spec.Replicas != nil {
			return int(*d.Spec.Replicas), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no Deployment demo/web: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
