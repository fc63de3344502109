package healthcheck

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// ToBeDeletedTaint is the taint the cluster autoscaler puts on a node it is
// about to delete; /healthz fails on such a node.
const ToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler"

// DefaultTimeout is 2 x the default syncPeriod of 30 s.
const DefaultTimeout = time.Minute

// Observer is told the status code of every /healthz and /livez answer
// (kube-proxy's kubeproxy_proxy_healthz_total and _livez_total).
type Observer interface {
	HealthzResponse(code int)
	LivezResponse(code int)
}

// ProxyHealthConfig configures a ProxyHealth.
type ProxyHealthConfig struct {
	// Clock defaults to the real clock.
	Clock clock.PassiveClock
	// Timeout is how long a queued update may stay unapplied before the
	// proxy is unhealthy; kube-proxy uses 2 x syncPeriod. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Observer, if set, counts the answers.
	Observer Observer
}

// ProxyHealth tracks whether the proxy applies the changes it receives in
// time, per IP family. It is safe for concurrent use.
type ProxyHealth struct {
	cfg ProxyHealthConfig

	mu           sync.RWMutex
	lastUpdated  map[corev1.IPFamily]time.Time
	oldestQueued map[corev1.IPFamily]time.Time
	nodeEligible bool
}

// Status is the JSON body of /healthz and /livez, field for field as
// kube-proxy writes it.
type Status struct {
	// LastUpdated is the latest successful sync of any family (the current
	// time when healthy, as kube-proxy answers for compatibility).
	LastUpdated  time.Time `json:"lastUpdated"`
	CurrentTime  time.Time `json:"currentTime"`
	NodeEligible *bool     `json:"nodeEligible,omitempty"`
	Healthy      bool      `json:"healthy"`
	// Status is the health of each family's proxier.
	Status map[corev1.IPFamily]ProxierStatus `json:"status,omitempty"`
}

// ProxierStatus is the health of the proxier of one IP family.
type ProxierStatus struct {
	LastUpdated time.Time `json:"lastUpdated"`
	Healthy     bool      `json:"healthy"`
}

// NewProxyHealth returns a ProxyHealth; the node counts as eligible until
// SyncNode says otherwise.
func NewProxyHealth(cfg ProxyHealthConfig) *ProxyHealth {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &ProxyHealth{
		cfg:          cfg,
		lastUpdated:  map[corev1.IPFamily]time.Time{},
		oldestQueued: map[corev1.IPFamily]time.Time{},
		nodeEligible: true,
	}
}

// QueuedUpdate records that family's proxier received a change it has not
// applied yet; only the oldest pending change counts.
func (h *ProxyHealth) QueuedUpdate(family corev1.IPFamily) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.oldestQueued[family]; !ok {
		h.oldestQueued[family] = h.cfg.Clock.Now()
	}
}

// Updated records that family's proxier applied every change it had.
func (h *ProxyHealth) Updated(family corev1.IPFamily) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.oldestQueued, family)
	h.lastUpdated[family] = h.cfg.Clock.Now()
}

// SyncNode records whether the proxy's node is eligible for traffic: not
// being deleted and not tainted ToBeDeletedByClusterAutoscaler. A nil node
// (deleted) is not eligible.
func (h *ProxyHealth) SyncNode(node *corev1.Node) {
	eligible := node != nil && node.DeletionTimestamp == nil
	if eligible {
		for _, t := range node.Spec.Taints {
			if t.Key == ToBeDeletedTaint {
				eligible = false
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nodeEligible = eligible
}

// NodeEligible reports the last SyncNode verdict.
func (h *ProxyHealth) NodeEligible() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.nodeEligible
}

// Healthy says whether every family's proxier is healthy (ignoring the
// node), what service health checks report as serviceProxyHealthy.
func (h *ProxyHealth) Healthy() bool { return h.Health().Healthy }

// Health computes the proxy's health. A proxier is healthy while starting
// (never updated), when nothing is queued, or when the oldest queued
// change is younger than the timeout.
func (h *ProxyHealth) Health() Status {
	h.mu.RLock()
	defer h.mu.RUnlock()
	now := h.cfg.Clock.Now()
	st := Status{CurrentTime: now, Healthy: true, Status: map[corev1.IPFamily]ProxierStatus{}}
	for family, last := range h.lastUpdated {
		if last.After(st.LastUpdated) {
			st.LastUpdated = last
		}
		healthy := true
		if queued, ok := h.oldestQueued[family]; ok && now.Sub(queued) >= h.cfg.Timeout {
			healthy = false
			st.Healthy = false
		}
		st.Status[family] = ProxierStatus{LastUpdated: last, Healthy: healthy}
	}
	return st
}

// Handler serves /healthz and /livez.
func (h *ProxyHealth) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", h.serveHealthz)
	mux.HandleFunc("/livez", h.serveLivez)
	return mux
}

func (h *ProxyHealth) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	st := h.Health()
	eligible := h.NodeEligible()
	st.NodeEligible = &eligible
	code := h.write(w, st, st.Healthy && eligible)
	if h.cfg.Observer != nil {
		h.cfg.Observer.HealthzResponse(code)
	}
}

func (h *ProxyHealth) serveLivez(w http.ResponseWriter, _ *http.Request) {
	st := h.Health()
	code := h.write(w, st, st.Healthy)
	if h.cfg.Observer != nil {
		h.cfg.Observer.LivezResponse(code)
	}
}

func (h *ProxyHealth) write(w http.ResponseWriter, st Status, healthy bool) int {
	code := http.StatusServiceUnavailable
	if healthy {
		code = http.StatusOK
		st.LastUpdated = st.CurrentTime
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	body, _ := json.Marshal(st) // cannot fail for this type
	_, _ = w.Write(body)
	return code
}
