package satoken

import (
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// privateClaims is the "kubernetes.io" claim of a bound token, with
// upstream's field names.
type privateClaims struct {
	Kubernetes kubernetesClaims `json:"kubernetes.io,omitempty"`
}

type kubernetesClaims struct {
	Namespace string           `json:"namespace,omitempty"`
	Svcacct   ref              `json:"serviceaccount,omitempty"`
	Pod       *ref             `json:"pod,omitempty"`
	Secret    *ref             `json:"secret,omitempty"`
	Node      *ref             `json:"node,omitempty"`
	WarnAfter *jwt.NumericDate `json:"warnafter,omitempty"`
}

type ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Binding is the object a token is bound to: at most one of Pod, Secret
// and Node, or Pod with the Node it runs on (whose UID may be empty when
// the Node is not found).
type Binding struct {
	Pod    *corev1.Pod
	Secret *corev1.Secret
	Node   *corev1.Node
}

func (b Binding) check() error {
	if b.Secret != nil && (b.Pod != nil || b.Node != nil) {
		return errors.New("a token can only be bound to one object")
	}
	if b.Pod == nil && b.Secret == nil && b.Node != nil && b.Node.Name == "" {
		return errors.New("the bound node has no name")
	}
	return nil
}

// claims builds a token's public claims but iss and aud, and its private
// claims: issued now, valid for lifetime, with warnafter set when
// warnAfter is not zero.
func claims(sa *corev1.ServiceAccount, b Binding, now time.Time, lifetime, warnAfter time.Duration) (*jwt.Claims, *privateClaims) {
	pub := &jwt.Claims{
		Subject:   Username(sa.Namespace, sa.Name),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(lifetime)),
		ID:        string(uuid.NewUUID()),
	}
	k := kubernetesClaims{Namespace: sa.Namespace, Svcacct: ref{Name: sa.Name, UID: string(sa.UID)}}
	switch {
	case b.Pod != nil:
		k.Pod = &ref{Name: b.Pod.Name, UID: string(b.Pod.UID)}
		if b.Node != nil {
			k.Node = &ref{Name: b.Node.Name, UID: string(b.Node.UID)}
		}
	case b.Secret != nil:
		k.Secret = &ref{Name: b.Secret.Name, UID: string(b.Secret.UID)}
	case b.Node != nil:
		k.Node = &ref{Name: b.Node.Name, UID: string(b.Node.UID)}
	}
	if warnAfter != 0 {
		k.WarnAfter = jwt.NewNumericDate(now.Add(warnAfter))
	}
	return pub, &privateClaims{Kubernetes: k}
}
