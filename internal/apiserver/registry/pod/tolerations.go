package pod

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Taints the node lifecycle controller puts on a node that is not ready
// or that stopped reporting.
const (
	TaintNotReady    = "node.kubernetes.io/not-ready"
	TaintUnreachable = "node.kubernetes.io/unreachable"
)

// DefaultTolerationSeconds is upstream's admission plugin of that name:
// a new pod that does not tolerate the NoExecute not-ready and unreachable
// taints gets a toleration of each for NotReady and Unreachable seconds
// (kube-apiserver's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds, 300 by default), so that the
// taint eviction controller evicts it that long after its node fails.
type DefaultTolerationSeconds struct {
	NotReady, Unreachable int64
}

var _ registry.Hooks = DefaultTolerationSeconds{}

// BeforeCreate adds the missing tolerations.
func (d DefaultTolerationSeconds) BeforeCreate(_ context.Context, obj runtime.Object, _ bool) (registry.Pending, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return registry.Pending{}, nil
	}
	for _, def := range []struct {
		key     string
		seconds int64
	}{{TaintNotReady, d.NotReady}, {TaintUnreachable, d.Unreachable}} {
		if toleratesNoExecute(pod.Spec.Tolerations, def.key) {
			continue
		}
		seconds := def.seconds
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Key: def.key,
			Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds})
	}
	return registry.Pending{}, nil
}

// BeforeUpdate does nothing: the plugin acts on create only.
func (DefaultTolerationSeconds) BeforeUpdate(context.Context, runtime.Object, runtime.Object, bool) (registry.Pending, error) {
	return registry.Pending{}, nil
}

// AfterDelete does nothing.
func (DefaultTolerationSeconds) AfterDelete(context.Context, runtime.Object) {}

// toleratesNoExecute says whether a toleration names the key (or every
// key) with effect NoExecute (or every effect): upstream's test, which
// looks at neither operator nor value.
func toleratesNoExecute(tols []corev1.Toleration, key string) bool {
	for _, t := range tols {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}
