package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/hostport"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/proctable"
)

// The runtime keeps what it must find again after a restart in files:
//
//	<root>/ipam/<ip>                             owner pod UID
//	<root>/pods/<uid>/pod.json                   podRecord
//	<root>/pods/<uid>/<container>/<attempt>/     one container instance:
//	    init.json  what internal-init runs       proc.json  the init's pid
//	    exit.json  written by the init on exit   log        stdout+stderr
//	    stdin      FIFO for attach (when stdin is kept open)

// podRecord is a pod's sandbox.
type podRecord struct {
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	UID         types.UID `json:"uid"`
	HostNetwork bool      `json:"hostNetwork,omitempty"`
	NetnsName   string    `json:"netnsName,omitempty"`
	NetnsPath   string    `json:"netnsPath,omitempty"`
	HostVeth    string    `json:"hostVeth,omitempty"`
	IP          string    `json:"ip"`
	// IPCPath pins the pod's IPC namespace (empty with hostIPC).
	IPCPath string `json:"ipcPath,omitempty"`
	// QOS is the pod's QoS class, which places its cgroup.
	QOS corev1.PodQOSClass `json:"qos,omitempty"`
	// HostPorts are the pod's hostPorts, mapped to its IP on the node.
	HostPorts []hostport.Mapping `json:"hostPorts,omitempty"`
}

// procRecord identifies a started init process; StartTicks (from
// /proc/<pid>/stat) tells it from a later process reusing the pid.
type procRecord struct {
	PID        int       `json:"pid"`
	StartTicks uint64    `json:"startTicks"`
	StartedAt  time.Time `json:"startedAt"`
	ImageID    string    `json:"imageID,omitempty"`
}

// ExitRecord is how a container instance ended, written by the init.
type ExitRecord struct {
	ExitCode   int       `json:"exitCode"`
	Reason     string    `json:"reason,omitempty"`
	Message    string    `json:"message,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
}

// layout names the files under the runtime's root.
type layout struct{ root string }

func (l layout) ipamDir() string             { return filepath.Join(l.root, "ipam") }
func (l layout) podsDir() string             { return filepath.Join(l.root, "pods") }
func (l layout) podDir(uid types.UID) string { return filepath.Join(l.podsDir(), string(uid)) }
func (l layout) podFile(uid types.UID) string {
	return filepath.Join(l.podDir(uid), "pod.json")
}
func (l layout) instanceDir(uid types.UID, name string, attempt int) string {
	return filepath.Join(l.podDir(uid), name, strconv.Itoa(attempt))
}

// attempts returns the instances of a container kept on disk, oldest
// first.
func (l layout) attempts(uid types.UID, name string) []int {
	entries, _ := os.ReadDir(filepath.Join(l.podDir(uid), name))
	var out []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// containerNames returns the containers of a pod kept on disk.
func (l layout) containerNames(uid types.UID) []string {
	entries, _ := os.ReadDir(l.podDir(uid))
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readJSON reads path into v; ok is false when the file does not exist.
func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return true, nil
}

// RecordedInit is the init process of one container instance, as the
// runtime's files record it.
type RecordedInit struct {
	proctable.Ref
	// HostNetwork says the pod shares the node's network namespace.
	HostNetwork bool
}

// RecordedNetns returns the network namespace names of the pods kept
// under the runtime root: what `svcplane down` deletes for a joined node,
// whose namespaces share their prefix with the rest of its cluster.
func RecordedNetns(root string) ([]string, error) {
	var out []string
	err := eachRecordedPod(root, func(_ layout, _ types.UID, rec podRecord) error {
		if rec.NetnsName != "" {
			out = append(out, rec.NetnsName)
		}
		return nil
	})
	return out, err
}

// eachRecordedPod calls fn with the record of every pod kept under the
// runtime root (a zero record where it cannot be read, that error joined
// to the result).
func eachRecordedPod(root string, fn func(l layout, uid types.UID, rec podRecord) error) error {
	l := layout{root: root}
	pods, err := os.ReadDir(l.podsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read pods: %w", err)
	}
	var errs []error
	for _, pod := range pods {
		uid := types.UID(pod.Name())
		var rec podRecord
		if _, err := readJSON(l.podFile(uid), &rec); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, fn(l, uid, rec))
	}
	return errors.Join(errs...)
}

// RecordedInits returns the init process of every container instance
// kept under the runtime root, running or not: what `svcplane down` kills
// (with their process groups, descendants and network namespaces) when it
// cannot see the pods' network namespaces.
func RecordedInits(root string) ([]RecordedInit, error) {
	var out []RecordedInit
	err := eachRecordedPod(root, func(l layout, uid types.UID, rec podRecord) error {
		var errs []error
		for _, name := range l.containerNames(uid) {
			for _, attempt := range l.attempts(uid, name) {
				var p procRecord
				ok, err := readJSON(filepath.Join(l.instanceDir(uid, name, attempt), "proc.json"), &p)
				if err != nil {
					errs = append(errs, err)
				}
				if ok && p.PID > 0 {
					out = append(out, RecordedInit{Ref: proctable.Ref{PID: p.PID, StartTicks: p.StartTicks}, HostNetwork: rec.HostNetwork})
				}
			}
		}
		return errors.Join(errs...)
	})
	return out, err
}
