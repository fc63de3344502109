package main

import (
	"context"
	"errors"
	"os"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/runtime/process"
)

// runInternalInit is the first process of every container (not for
// people: the agent starts it).
func runInternalInit(_ context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: svcplane internal-init <spec file>")
	}
	os.Exit(process.RunInit(args[0]))
	return nil
}

// runInternalNsexec enters a container's namespaces and executes a
// command there (kubectl exec, exec probes).
func runInternalNsexec(_ context.Context, args []string) error {
	os.Exit(process.RunNsexec(args))
	return nil
}

// runImage runs a built-in image's program.
func runImage(ctx context.Context, args []string) error {
	return images.Run(ctx, args)
}
