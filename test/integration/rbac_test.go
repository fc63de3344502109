package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// userClient returns a clientset and kubeconfig for a client certificate
// of user in groups: an identity with no rights but what RBAC grants.
func (c *cluster) userClient(user string, groups ...string) (kubernetes.Interface, string) {
	c.t.Helper()
	s := c.Server
	cert, key, err := s.PKI.ClientCert(user, groups)
	if err != nil {
		c.t.Fatal(err)
	}
	path := filepath.Join(c.t.TempDir(), user+".kubeconfig")
	if err := kubeconfig.Write(path, kubeconfig.Config{Server: s.URL, CAData: s.PKI.CAPEM, CertData: cert, KeyData: key}); err != nil {
		c.t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(&rest.Config{Host: s.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.PKI.CAPEM, CertData: cert, KeyData: key}})
	if err != nil {
		c.t.Fatal(err)
	}
	return client, path
}

func TestKubectlAuthCanI(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	as := "system:serviceaccount:default:x"
	canI := func() (string, error) {
		out, _, err := c.KubectlResult("", "auth", "can-i", "--as", as, "list", "pods", "-n", "default")
		return strings.TrimSpace(out), err
	}
	if out, err := canI(); out != "no" || err == nil {
		t.Fatalf("can-i before any binding: %q, %v; want no and exit 1", out, err)
	}
	c.kubectl("create", "role", "pod-reader", "-n", "default", "--verb=get,list,watch", "--resource=pods")
	c.kubectl("create", "rolebinding", "x-reads-pods", "-n", "default", "--role=pod-reader", "--serviceaccount=default:x")
	if out, err := canI(); out != "yes" || err != nil {
		t.Fatalf("can-i after the binding: %q, %v; want yes", out, err)
	}
	out, _, _ := c.KubectlResult("", "auth", "can-i", "--as", as, "delete", "pods", "-n", "default")
	if strings.TrimSpace(out) != "no" {
		t.Errorf("can-i delete pods = %q, want no", out)
	}
	list := c.kubectl("auth", "can-i", "--list", "--as", as, "-n", "default")
	if !strings.Contains(list, "pods ") || !strings.Contains(list, "[get list watch]") {
		t.Errorf("can-i --list lacks the role's rule:\n%s", list)
	}
	if got := header(c.kubectl("get", "rolebinding", "-n", "default", "-o", "wide")); got != "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS" {
		t.Errorf("rolebinding header = %q", got)
	}
	if got := c.kubectl("get", "rolebinding", "x-reads-pods", "-n", "default", "-o", "wide", "--no-headers"); !strings.Contains(got, "Role/pod-reader") || !strings.Contains(got, "default/x") {
		t.Errorf("rolebinding row = %q", got)
	}
	if got := header(c.kubectl("get", "role", "-n", "default")); got != "NAME CREATED AT" {
		t.Errorf("role header = %q", got)
	}
}

func TestBootstrapPolicy(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	out := c.kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "wide", "--no-headers")
	if f := strings.Fields(out); len(f) < 4 || f[1] != "ClusterRole/cluster-admin" || f[3] != "system:masters" {
		t.Errorf("cluster-admin binding row = %q", out)
	}
	for _, role := range []string{"admin", "edit", "view", "system:basic-user", "system:discovery", "system:node-proxier", "system:node", "system:kube-dns", "system:controller:endpointslice-controller"} {
		c.kubectl("get", "clusterrole", role)
	}
	// Any authenticated user may discover and review itself.
	_, kc := c.userClient("bob")
	cmd := c.KubectlCmd("--kubeconfig", kc, "auth", "can-i", "create", "selfsubjectaccessreviews.authorization.k8s.io")
	cmd.Env = append(cmd.Env, "KUBECONFIG="+kc)
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "yes" {
		t.Errorf("bob can-i create ssar: %q, %v", out, err)
	}
}

func TestForbiddenText(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	alice, kc := c.userClient("alice")
	_, err := alice.CoreV1().Services("y").List(ctx, metav1.ListOptions{})
	want := `services is forbidden: User "alice" cannot list resource "services" in API group "" in the namespace "y"`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("list services: %v\nwant %s", err, want)
	}
	_, err = alice.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	want = `nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" at the cluster scope`
	if err == nil || err.Error() != want {
		t.Errorf("get node: %v\nwant %s", err, want)
	}
	body, err := alice.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if !apierrors.IsForbidden(err) || !strings.Contains(string(body), `forbidden: User \"alice\" cannot get path \"/metrics\"`) {
		t.Errorf("get /metrics: %v %s", err, body)
	}
	// A denied write changes nothing.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "denied"}}
	if _, err := alice.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("create configmap as alice: %v", err)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "denied", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("denied configmap: %v, want NotFound", err)
	}
	// kubectl prints the same text.
	cmd := c.KubectlCmd("get", "services", "-n", "y")
	cmd.Env = append(cmd.Env, "KUBECONFIG="+kc)
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), `Error from server (Forbidden): services is forbidden: User "alice" cannot list resource "services" in API group "" in the namespace "y"`) {
		t.Errorf("kubectl as alice: %s", out)
	}
	// Impersonation needs the impersonate verb: alice may not act as bob.
	_, errOut, err := c.KubectlResult("", "--kubeconfig", kc, "get", "pods", "--as", "bob")
	if err == nil || !strings.Contains(errOut, `users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope`) {
		t.Errorf("alice --as bob: %v %s", err, errOut)
	}
}

func TestNodeAuthorizerSecrets(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	for _, name := range []string{"sa", "sb"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"k": "v"}}
		if _, err := c.Client.CoreV1().Secrets("default").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for node, secret := range map[string]string{"a": "sa", "b": "sb"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p" + node}, Spec: corev1.PodSpec{NodeName: node,
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes:    []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}}}
		if _, err := c.Client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	agentA, _ := c.userClient("system:node:a", "system:nodes")
	var err error
	for i := 0; i < 50; i++ { // the pod graph follows the pods' watch
		if _, err = agentA.CoreV1().Secrets("default").Get(ctx, "sa", metav1.GetOptions{}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("node a reads its pod's secret: %v", err)
	}
	_, err = agentA.CoreV1().Secrets("default").Get(ctx, "sb", metav1.GetOptions{})
	want := `secrets "sb" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'a' and this object`
	if err == nil || err.Error() != want {
		t.Errorf("node a reads node b's secret: %v\nwant %s", err, want)
	}
	// Node a may report its pods' status, not node b's.
	pb, err := c.Client.CoreV1().Pods("default").Get(ctx, "pb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pb.Status.Message = "from a"
	_, err = agentA.CoreV1().Pods("default").UpdateStatus(ctx, pb, metav1.UpdateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `node "a" can only update pod status for pods with spec.nodeName set to itself`) {
		t.Errorf("node a updates pb's status: %v", err)
	}
	if _, err := agentA.CoreV1().Pods("default").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=a"}); err != nil {
		t.Errorf("node a lists its pods: %v", err)
	}
}

// TestNoEscalation: a user who may write Roles and RoleBindings cannot
// grant what it does not hold itself, as upstream's RBAC storage refuses.
func TestNoEscalation(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	admin := c.Client.RbacV1()
	ns := "team"
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	manager := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "manager", Namespace: ns}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: []string{"create", "get"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
	}}
	if _, err := admin.Roles(ns).Create(ctx, manager, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "carol-manager", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "manager"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "carol"}}}
	if _, err := admin.RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	carol, _ := c.userClient("carol")
	rbac := carol.RbacV1()
	var err error
	waitFor(t, "carol's binding in effect", func() bool {
		_, err = rbac.Roles(ns).Get(ctx, "manager", metav1.GetOptions{})
		return err == nil
	})
	secrets := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secrets", Namespace: ns}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}}}
	_, err = rbac.Roles(ns).Create(ctx, secrets, metav1.CreateOptions{})
	want := `roles.rbac.authorization.k8s.io "secrets" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:` + "\n" +
		`{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("create a role granting secrets: %v\nwant %s", err, want)
	}
	readPods := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read-pods", Namespace: ns}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}}
	if _, err := rbac.Roles(ns).Create(ctx, readPods, metav1.CreateOptions{}); err != nil {
		t.Errorf("create a role within carol's own rights: %v", err)
	}
	toAdmin := binding.DeepCopy()
	toAdmin.Name, toAdmin.RoleRef = "carol-admin", rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}
	if _, err := rbac.RoleBindings(ns).Create(ctx, toAdmin, metav1.CreateOptions{}); !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), "is attempting to grant RBAC permissions not currently held") {
		t.Errorf("bind cluster-admin: %v", err)
	}
	if _, err := admin.RoleBindings(ns).Get(ctx, "carol-admin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("refused binding: %v, want NotFound", err)
	}
	toReadPods := binding.DeepCopy()
	toReadPods.Name, toReadPods.RoleRef.Name = "dave-read-pods", "read-pods"
	toReadPods.Subjects[0].Name = "dave"
	if _, err := rbac.RoleBindings(ns).Create(ctx, toReadPods, metav1.CreateOptions{}); err != nil {
		t.Errorf("bind a role within carol's rights: %v", err)
	}
}
