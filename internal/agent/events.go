package agent

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// Event reasons the agent records, as the kubelet names them.
const (
	reasonPulled        = "Pulled"
	reasonPulling       = "Pulling"
	reasonCreated       = "Created"
	reasonStarted       = "Started"
	reasonKilling       = "Killing"
	reasonBackOff       = "BackOff"
	reasonFailed        = "Failed"
	reasonUnhealthy     = "Unhealthy"
	reasonSandboxFailed = "FailedCreatePodSandBox"
	reasonErrImagePull  = "ErrImagePull"
	reasonImageBackOff  = "ImagePullBackOff"
	reasonNeverPull     = "ErrImageNeverPull"
	reasonCrashLoop     = "CrashLoopBackOff"
	reasonCreateConfig  = "CreateContainerConfigError"
	reasonRunContainer  = "RunContainerError"
	reasonStartError    = "StartError"
)

// newRecorder returns a recorder that writes Events through the API as
// the kubelet of node does.
func newRecorder(ctx context.Context, client kubernetes.Interface, node string) record.EventRecorder {
	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: node})
}
