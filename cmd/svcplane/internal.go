package main

import (
	"context"
	"errors"
	"os"

	"github.com/svcplane/svcplane/internal/agent/container"
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

// runInternalContainer is a container's first process, which builds its
// root and executes the workload, or with --join the second step of an
// exec (not for people: the runtime starts them).
func runInternalContainer(_ context.Context, args []string) error {
	if len(args) >= 3 && args[0] == "--join" && args[2] == "--" {
		os.Exit(container.RunJoin(args[1], args[3:]))
	}
	if len(args) != 1 {
		return errors.New("usage: svcplane internal-container PLAN | --join PLAN -- CMD...")
	}
	os.Exit(container.RunInit(args[0]))
	return nil
}

// runImage runs a built-in image's program.
func runImage(ctx context.Context, args []string) error {
	return images.Run(ctx, args)
}
