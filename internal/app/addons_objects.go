package app

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The addons' images, as kubeadm 1.32 deploys them (the tags are the
// built-in images': any tag runs the same program).
const (
	kubeProxyImage = "registry.k8s.io/kube-proxy:v1.32.0"
	corednsImage   = "registry.k8s.io/coredns/coredns:v1.11.3"
)

// kubeadm's names for the addons' objects.
const (
	kubeProxyName       = "kube-proxy"
	kubeProxyKubeconfig = "kubeconfig.conf"
	kubeProxyMountPath  = "/var/lib/kube-proxy"
	corednsName         = "coredns"
	corednsRole         = "system:coredns"
	corednsEventsRole   = "svcplane:coredns-events"
	nodeProxierBinding  = "kubeadm:node-proxier"
)

// kubeProxyKubeconfigText is kubeadm's kubeconfig.conf for kube-proxy:
// the API at the node's address (not the kubernetes Service, which the
// proxy has yet to program) with the pod's ServiceAccount token.
func kubeProxyKubeconfigText(server string) string {
	return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: ` + server + `
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
`
}

// kubeProxyDaemonSet is kubeadm's kube-proxy DaemonSet.
func kubeProxyDaemonSet() *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": kubeProxyName}
	hostPathFileOrCreate, hostPathUnset := corev1.HostPathFileOrCreate, corev1.HostPathUnset
	privileged := true
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: kubeProxyName, Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-node-critical",
					HostNetwork:        true,
					ServiceAccountName: kubeProxyName,
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers: []corev1.Container{{
						Name:  kubeProxyName,
						Image: kubeProxyImage, ImagePullPolicy: corev1.PullIfNotPresent,
						Command: []string{"/usr/local/bin/kube-proxy", "--config=" + kubeProxyMountPath + "/" + kubeProxyConfigKey,
							"--hostname-override=$(NODE_NAME)"},
						Env: []corev1.EnvVar{{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{
							FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}},
						SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
						VolumeMounts: []corev1.VolumeMount{
							{Name: kubeProxyName, MountPath: kubeProxyMountPath},
							{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
							{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: kubeProxyName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: kubeProxyConfigMap}}}},
						{Name: "xtables-lock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
							Path: "/run/xtables.lock", Type: &hostPathFileOrCreate}}},
						{Name: "lib-modules", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
							Path: "/lib/modules", Type: &hostPathUnset}}},
					},
				},
			},
		},
	}
}

// corefile is kubeadm 1.32's Corefile for the cluster domain; names
// outside it go to upstreams (up's --dns-upstream) when given, else to
// the servers of the pod's /etc/resolv.conf (the node's).
func corefile(domain string, upstreams []string) string {
	to := "/etc/resolv.conf"
	if len(upstreams) > 0 {
		to = strings.Join(upstreams, " ")
	}
	return strings.NewReplacer("DOMAIN", domain, "UPSTREAMS", to).Replace(`.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes DOMAIN in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . UPSTREAMS {
       max_concurrent 1000
    }
    cache 30 {
       disable success DOMAIN
       disable denial DOMAIN
    }
    loop
    reload
    loadbalance
}
`)
}

// corednsDeployment is kubeadm's coredns Deployment.
func corednsDeployment() *appsv1.Deployment {
	labels := map[string]string{"k8s-app": kubeDNSName}
	replicas, maxUnavailable := int32(2), intstr.FromInt32(1)
	no, yes := false, true
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: corednsName, Namespace: "kube-system", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-cluster-critical",
					ServiceAccountName: corednsName,
					DNSPolicy:          corev1.DNSDefault,
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations: []corev1.Toleration{{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}},
					Affinity:   corednsAffinity(),
					Containers: []corev1.Container{corednsContainer(&no, &yes)},
					Volumes: []corev1.Volume{{Name: "config-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: corednsName},
						Items:                []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}}}}}},
				},
			},
		},
	}
}

// corednsAffinity spreads the replicas over the nodes when it can.
func corednsAffinity() *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname",
				LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{kubeDNSName}}}}}}}}}
}

func corednsContainer(no, yes *bool) corev1.Container {
	probe := func(path string, port int32) corev1.ProbeHandler {
		return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(port), Scheme: corev1.URISchemeHTTP}}
	}
	return corev1.Container{
		Name: corednsName, Image: corednsImage, ImagePullPolicy: corev1.PullIfNotPresent,
		Args: []string{"-conf", "/etc/coredns/Corefile"},
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
		Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP}},
		LivenessProbe: &corev1.Probe{ProbeHandler: probe("/health", 8080), InitialDelaySeconds: 60, TimeoutSeconds: 5,
			SuccessThreshold: 1, FailureThreshold: 5},
		// kubeadm probes every 10 s; every second makes a new replica
		// Ready as soon as its caches have synced.
		ReadinessProbe: &corev1.Probe{ProbeHandler: probe("/ready", 8181), PeriodSeconds: 1},
		SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: no, ReadOnlyRootFilesystem: yes,
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}}},
	}
}

// corednsClusterRole is upstream's system:coredns.
func corednsClusterRole() *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: corednsRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
}

// corednsEventsRoleObj lets svcplane dns record the Warning events of a
// Corefile it refuses (upstream CoreDNS records none).
func corednsEventsRoleObj() *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: corednsEventsRole, Namespace: "kube-system"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
			{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}}},
	}
}

// saSubject is a kube-system ServiceAccount as an RBAC subject.
func saSubject(name string) []rbacv1.Subject {
	return []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: "kube-system"}}
}
