// Command svcplane-init is the small program the node agent starts for
// every container: `internal-init` (the container's shim) and
// `internal-container` (its first process, which builds the root and
// executes the workload). svcplane itself runs them too, but its start-up
// (the init of etcd, client-go and the rest) costs tens of milliseconds
// per process, twice per container start; this binary links only what the
// two steps need. The agent uses it when it lies beside the svcplane
// binary.
package main

import (
	"fmt"
	"os"

	"github.com/svcplane/svcplane/internal/agent/container"
	"github.com/svcplane/svcplane/internal/agent/runtime/process"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: svcplane-init internal-init SPEC | internal-container PLAN | internal-container --join PLAN -- CMD...")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "internal-init":
		if len(args) == 1 {
			os.Exit(process.RunInit(args[0]))
		}
	case "internal-container":
		if len(args) >= 3 && args[0] == "--join" && args[2] == "--" {
			os.Exit(container.RunJoin(args[1], args[3:]))
		}
		if len(args) == 1 {
			os.Exit(container.RunInit(args[0]))
		}
	}
	fmt.Fprintf(os.Stderr, "svcplane-init: bad arguments %q\n", os.Args[1:])
	os.Exit(2)
}
