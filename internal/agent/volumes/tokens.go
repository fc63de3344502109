package volumes

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TokenRequester asks the API for a ServiceAccount token
// (serviceaccounts/token), as client-go's CreateToken does.
type TokenRequester interface {
	CreateToken(ctx context.Context, namespace, serviceAccount string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
}

// tokenKey identifies one token a pod's volume needs.
type tokenKey struct {
	uid      types.UID
	sa       string
	audience string
	seconds  int64
}

// token is a token the API gave, with when to ask again.
type token struct {
	value    string
	issued   time.Time
	expires  time.Time
	refresh  time.Time
	lifetime time.Duration
}

// tokens caches the pods' tokens and renews them as kubelet's token
// manager does: once 80% of the lifetime has passed, or after 24 hours,
// less up to 10 s of jitter. A failed renewal serves the old token until
// it expires.
type tokens struct {
	req TokenRequester
	now func() time.Time
	mu  sync.Mutex
	got map[tokenKey]token
}

const (
	maxTokenAge = 24 * time.Hour
	maxJitter   = 10 * time.Second
)

func (t *tokens) get(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	seconds := int64(3600)
	if src.ExpirationSeconds != nil {
		seconds = *src.ExpirationSeconds
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	key := tokenKey{uid: pod.UID, sa: sa, audience: src.Audience, seconds: seconds}
	now := t.now()
	t.mu.Lock()
	cur, ok := t.got[key]
	t.mu.Unlock()
	if ok && now.Before(cur.refresh) {
		return cur.value, nil
	}
	fresh, err := t.request(ctx, pod, key)
	if err != nil {
		if ok && now.Before(cur.expires) {
			return cur.value, nil
		}
		return "", err
	}
	t.mu.Lock()
	t.got[key] = fresh
	t.mu.Unlock()
	return fresh.value, nil
}

func (t *tokens) request(ctx context.Context, pod *corev1.Pod, key tokenKey) (token, error) {
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &key.seconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if key.audience != "" {
		req.Spec.Audiences = []string{key.audience}
	}
	if t.req == nil {
		return token{}, fmt.Errorf("failed to fetch token: no API client")
	}
	got, err := t.req.CreateToken(ctx, pod.Namespace, key.sa, req)
	if err != nil {
		return token{}, fmt.Errorf("failed to fetch token: %w", err)
	}
	exp := got.Status.ExpirationTimestamp.Time
	life := time.Duration(key.seconds) * time.Second
	if got.Spec.ExpirationSeconds != nil {
		life = time.Duration(*got.Spec.ExpirationSeconds) * time.Second
	}
	return newToken(got.Status.Token, exp, life, rand.N(maxJitter)), nil
}

// newToken works out when a token is renewed: at 80% of its lifetime or
// 24 h after it was issued, whichever comes first, less jitter.
func newToken(value string, expires time.Time, life, jitter time.Duration) token {
	issued := expires.Add(-life)
	refresh := expires.Add(-life / 5)
	if day := issued.Add(maxTokenAge); day.Before(refresh) {
		refresh = day
	}
	return token{value: value, issued: issued, expires: expires, refresh: refresh.Add(-jitter), lifetime: life}
}

// forget drops the tokens of a pod.
func (t *tokens) forget(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.got {
		if k.uid == uid {
			delete(t.got, k)
		}
	}
}

// tokenPayload is the token file of a serviceAccountToken projection.
func (m *Manager) tokenPayload(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection, defMode *int32) (map[string]File, error) {
	tok, err := m.tokens.get(ctx, pod, src)
	if err != nil {
		return nil, err
	}
	return map[string]File{src.Path: {Data: []byte(tok), Mode: modeOf(nil, defMode)}}, nil
}
