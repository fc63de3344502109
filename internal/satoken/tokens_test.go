package satoken

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

const issuer = "https://kubernetes.default.svc.cluster.local"

// fakeObjects is a map of objects by kind/namespace/name.
type fakeObjects struct {
	mu   sync.Mutex
	objs map[string]metav1.Object
}

func (f *fakeObjects) put(kind string, o metav1.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[kind+"/"+o.GetNamespace()+"/"+o.GetName()] = o
}

func (f *fakeObjects) del(kind string, o metav1.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objs, kind+"/"+o.GetNamespace()+"/"+o.GetName())
}

func get[T metav1.Object](f *fakeObjects, kind, ns, name string) (T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objs[kind+"/"+ns+"/"+name]
	if !ok {
		var zero T
		return zero, apierrors.NewNotFound(schema.GroupResource{Resource: kind}, name)
	}
	return o.(T), nil
}

func (f *fakeObjects) ServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return get[*corev1.ServiceAccount](f, "sa", ns, name)
}
func (f *fakeObjects) Pod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	return get[*corev1.Pod](f, "pod", ns, name)
}
func (f *fakeObjects) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	return get[*corev1.Secret](f, "secret", ns, name)
}
func (f *fakeObjects) Node(_ context.Context, name string) (*corev1.Node, error) {
	return get[*corev1.Node](f, "node", "", name)
}

type world struct {
	objs   *fakeObjects
	tokens *Tokens
	now    *time.Time
	sa     *corev1.ServiceAccount
	pod    *corev1.Pod
	node   *corev1.Node
	secret *corev1.Secret
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newWorld(t *testing.T) *world {
	t.Helper()
	now := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	w := &world{objs: &fakeObjects{objs: map[string]metav1.Object{}}, now: &now}
	meta := func(ns, name, uid string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}
	}
	w.sa = &corev1.ServiceAccount{ObjectMeta: meta("default", "x", "sa-uid")}
	w.node = &corev1.Node{ObjectMeta: meta("", "n1", "node-uid")}
	w.pod = &corev1.Pod{ObjectMeta: meta("default", "p", "pod-uid"), Spec: corev1.PodSpec{ServiceAccountName: "x", NodeName: "n1"}}
	w.secret = &corev1.Secret{ObjectMeta: meta("default", "s", "secret-uid")}
	w.objs.put("sa", w.sa)
	w.objs.put("node", w.node)
	w.objs.put("pod", w.pod)
	w.objs.put("secret", w.secret)
	tokens, err := New(Config{Key: testKey(), Issuer: issuer, Objects: w.objs, Now: func() time.Time { return *w.now }})
	if err != nil {
		t.Fatal(err)
	}
	w.tokens = tokens
	return w
}

func (w *world) issue(t *testing.T, req Request) Issued {
	t.Helper()
	if req.ServiceAccount == nil {
		req.ServiceAccount = w.sa
	}
	out, err := w.tokens.Issue(req)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// payload decodes a token's claims without checking them.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenValidation(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// issue returns the token; change alters the world after.
		issue   func(t *testing.T, w *world) string
		change  func(w *world)
		auds    []string
		wantErr string
	}{
		{name: "plain token", issue: func(t *testing.T, w *world) string { return w.issue(t, Request{}).Token }},
		{name: "pod-bound", issue: podToken},
		{name: "secret-bound", issue: func(t *testing.T, w *world) string {
			return w.issue(t, Request{Binding: Binding{Secret: w.secret}}).Token
		}},
		{name: "valid until the last leeway minute", issue: podToken,
			change: func(w *world) { *w.now = w.now.Add(time.Hour + 59*time.Second) }},
		{name: "expired", issue: podToken, wantErr: "service account token has expired",
			change: func(w *world) { *w.now = w.now.Add(time.Hour + 2*time.Minute) }},
		{name: "issued in the future", issue: podToken, wantErr: "service account token",
			change: func(w *world) { *w.now = w.now.Add(-5 * time.Minute) }},
		{name: "other audience", issue: func(t *testing.T, w *world) string {
			return w.issue(t, Request{Audiences: []string{"vault"}}).Token
		}, wantErr: `token audiences ["vault"] is invalid for the target audiences ["` + issuer + `"]`},
		{name: "other audience asked for", issue: func(t *testing.T, w *world) string {
			return w.issue(t, Request{Audiences: []string{"vault"}}).Token
		}, auds: []string{"vault"}},
		{name: "forged signature", issue: func(t *testing.T, w *world) string {
			tok := podToken(t, w)
			return tok[:len(tok)-4] + "AAAA"
		}, wantErr: "cryptographic"},
		{name: "signed by another key", issue: func(t *testing.T, w *world) string {
			forger, err := New(Config{Key: other, Issuer: issuer, Objects: w.objs})
			if err != nil {
				t.Fatal(err)
			}
			out, err := forger.Issue(Request{ServiceAccount: w.sa})
			if err != nil {
				t.Fatal(err)
			}
			return out.Token
		}, wantErr: "no key with id"},
		{name: "another issuer", issue: func(t *testing.T, w *world) string {
			forger, _ := New(Config{Key: testKey(), Issuer: "https://elsewhere", Objects: w.objs})
			out, _ := forger.Issue(Request{ServiceAccount: w.sa})
			return out.Token
		}, wantErr: "invalid bearer token"},
		{name: "not a JWT", issue: func(*testing.T, *world) string { return "abc.def" }, wantErr: "invalid bearer token"},
		{name: "deleted pod", issue: podToken, wantErr: "service account token has been invalidated",
			change: func(w *world) { w.objs.del("pod", w.pod) }},
		{name: "pod recreated with another UID", issue: podToken, wantErr: "pod UID (pod-uid-2) does not match claim (pod-uid)",
			change: func(w *world) { p := w.pod.DeepCopy(); p.UID = "pod-uid-2"; w.objs.put("pod", p) }},
		{name: "pod deleting within the leeway", issue: podToken, change: func(w *world) { deleting(w, "pod", w.pod, 30*time.Second) }},
		{name: "pod deleting for longer", issue: podToken, wantErr: "service account token has been invalidated",
			change: func(w *world) { deleting(w, "pod", w.pod, 2*time.Minute) }},
		{name: "deleted service account", issue: podToken, wantErr: "service account token has been invalidated",
			change: func(w *world) { w.objs.del("sa", w.sa) }},
		{name: "service account recreated", issue: podToken, wantErr: "service account UID (sa-uid-2) does not match claim (sa-uid)",
			change: func(w *world) { s := w.sa.DeepCopy(); s.UID = "sa-uid-2"; w.objs.put("sa", s) }},
		{name: "deleted secret", wantErr: "service account token has been invalidated", issue: func(t *testing.T, w *world) string {
			return w.issue(t, Request{Binding: Binding{Secret: w.secret}}).Token
		}, change: func(w *world) { w.objs.del("secret", w.secret) }},
		{name: "node of the pod replaced", issue: podToken, wantErr: "node UID (node-uid-2) does not match claim (node-uid)",
			change: func(w *world) { n := w.node.DeepCopy(); n.UID = "node-uid-2"; w.objs.put("node", n) }},
		{name: "deleted node of a node-bound token", wantErr: "service account token has been invalidated", issue: func(t *testing.T, w *world) string {
			return w.issue(t, Request{Binding: Binding{Node: w.node}}).Token
		}, change: func(w *world) { w.objs.del("node", w.node) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			token := tc.issue(t, w)
			if tc.change != nil {
				tc.change(w)
			}
			res, err := w.tokens.AuthenticateToken(context.Background(), token, tc.auds)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.User.Name != "system:serviceaccount:default:x" || res.User.UID != "sa-uid" ||
				!slices.Equal(res.User.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:default"}) {
				t.Fatalf("user %+v", res.User)
			}
		})
	}
}

func podToken(t *testing.T, w *world) string {
	t.Helper()
	return w.issue(t, Request{Binding: Binding{Pod: w.pod, Node: w.node}}).Token
}

func deleting(w *world, kind string, o metav1.Object, ago time.Duration) {
	ts := metav1.NewTime(w.now.Add(-ago))
	o.SetDeletionTimestamp(&ts)
	w.objs.put(kind, o)
}

func TestPodTokenClaimsAndUser(t *testing.T) {
	w := newWorld(t)
	out := w.issue(t, Request{Binding: Binding{Pod: w.pod, Node: w.node}})
	if out.ExpirationSeconds != 3600 || !out.Expiration.Equal(w.now.Add(time.Hour)) || !slices.Equal(out.Audiences, []string{issuer}) {
		t.Fatalf("issued %+v", out)
	}
	c := payload(t, out.Token)
	want := map[string]any{"iss": issuer, "sub": "system:serviceaccount:default:x", "aud": []any{issuer},
		"iat": float64(w.now.Unix()), "nbf": float64(w.now.Unix()), "exp": float64(w.now.Add(time.Hour).Unix())}
	for k, v := range want {
		if got, _ := json.Marshal(c[k]); string(got) != mustJSON(v) {
			t.Errorf("claim %s = %s, want %s", k, got, mustJSON(v))
		}
	}
	k8s, _ := json.Marshal(c["kubernetes.io"])
	wantK8s := `{"namespace":"default","node":{"name":"n1","uid":"node-uid"},"pod":{"name":"p","uid":"pod-uid"},"serviceaccount":{"name":"x","uid":"sa-uid"}}`
	if string(k8s) != wantK8s {
		t.Errorf("kubernetes.io claim %s\nwant %s", k8s, wantK8s)
	}
	res, err := w.tokens.AuthenticateToken(context.Background(), out.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	jti, _ := c["jti"].(string)
	wantExtra := map[string][]string{
		authn.ExtraPodName: {"p"}, authn.ExtraPodUID: {"pod-uid"}, authn.ExtraNodeName: {"n1"},
		authn.ExtraNodeUID: {"node-uid"}, authn.ExtraCredentialID: {"JTI=" + jti},
	}
	if jti == "" || mustJSON(res.User.Extra) != mustJSON(wantExtra) {
		t.Fatalf("extra %v, want %v", res.User.Extra, wantExtra)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestHeaderAlgAndKeyID(t *testing.T) {
	w := newWorld(t)
	tok := w.issue(t, Request{}).Token
	data, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	kid, _ := KeyID(&testKey().PublicKey)
	if want := `{"alg":"RS256","kid":"` + kid + `"}`; string(data) != want {
		t.Fatalf("header %s, want %s", data, want)
	}
	if len(kid) != 43 || strings.ContainsAny(kid, "+/=") {
		t.Fatalf("kid %q is not unpadded base64url of 32 bytes", kid)
	}
}

func TestExtendedExpiration(t *testing.T) {
	for _, tc := range []struct {
		name     string
		req      func(w *world) Request
		extended bool
	}{
		{"pod token asked for 3607s", func(w *world) Request {
			return Request{ExpirationSeconds: WarnOnlyExpirationSeconds, Binding: Binding{Pod: w.pod}}
		}, true},
		{"3608s", func(w *world) Request { return Request{ExpirationSeconds: 3608, Binding: Binding{Pod: w.pod}} }, false},
		{"not pod-bound", func(w *world) Request { return Request{ExpirationSeconds: WarnOnlyExpirationSeconds} }, false},
		{"other audience", func(w *world) Request {
			return Request{ExpirationSeconds: WarnOnlyExpirationSeconds, Audiences: []string{"vault"}, Binding: Binding{Pod: w.pod}}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			req := tc.req(w)
			out := w.issue(t, req)
			c := payload(t, out.Token)
			exp := int64(c["exp"].(float64))
			if !out.Expiration.Equal(w.now.Add(time.Duration(req.ExpirationSeconds) * time.Second)) {
				t.Errorf("status expiration %v", out.Expiration)
			}
			k8s := c["kubernetes.io"].(map[string]any)
			if tc.extended {
				if exp != w.now.Unix()+ExtendedExpirationSeconds || k8s["warnafter"] != float64(w.now.Unix()+WarnOnlyExpirationSeconds) {
					t.Errorf("exp %d warnafter %v", exp, k8s["warnafter"])
				}
				return
			}
			if exp != w.now.Unix()+req.ExpirationSeconds || k8s["warnafter"] != nil {
				t.Errorf("exp %d warnafter %v", exp, k8s["warnafter"])
			}
		})
	}
}

func TestMaxExpirationShortens(t *testing.T) {
	w := newWorld(t)
	w.tokens.cfg.MaxExpiration = 2 * time.Hour
	out := w.issue(t, Request{ExpirationSeconds: 86400})
	if out.ExpirationSeconds != 7200 || !slices.Equal(out.Warnings, []string{"requested expiration of 86400 seconds shortened to 7200 seconds"}) {
		t.Fatalf("%d %q", out.ExpirationSeconds, out.Warnings)
	}
}

func TestSplitUsername(t *testing.T) {
	for in, want := range map[string]bool{
		"system:serviceaccount:default:x": true, "system:serviceaccount:default": false,
		"system:serviceaccount::x": false, "admin": false, "system:serviceaccount:a:b:c": false,
	} {
		if _, _, ok := SplitUsername(in); ok != want {
			t.Errorf("%q: %v", in, ok)
		}
	}
}
