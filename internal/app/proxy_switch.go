package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/proxy"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// switchTimeout bounds how long a new configuration may take to program
// its first rules before the switch is abandoned.
const switchTimeout = 60 * time.Second

func (c ProxyConfig) switchTimeout() time.Duration {
	if c.switchWait > 0 {
		return c.switchWait
	}
	return switchTimeout
}

// proxyNode is what every generation of a node's proxy shares: the API
// client, the node's identity and the observers behind /healthz and
// /metrics.
type proxyNode struct {
	cfg    ProxyConfig
	client kubernetes.Interface
	name   string
	ips    []netip.Addr
	obs    *proxyObservers
	events record.EventRecorder
	log    *slog.Logger
}

// proxyGen is one running proxier: one configuration, its backends and
// its sync loop.
type proxyGen struct {
	kp       *kpv1.KubeProxyConfiguration
	mode     proxy.Mode // the mode its backends really run
	families []proxy.FamilyConfig
	cancel   context.CancelFunc
	done     chan struct{} // closed when its sync loop has returned
	synced   chan struct{} // closed once every family has synced
}

// start runs a generation for kp. It returns once its informers have
// synced; its first rules follow at once.
func (n *proxyNode) start(ctx context.Context, kp *kpv1.KubeProxyConfiguration) (*proxyGen, error) {
	gctx, cancel := context.WithCancel(ctx)
	cfg := n.cfg
	cfg.KubeProxy = kp
	fams, err := proxyFamilies(gctx, proxyMode(kp), cfg, n.ips)
	if proxyMode(kp) == proxy.ModeIPVS && errors.Is(err, proxy.ErrUnavailable) {
		n.ipvsFallback(err)
		fams, err = proxyFamilies(gctx, proxy.ModeIPTables, cfg, n.ips)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	g := &proxyGen{kp: kp, mode: fams[0].Backend.Mode(), families: fams, cancel: cancel,
		done: make(chan struct{}), synced: make(chan struct{})}
	minSync, sync := proxyconfig.SyncPeriods(kp)
	p := proxy.NewProxier(proxy.ProxierConfig{
		NodeName:      n.name,
		Families:      fams,
		MinSyncPeriod: minSync,
		SyncPeriod:    sync,
		Conntrack:     n.cfg.conntrack(),
		Hooks:         g.hooks(n.obs.hooks()),
		Logger:        n.log,
	}, n.obs.triggerTime)
	go func() {
		defer close(g.done)
		p.Run(gctx)
	}()
	if err := proxy.Watch(gctx, n.client, p, 0); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

// hooks chain the observers' hooks with the generation's first-sync
// signal. The sync loop calls them from one goroutine.
func (g *proxyGen) hooks(h proxy.Hooks) proxy.Hooks {
	done := map[corev1.IPFamily]bool{}
	next := h.Synced
	h.Synced = func(i proxy.SyncInfo) {
		if next != nil {
			next(i)
		}
		if i.Err != nil || len(done) == len(g.families) {
			return
		}
		done[i.Family] = true
		if len(done) == len(g.families) {
			close(g.synced)
		}
	}
	return h
}

// stop ends the generation's sync loop and informers, leaving its rules.
func (g *proxyGen) stop() {
	g.cancel()
	<-g.done
}

// waitSynced waits for the generation's first rules.
func (g *proxyGen) waitSynced(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-g.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%s mode programmed no rules within %s", g.mode, timeout)
	}
}

// cleanup removes the generation's rules; it must be stopped.
func (g *proxyGen) cleanup(ctx context.Context) error {
	var errs []error
	for _, f := range g.families {
		if err := f.Backend.Cleanup(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s %s: %w", g.mode, f.Family, err))
		}
	}
	return errors.Join(errs...)
}

// retire removes the rules of a stopped generation now that next runs
// beside them: through the backend's Handover where it has one (the
// userspace mode lets its open connections finish), else Cleanup.
func (g *proxyGen) retire(ctx context.Context, next proxy.Mode) error {
	var errs []error
	for _, f := range g.families {
		if h, ok := f.Backend.(proxy.Handover); ok {
			errs = append(errs, h.Handover(ctx, next))
		} else {
			errs = append(errs, f.Backend.Cleanup(ctx))
		}
	}
	return errors.Join(errs...)
}

// handover removes what only g's mode uses, now that next runs over the
// rules both share (for the same mode: what the next generation does not
// reuse, such as userspace listeners).
func (g *proxyGen) handover(ctx context.Context, next proxy.Mode) error {
	var errs []error
	for _, f := range g.families {
		if h, ok := f.Backend.(proxy.Handover); ok {
			errs = append(errs, h.Handover(ctx, next))
		}
	}
	return errors.Join(errs...)
}

// replace moves the node from old to a generation running kp, without a
// moment where Service traffic has no rules: a mode whose rules do not
// collide with old's is started and synced before old's rules are removed;
// a mode sharing old's rule names takes them over in place with a full
// sync. When the new generation cannot be started, old keeps running (or
// is started again) and the error says why.
func (n *proxyNode) replace(ctx context.Context, old *proxyGen, kp *kpv1.KubeProxyConfiguration) (*proxyGen, error) {
	shared := proxy.SharesRules(old.mode, proxyMode(kp))
	if shared {
		old.stop()
	}
	g, err := n.start(ctx, kp)
	if err == nil {
		if err = g.waitSynced(ctx, n.cfg.switchTimeout()); err != nil {
			g.stop()
			if !proxy.SharesRules(old.mode, g.mode) {
				n.logErr("remove the failed mode's rules", g.cleanup(context.WithoutCancel(ctx)))
			}
		}
	}
	if err != nil {
		if !shared {
			return old, err
		}
		back, rerr := n.start(ctx, old.kp)
		if rerr != nil {
			return nil, errors.Join(err, fmt.Errorf("restart the previous configuration: %w", rerr))
		}
		if g != nil && back.waitSynced(ctx, n.cfg.switchTimeout()) == nil {
			n.logErr("hand the failed generation's rules over", g.handover(ctx, back.mode))
		}
		return back, err
	}
	if proxy.SharesRules(old.mode, g.mode) {
		n.logErr("hand the shared rules over", old.handover(ctx, g.mode))
		return g, nil
	}
	old.stop()
	n.logErr("remove the previous mode's rules", old.retire(context.WithoutCancel(ctx), g.mode))
	return g, nil
}

// cleanupOthers removes the rules other modes left in the namespace, as
// kube-proxy does at start, so that changing the mode and restarting the
// proxy (the tutorials' way) leaves nothing of the old mode behind.
func (n *proxyNode) cleanupOthers(ctx context.Context, running proxy.Mode) {
	for _, mode := range allModes() {
		if mode == running {
			continue
		}
		for _, fam := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
			b, err := n.cfg.backend(ctx, mode, fam, n.cfg)
			if err != nil {
				continue
			}
			if !proxy.SharesRules(mode, running) {
				n.logErr("remove "+string(mode)+" rules", b.Cleanup(ctx))
			} else if h, ok := b.(proxy.Handover); ok {
				n.logErr("remove "+string(mode)+" rules", h.Handover(ctx, running))
			}
		}
	}
}

func (n *proxyNode) logErr(what string, err error) {
	if err != nil {
		n.log.Warn(what, "err", err)
	}
}

// configVersion is one version of the proxy's configuration text and the
// object its Events are about (the ConfigMap, or the Node for a file).
type configVersion struct {
	text  string
	about runtime.Object
	where string // for logs: configmap ns/name or file path
}

// follow applies every version the source sends to latest until ctx
// ends. A configuration that does not decode or validate leaves the
// running one in place, with a log line and a Warning Event.
func (n *proxyNode) follow(ctx context.Context, g *proxyGen, source func(context.Context, chan configVersion) error) error {
	latest := make(chan configVersion, 1)
	if err := source(ctx, latest); err != nil {
		g.stop()
		return err
	}
	for {
		select {
		case <-ctx.Done():
			g.stop()
			return nil
		case v := <-latest:
			g = n.apply(ctx, g, v)
			if g == nil {
				return fmt.Errorf("proxy stopped: no configuration could be started")
			}
		}
	}
}

// offer puts v in latest, replacing a version not yet taken.
func offer(latest chan configVersion, v configVersion) {
	select {
	case <-latest:
	default:
	}
	latest <- v
}

// apply switches to v's configuration when it differs from g's.
func (n *proxyNode) apply(ctx context.Context, g *proxyGen, v configVersion) *proxyGen {
	kp, err := proxyconfig.Decode([]byte(v.text))
	if err != nil {
		n.log.Error("kube-proxy configuration not applied; the proxy keeps its configuration",
			"from", v.where, "err", err)
		n.events.Eventf(v.about, corev1.EventTypeWarning, "InvalidConfiguration",
			"%s not applied, the proxy keeps running %s mode: %v", kubeProxyConfigKey, g.mode, err)
		return g
	}
	if n.cfg.Override != nil {
		n.cfg.Override(kp)
	}
	if sameProxyConfig(kp, g.kp) {
		return g
	}
	from, start := g.mode, time.Now()
	next, err := n.replace(ctx, g, kp)
	if err != nil {
		running := "no"
		if next != nil {
			running = string(next.mode)
		}
		n.log.Error("kube-proxy configuration not applied", "err", err, "running", running)
		n.events.Eventf(v.about, corev1.EventTypeWarning, "ConfigurationNotApplied",
			"%s not applied, the proxy runs %s mode: %v", kubeProxyConfigKey, running, err)
		return next
	}
	took := time.Since(start).Round(time.Millisecond)
	n.log.Info("kube-proxy configuration applied", "from", string(from), "mode", string(next.mode), "took", took, "source", v.where)
	n.events.Eventf(v.about, corev1.EventTypeNormal, "ConfigurationApplied",
		"proxy mode %s -> %s, rules programmed in %s", from, next.mode, took)
	return next
}

// sameProxyConfig compares two configurations as written and read back,
// so that defaults filled on one side only do not count as a change.
func sameProxyConfig(a, b *kpv1.KubeProxyConfiguration) bool {
	x, err1 := normalProxyConfig(a)
	y, err2 := normalProxyConfig(b)
	return err1 == nil && err2 == nil && x == y
}

func normalProxyConfig(c *kpv1.KubeProxyConfiguration) (string, error) {
	data, err := proxyconfig.Marshal(c)
	if err != nil {
		return "", err
	}
	back, err := proxyconfig.Decode(data)
	if err != nil {
		return "", err
	}
	data, err = proxyconfig.Marshal(back)
	return string(data), err
}

// configMapSource sends each version of ConfigMap ns/name's config.conf.
func (n *proxyNode) configMapSource(ns, name string) func(context.Context, chan configVersion) error {
	return func(ctx context.Context, latest chan configVersion) error {
		f := informers.NewSharedInformerFactoryWithOptions(n.client, 0, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}))
		inf := f.Core().V1().ConfigMaps().Informer()
		send := func(obj any) {
			if cm, ok := obj.(*corev1.ConfigMap); ok {
				offer(latest, configVersion{text: cm.Data[kubeProxyConfigKey], about: cm, where: "configmap " + ns + "/" + name})
			}
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    send,
			UpdateFunc: func(_, cur any) { send(cur) },
		}); err != nil {
			return err
		}
		f.Start(ctx.Done())
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return fmt.Errorf("kube-proxy ConfigMap informer: %w", ctx.Err())
		}
		return nil
	}
}

// fileSource sends the content of the --config file each time it
// changes, read every period: in the kube-proxy DaemonSet's pod the file
// is the kube-proxy ConfigMap's volume, which the agent refreshes. Where
// kube-proxy exits on such a change to be restarted with the new file,
// this proxy switches live. Events are about the node.
func (n *proxyNode) fileSource(path string, period time.Duration) func(context.Context, chan configVersion) error {
	node := &corev1.ObjectReference{Kind: "Node", Name: n.name, UID: types.UID(n.name)}
	return func(ctx context.Context, latest chan configVersion) error {
		last, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("kube-proxy configuration file: %w", err)
		}
		go func() {
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				cur, err := os.ReadFile(path)
				if err != nil || bytes.Equal(cur, last) {
					continue // a volume refresh swaps the file: read it next time
				}
				last = cur
				offer(latest, configVersion{text: string(cur), about: node, where: "file " + path})
			}
		}()
		return nil
	}
}
