// Package runtime is the seam between the agent's pod logic and what runs
// pods: a Runtime gives a pod its sandbox (network namespace and IP) and
// runs its containers. Two implementations live in subpackages: process
// (real network namespaces and processes) and simulated (IPs and states
// only, as kwok does, for scale tests).
package runtime

import (
	"context"
	"io"
	"net"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Runtime runs pods on a node.
type Runtime interface {
	// EnsureSandbox creates the pod's sandbox unless it exists: a network
	// namespace joined to the node bridge with an IP of the pod CIDR (the
	// node's own namespace for hostNetwork pods).
	EnsureSandbox(ctx context.Context, pod *corev1.Pod) (Sandbox, error)
	// RemoveSandbox removes the sandbox and everything kept for the pod;
	// its containers must have stopped.
	RemoveSandbox(ctx context.Context, uid types.UID) error
	// Start starts one container of a pod whose sandbox exists.
	Start(ctx context.Context, spec ContainerSpec) error
	// Stop stops a running container: SIGTERM, then SIGKILL after grace.
	// It returns once the container has exited (or ctx ends).
	Stop(ctx context.Context, uid types.UID, name string, grace time.Duration) error
	// Pod returns what the runtime knows of a pod: its sandbox and the
	// latest instance of each container; ok is false for unknown pods.
	Pod(uid types.UID) (PodState, bool)
	// Pods returns the UIDs of every pod the runtime holds, adopted ones
	// included.
	Pods() []types.UID
	// Events delivers the UID of a pod whenever one of its containers
	// exits.
	Events() <-chan types.UID
}

// Streamer is what a Runtime that runs real processes adds for logs,
// exec and attach.
type Streamer interface {
	// LogPath returns the log file of a container instance; previous
	// selects the one before the latest.
	LogPath(uid types.UID, name string, previous bool) (string, error)
	// Exited returns a channel that closes when the latest instance of a
	// container has exited (at once when none runs).
	Exited(uid types.UID, name string) <-chan struct{}
	// Exec runs a command in a container's namespaces.
	Exec(ctx context.Context, req ExecRequest) (exitCode int, err error)
	// Attach connects to a running container's stdin and output.
	Attach(ctx context.Context, req AttachRequest) error
	// DialPort connects to a TCP port on localhost inside the pod's
	// network namespace (the node's for hostNetwork pods), for
	// port-forward. The error says why, as containerd words it.
	DialPort(ctx context.Context, uid types.UID, port uint16) (net.Conn, error)
}

// Sandbox is a pod's network identity.
type Sandbox struct {
	// IP is the pod's address (the node's for hostNetwork pods).
	IP netip.Addr
	// NetnsPath is the pod's namespace file; empty for hostNetwork pods.
	NetnsPath string
}

// PodState is a pod as the runtime has it.
type PodState struct {
	Sandbox    Sandbox
	Containers []ContainerState
}

// Container returns the state of container name.
func (p PodState) Container(name string) (ContainerState, bool) {
	for _, c := range p.Containers {
		if c.Name == name {
			return c, true
		}
	}
	return ContainerState{}, false
}

// ContainerSpec is a container resolved to something to run.
type ContainerSpec struct {
	Pod  *corev1.Pod
	Name string
	// Attempt counts the container's starts from 0 (the restart count).
	Attempt int
	// Layers are the image's root filesystem, lowest first; ImageUser is
	// the image's USER; Self is the svcplane binary, bound into the
	// containers of built-in images ("" for others).
	Layers    []string
	ImageUser string
	// ImageID is reported in the container's status.
	ImageID string
	Self    string
	// Argv, Env (KEY=value) and Dir are the process to run.
	Argv []string
	Env  []string
	Dir  string
	// Hostname, Hosts and ResolvConf make the pod's /etc files.
	Hostname   string
	Hosts      string
	ResolvConf string
	// Stdin keeps the container's stdin open for attach; TTY gives it a
	// terminal.
	Stdin, StdinOnce, TTY bool
	// Mounts are the pod's volumes bound into the container.
	Mounts []Mount
}

// Mount is a node path bound into a container.
type Mount struct {
	Source      string
	Destination string
	ReadOnly    bool
}

// ContainerState is the latest instance of one container.
type ContainerState struct {
	Name    string
	Attempt int
	ImageID string
	// Running is true from start until exit.
	Running    bool
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	// Reason and Message say why it exited (e.g. "Error", "Completed",
	// "StartError"), as a terminated state reports.
	Reason  string
	Message string
}

// ExecRequest is a command to run in a container.
type ExecRequest struct {
	UID       types.UID
	Container string
	Command   []string
	TTY       bool
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	// Resize delivers terminal sizes when TTY is set.
	Resize <-chan TermSize
}

// AttachRequest connects streams to a running container.
type AttachRequest struct {
	UID       types.UID
	Container string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	Resize    <-chan TermSize
}

// TermSize is a terminal's size.
type TermSize struct {
	Width, Height uint16
}
