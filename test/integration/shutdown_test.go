package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// serverErrors collects the 5xx answers clients saw.
type serverErrors struct {
	mu   sync.Mutex
	seen []string
}

func (s *serverErrors) note(err error) {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Code >= 500 {
		s.mu.Lock()
		s.seen = append(s.seen, err.Error())
		s.mu.Unlock()
	}
}

func (s *serverErrors) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// TestShutdownEndsWatchesCleanly stops the API server while kubectl get
// -w, a client-go informer, a raw watch and a stream of lists run: the
// watches end with a normal close, kubectl exits without an error, and no
// client sees a 5xx.
func TestShutdownEndsWatchesCleanly(t *testing.T) {
	needKubectl(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{
		DataDir: t.TempDir(), BindAddress: "127.0.0.1", Port: 0,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// No serviceaccount controller runs here to make "default".
		DisableAdmission: []string{"ServiceAccount"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done }()
	rc, err := kubeconfig.RESTConfig(srv.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(rc)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var errs serverErrors
	kubectl, kubectlOut := startKubectlWatch(t, srv.AdminKubeconfig)
	watchDone := rawWatch(t, client, &errs)
	informerSynced := runPodInformer(t, client, &errs)
	listsDone := listUntilRefused(client, &errs)
	waitFor(t, "kubectl to print the pod", func() bool { return strings.Contains(kubectlOut.String(), "p ") })
	waitFor(t, "the informer to sync", informerSynced)

	start := time.Now()
	cancel()
	<-srv.Done
	if d := time.Since(start); d > app.ShutdownGracePeriod {
		t.Errorf("shutdown took %s, more than the grace period", d)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- kubectl.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil || strings.Contains(kubectlOut.String(), "rror") {
			t.Errorf("kubectl get -w: %v\n%s", err, kubectlOut.String())
		}
	case <-time.After(10 * time.Second):
		_ = kubectl.Process.Kill()
		t.Errorf("kubectl get -w did not end with the server")
	}
	<-watchDone
	<-listsDone
	time.Sleep(time.Second) // let the informer try again
	if seen := errs.list(); len(seen) > 0 {
		t.Errorf("clients saw 5xx answers: %q", seen)
	}
}

// lockedBuffer is an io.Writer safe to read while a process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startKubectlWatch(t *testing.T, kubeconfigPath string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command("kubectl", "--cache-dir", filepath.Join(t.TempDir(), "cache"), "get", "pods", "-w")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, out
}

// rawWatch watches pods until the stream ends and notes an ERROR event.
func rawWatch(t *testing.T, client kubernetes.Interface, errs *serverErrors) <-chan struct{} {
	t.Helper()
	w, err := client.CoreV1().Pods("").Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				errs.note(apierrors.FromObject(ev.Object))
			}
		}
	}()
	return done
}

func runPodInformer(t *testing.T, client kubernetes.Interface, errs *serverErrors) func() bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Core().V1().Pods().Informer()
	if err := inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { errs.note(err) }); err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	return inf.HasSynced
}

// listUntilRefused lists pods in a loop until the server stops answering.
func listUntilRefused(client kubernetes.Interface, errs *serverErrors) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, err := client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
			errs.note(err)
			if err != nil && !apierrors.IsTimeout(err) {
				return
			}
		}
	}()
	return done
}
