// Command pods measures how fast isolated pods start: the cost of each
// setup step of one container start (cgroups, plan, overlay, mounts,
// pivot_root, masked paths, identity) beside the same program started
// without isolation, 100 pods on one node until Running, and a cold
// `svcplane up` until the README's example pods are Running. Each table
// prints the figure beside its goal. It needs root; the clusters run in
// sandboxes of their own and are removed with `svcplane down`.
//
//	go run ./bench/pods [-starts 50] [-pods 100] [-colds 3] [-skip-cluster]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

type config struct {
	starts      int
	pods        int
	colds       int
	skipCluster bool
	skipSteps   bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.starts, "starts", 50, "container starts measured step by step")
	flag.IntVar(&cfg.pods, "pods", 100, "pods created at once on the node")
	flag.IntVar(&cfg.colds, "colds", 3, "cold `svcplane up` runs until the example pods are Running")
	flag.BoolVar(&cfg.skipCluster, "skip-cluster", false, "measure only the container start steps")
	flag.BoolVar(&cfg.skipSteps, "skip-steps", false, "measure only the clusters")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (mounts, namespaces, cgroups)")
	}
	dir, err := os.MkdirTemp("", "svcplane-bench-pods")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := build(dir)
	if err != nil {
		return err
	}
	if !cfg.skipSteps {
		if err := benchSteps(bin, filepath.Join(dir, "steps"), cfg.starts); err != nil {
			return fmt.Errorf("container start: %w", err)
		}
	}
	if cfg.skipCluster {
		return nil
	}
	if err := benchManyPods(bin, filepath.Join(dir, "many"), cfg.pods); err != nil {
		return fmt.Errorf("%d pods: %w", cfg.pods, err)
	}
	return benchColdUp(bin, filepath.Join(dir, "cold"), cfg.colds)
}

// build compiles svcplane and svcplane-init (which the agent starts
// containers with when it lies beside svcplane) into dir.
func build(dir string) (string, error) {
	bin := filepath.Join(dir, "svcplane")
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/svcplane/svcplane/cmd/svcplane",
		"github.com/svcplane/svcplane/cmd/svcplane-init")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build svcplane: %w", err)
	}
	return bin, nil
}
