package probe

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Container is one running container instance to probe.
type Container struct {
	Spec      *corev1.Container
	Attempt   int
	StartedAt time.Time
}

// Event reports a probe of a container: a failure (State Unknown, with
// the message) or a change of the probe's state.
type Event struct {
	Container string
	Kind      Kind
	State     Result
	Message   string
}

// Manager keeps the probe workers of one pod's running containers.
type Manager struct {
	target  func(c *corev1.Container) Target
	onEvent func(Event)
	parent  context.Context

	mu        sync.Mutex
	instances map[string]*instance
}

// instance is the workers of one container instance.
type instance struct {
	attempt int
	cancel  context.CancelFunc
	workers map[Kind]*worker
}

// NewManager returns a manager whose workers live until ctx ends; target
// says where a container's probes go and onEvent hears every result that
// matters.
func NewManager(ctx context.Context, target func(*corev1.Container) Target, onEvent func(Event)) *Manager {
	return &Manager{parent: ctx, target: target, onEvent: onEvent, instances: map[string]*instance{}}
}

// Sync runs workers for exactly the given running containers: new
// instances get fresh workers, instances no longer running lose theirs.
func (m *Manager) Sync(running []Container) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := map[string]bool{}
	for _, c := range running {
		keep[c.Spec.Name] = true
		if in, ok := m.instances[c.Spec.Name]; ok && in.attempt == c.Attempt {
			continue
		}
		m.stopLocked(c.Spec.Name)
		m.instances[c.Spec.Name] = m.start(c)
	}
	for name := range m.instances {
		if !keep[name] {
			m.stopLocked(name)
		}
	}
}

func (m *Manager) start(c Container) *instance {
	ctx, cancel := context.WithCancel(m.parent)
	in := &instance{attempt: c.Attempt, cancel: cancel, workers: map[Kind]*worker{}}
	target := m.target(c.Spec)
	probes := map[Kind]*corev1.Probe{Liveness: c.Spec.LivenessProbe, Readiness: c.Spec.ReadinessProbe, Startup: c.Spec.StartupProbe}
	for kind, p := range probes {
		if p == nil {
			continue
		}
		name := c.Spec.Name
		w := &worker{kind: kind, probe: p, target: target, started: c.StartedAt, state: initial(kind),
			onChange: func(k Kind, r Result, msg string) { m.onEvent(Event{Container: name, Kind: k, State: r, Message: msg}) }}
		if kind == Startup {
			w.gate = func() bool { return !m.started(name) }
		} else if c.Spec.StartupProbe != nil {
			w.gate = func() bool { return m.started(name) }
		}
		in.workers[kind] = w
		go w.run(ctx)
	}
	return in
}

func (m *Manager) stopLocked(name string) {
	if in, ok := m.instances[name]; ok {
		in.cancel()
		delete(m.instances, name)
	}
}

// Stop ends every worker.
func (m *Manager) Stop() { m.Sync(nil) }

func (m *Manager) state(name string, attempt int, kind Kind) (Result, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.instances[name]
	if !ok || (attempt >= 0 && in.attempt != attempt) {
		return Unknown, false
	}
	w, ok := in.workers[kind]
	if !ok {
		return Unknown, false
	}
	return w.result(), true
}

// started says whether the named container's running instance passed its
// startup probe (true when it has none); the workers' gates ask it.
func (m *Manager) started(name string) bool {
	r, ok := m.state(name, -1, Startup)
	return !ok || r == Success
}

// Started says whether instance attempt of container c passed its
// startup probe (true when c has none). A probe with no result for that
// instance yet (no worker, or a worker of an earlier instance) has not
// passed: as the kubelet, whose results are kept per container ID.
func (m *Manager) Started(c *corev1.Container, attempt int) bool {
	return m.passed(c, attempt, Startup, c.StartupProbe)
}

// Ready says whether instance attempt of container c is started and its
// readiness probe passes (true when it has none), with Started's rule for
// probes that have not run.
func (m *Manager) Ready(c *corev1.Container, attempt int) bool {
	return m.Started(c, attempt) && m.passed(c, attempt, Readiness, c.ReadinessProbe)
}

func (m *Manager) passed(c *corev1.Container, attempt int, kind Kind, p *corev1.Probe) bool {
	if p == nil {
		return true
	}
	r, ok := m.state(c.Name, attempt, kind)
	return ok && r == Success
}

// Unhealthy says whether the container must be restarted: its liveness
// probe failed, or its startup probe did after it had run.
func (m *Manager) Unhealthy(name string) (Kind, bool) {
	if r, ok := m.state(name, -1, Liveness); ok && r == Failure {
		return Liveness, true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if in, ok := m.instances[name]; ok && in.workers[Startup] != nil && in.workers[Startup].failedStartup() {
		return Startup, true
	}
	return Startup, false
}
