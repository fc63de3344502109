package app

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/persistentvolume"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
)

// podAdmission chains the pod admission plugins that are not disabled:
// ServiceAccount, then DefaultTolerationSeconds.
func podAdmission(cfg APIServerConfig, srv func() *apiserver.Server) registry.Hooks {
	var chain registry.Chain
	if !slices.Contains(cfg.DisableAdmission, "ServiceAccount") {
		chain = append(chain, serviceAccountAdmission(srv))
	}
	if !slices.Contains(cfg.DisableAdmission, "DefaultTolerationSeconds") {
		chain = append(chain, pod.DefaultTolerationSeconds{
			NotReady:    ptr.Deref(cfg.DefaultNotReadyTolerationSeconds, 300),
			Unreachable: ptr.Deref(cfg.DefaultUnreachableTolerationSeconds, 300)})
	}
	return chain
}

// serviceAccountAdmission is the pods' ServiceAccount admission, reading
// ServiceAccounts from the server's storage; the default one is waited
// for up to 2.5 s (a namespace created just before its pods may not have
// it yet).
func serviceAccountAdmission(srv func() *apiserver.Server) pod.Admission {
	gvr := corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	return pod.Admission{Tries: 10, Wait: 250 * time.Millisecond,
		Get: func(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
			obj, err := srv().Object(ctx, gvr, ns, name)
			if err != nil {
				return nil, err
			}
			return obj.(*corev1.ServiceAccount), nil
		}}
}

// claimAdmission chains the claim admission plugins that are not
// disabled: DefaultStorageClass, then StorageObjectInUseProtection.
func claimAdmission(cfg APIServerConfig, srv func() *apiserver.Server) registry.Hooks {
	var chain registry.Chain
	if !slices.Contains(cfg.DisableAdmission, "DefaultStorageClass") {
		chain = append(chain, persistentvolume.DefaultStorageClass{Classes: func(ctx context.Context) ([]*storagev1.StorageClass, error) {
			objs, err := srv().Objects(ctx, storagev1.SchemeGroupVersion.WithResource("storageclasses"))
			out := make([]*storagev1.StorageClass, 0, len(objs))
			for _, o := range objs {
				out = append(out, o.(*storagev1.StorageClass))
			}
			return out, err
		}})
	}
	return append(chain, volumeAdmission(cfg)...)
}

// volumeAdmission is StorageObjectInUseProtection unless disabled.
func volumeAdmission(cfg APIServerConfig) registry.Chain {
	if slices.Contains(cfg.DisableAdmission, "StorageObjectInUseProtection") {
		return nil
	}
	return registry.Chain{persistentvolume.InUseProtection{}}
}
