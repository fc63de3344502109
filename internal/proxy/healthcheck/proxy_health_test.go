package healthcheck

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

type recorder struct{ healthz, livez []int }

func (r *recorder) HealthzResponse(code int) { r.healthz = append(r.healthz, code) }
func (r *recorder) LivezResponse(code int)   { r.livez = append(r.livez, code) }

// step is one event in a ProxyHealth's life.
type step struct {
	advance time.Duration
	queue   corev1.IPFamily
	update  corev1.IPFamily
	node    *corev1.Node
}

func TestProxyHealth(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	deleting := &corev1.Node{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{}}}
	tainted := &corev1.Node{Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: ToBeDeletedTaint}}}}
	tests := []struct {
		name              string
		steps             []step
		healthz, livez    int
		wantEligible      bool
		wantFamilyHealthy map[corev1.IPFamily]bool
	}{
		{"starting", nil, 200, 200, true, map[corev1.IPFamily]bool{}},
		{"queued before the first update", []step{{queue: v4}, {advance: time.Hour}}, 200, 200, true, map[corev1.IPFamily]bool{}},
		{"synced", []step{{update: v4}, {advance: time.Hour}}, 200, 200, true, map[corev1.IPFamily]bool{v4: true}},
		{"queued, not late", []step{{update: v4}, {queue: v4}, {advance: 59 * time.Second}}, 200, 200, true,
			map[corev1.IPFamily]bool{v4: true}},
		{"queued, late", []step{{update: v4}, {queue: v4}, {advance: 60 * time.Second}}, 503, 503, true,
			map[corev1.IPFamily]bool{v4: false}},
		{"oldest queue counts", []step{{update: v4}, {queue: v4}, {advance: 30 * time.Second}, {queue: v4}, {advance: 30 * time.Second}},
			503, 503, true, map[corev1.IPFamily]bool{v4: false}},
		{"late then updated", []step{{update: v4}, {queue: v4}, {advance: time.Hour}, {update: v4}}, 200, 200, true,
			map[corev1.IPFamily]bool{v4: true}},
		{"one family late", []step{{update: v4}, {update: v6}, {queue: v6}, {advance: 2 * time.Minute}}, 503, 503, true,
			map[corev1.IPFamily]bool{v4: true, v6: false}},
		{"node being deleted", []step{{update: v4}, {node: deleting}}, 503, 200, false, map[corev1.IPFamily]bool{v4: true}},
		{"node tainted by the autoscaler", []step{{update: v4}, {node: tainted}}, 503, 200, false, map[corev1.IPFamily]bool{v4: true}},
		{"node back", []step{{node: tainted}, {node: &corev1.Node{}}}, 200, 200, true, map[corev1.IPFamily]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			rec := &recorder{}
			h := NewProxyHealth(ProxyHealthConfig{Clock: clk, Timeout: time.Minute, Observer: rec})
			for _, s := range tt.steps {
				clk.Step(s.advance)
				if s.queue != "" {
					h.QueuedUpdate(s.queue)
				}
				if s.update != "" {
					h.Updated(s.update)
				}
				if s.node != nil {
					h.SyncNode(s.node)
				}
			}
			hz := get(t, h.Handler(), "/healthz")
			lz := get(t, h.Handler(), "/livez")
			if hz.code != tt.healthz || lz.code != tt.livez {
				t.Errorf("/healthz %d /livez %d, want %d %d", hz.code, lz.code, tt.healthz, tt.livez)
			}
			if hz.status.NodeEligible == nil || *hz.status.NodeEligible != tt.wantEligible || lz.status.NodeEligible != nil {
				t.Errorf("nodeEligible /healthz %v /livez %v, want %v and absent", hz.status.NodeEligible, lz.status.NodeEligible, tt.wantEligible)
			}
			got := map[corev1.IPFamily]bool{}
			for f, s := range hz.status.Status {
				got[f] = s.Healthy
			}
			if d := cmp.Diff(tt.wantFamilyHealthy, got); d != "" {
				t.Errorf("per-family health (-want +got):\n%s", d)
			}
			if hz.code == 200 && !hz.status.LastUpdated.Equal(clk.Now()) {
				t.Errorf("healthy lastUpdated = %v, want now %v", hz.status.LastUpdated, clk.Now())
			}
			if d := cmp.Diff([]int{tt.healthz}, rec.healthz); d != "" {
				t.Errorf("observed healthz codes (-want +got):\n%s", d)
			}
		})
	}
}

type answer struct {
	code   int
	status Status
}

func get(t *testing.T, h http.Handler, path string) answer {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if ct, nosniff := w.Header().Get("Content-Type"), w.Header().Get("X-Content-Type-Options"); ct != "application/json" || nosniff != "nosniff" {
		t.Errorf("%s headers: Content-Type %q X-Content-Type-Options %q", path, ct, nosniff)
	}
	var st Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatalf("%s body %q: %v", path, w.Body.String(), err)
	}
	return answer{w.Code, st}
}

func TestProxyHealthBody(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	h := NewProxyHealth(ProxyHealthConfig{Clock: clk, Timeout: time.Minute})
	h.Updated(corev1.IPv4Protocol)
	clk.Step(time.Second)
	w := httptest.NewRecorder()
	h.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	want := `{"lastUpdated":"2026-01-02T03:04:06Z","currentTime":"2026-01-02T03:04:06Z","nodeEligible":true,` +
		`"healthy":true,"status":{"IPv4":{"lastUpdated":"2026-01-02T03:04:05Z","healthy":true}}}`
	if d := cmp.Diff(want, w.Body.String()); d != "" {
		t.Errorf("/healthz body (-want +got):\n%s", d)
	}
}
