package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const liveViewManifest = `apiVersion: v1
kind: Namespace
metadata: {name: live}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: live}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: nginx, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: live}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80}]
`

// liveViewCount is what the page shows of live/web: its pods that are
// not terminating, the ready ones, and the ways the node's iptables rules
// take to a pod.
const liveViewCount = `(() => {
  const s = document.querySelector('section.svc[data-svc="live/web"]');
  if (!s) return "none";
  const live = s.querySelectorAll('.pod:not([data-state="terminating"])').length;
  const ready = s.querySelectorAll('.pod[data-state="ready"]').length;
  const ways = s.querySelectorAll('.pod .way[data-mode="iptables"]:not(.verdict)').length;
  return live + " pods, " + ready + " ready, " + ways + " ways";
})()`

// TestLiveView is issue 16's "see it": headless Chromium loads up's live
// view of a Deployment of 3 pods behind a Service, finds the three pods
// and the iptables rule to each, saves a screenshot, and after a scale to
// 2 sees one pod and its rule go within a second.
func TestLiveView(t *testing.T) {
	t.Parallel()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("needs chromium (Debian's package; hack/deps.sh installs it)")
	}
	s := startSandbox(t, "--ui-port", "0")
	url := liveViewURL(t, s)
	s.apply(t, liveViewManifest)
	s.waitFor(t, 60*time.Second, "3 web pods Ready", func() (bool, string) {
		out, _ := s.kubectl("-n", "live", "get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}")
		return out == "3", out
	})
	ctx := newBrowser(t, browser)
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 1000)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	waitPage(t, ctx, 20*time.Second, "3 pods, 3 ready, 3 ways")
	// The page's namespace filter: the screenshot shows live/web alone.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](selectNamespace)); err != nil {
		t.Fatalf("choose the namespace: %v", err)
	}
	waitPage(t, ctx, 5*time.Second, "3 pods, 3 ready, 3 ways")
	// With -artifacts (hack/test.sh) the screenshots stay in
	// _output/test-artifacts; without, they go with the test.
	artifacts := t.ArtifactDir()
	screenshot(t, ctx, filepath.Join(artifacts, "three-pods.png"))

	start := time.Now()
	s.must(t, "-n", "live", "scale", "deploy", "web", "--replicas=2")
	took := waitPage(t, ctx, 20*time.Second, "2 pods, 2 ready, 2 ways")
	t.Logf("the page showed one pod and its rule gone %s after kubectl scale returned (%s after it started)", took, time.Since(start))
	screenshot(t, ctx, filepath.Join(artifacts, "two-pods.png"))
	if took > time.Second {
		t.Errorf("one pod and its rule left the page after %s, want within 1s", took)
	}
}

// selectNamespace chooses the namespace live in the page's filter.
const selectNamespace = `(() => {
  const sel = document.getElementById("ns");
  sel.value = "live";
  sel.dispatchEvent(new Event("change"));
  return sel.value === "live";
})()`

// liveViewURL is the address up printed for its live view.
func liveViewURL(t *testing.T, s *sandbox) string {
	t.Helper()
	re := regexp.MustCompile(`svcplane: live view at (http://127\.0\.0\.1:\d+/)`)
	var url string
	s.waitFor(t, 10*time.Second, "the live view's address", func() (bool, string) {
		m := re.FindStringSubmatch(s.output())
		if m != nil {
			url = m[1]
		}
		return m != nil, tail(s.output(), 5)
	})
	return url
}

// newBrowser starts headless Chromium (as root it needs --no-sandbox),
// with a profile of its own; it is stopped and removed when the test
// ends.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// waitPage polls the page every 20 ms until it shows want, and returns
// how long that took.
func waitPage(t *testing.T, ctx context.Context, timeout time.Duration, want string) time.Duration {
	t.Helper()
	start := time.Now()
	var got string
	for time.Since(start) < timeout {
		var err error
		if got, err = chromedp.Run(ctx, chromedp.Evaluate[string](liveViewCount)); err != nil {
			t.Fatalf("read the page: %v", err)
		}
		if got == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML("main"))
	t.Fatalf("the page shows %q, want %q within %s:\n%s", got, want, timeout, html)
	return 0
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
