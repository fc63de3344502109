package app

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/preflight"
)

// preflightUp checks, before up creates anything, that the machine has
// what up needs (see package preflight). Warnings are printed and up goes
// on; a missing thing stops it with one line each, unless
// IgnorePreflight says to go on.
func preflightUp(cfg UpConfig, errOut io.Writer) error {
	probes := cfg.Preflight
	if probes == nil {
		probes = preflight.OS{}
	}
	problems := preflight.Check(preflightConfig(cfg), probes)
	var fatal []string
	for _, p := range problems {
		switch {
		case p.Warning:
			fmt.Fprintf(errOut, "svcplane: warning: %s\n", p.Line)
		case cfg.IgnorePreflight:
			fmt.Fprintf(errOut, "svcplane: ignored (--ignore-preflight): %s\n", p.Line)
		default:
			fatal = append(fatal, p.Line)
		}
	}
	if len(fatal) == 0 {
		return nil
	}
	return fmt.Errorf("this machine lacks what up needs (nothing was created; --ignore-preflight goes on anyway):\n  %s", strings.Join(fatal, "\n  "))
}

func preflightConfig(cfg UpConfig) preflight.Config {
	a := cfg.APIServer
	pc := preflight.Config{
		Sandbox:         cfg.Sandbox != "",
		NoAgent:         cfg.NoAgent,
		ProxyMode:       cfg.Proxy.Mode,
		NoProxy:         cfg.Proxy.NoProxy,
		IPTablesBackend: cfg.Proxy.IPTablesBackend,
		APIAddress:      net.JoinHostPort(orString(a.BindAddress, "127.0.0.1"), strconv.Itoa(a.Port)),
		DataDir:         orString(a.DataDir, "/var/lib/svcplane"),
	}
	if pc.Sandbox {
		pc.APIAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	} else if !cfg.NoAgent {
		s := cfg.Agent.withDefaults()
		pc.AgentAddress = net.JoinHostPort(s.Address, strconv.Itoa(s.Port))
	}
	return pc
}
