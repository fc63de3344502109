package container

import (
	"fmt"

	gsb "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// loadSeccomp installs the filter on every thread of the process (the
// workload inherits it across execve). Without no_new_privs the kernel
// asks for CAP_SYS_ADMIN, so the caller loads it before dropping
// capabilities in that case, as runc does.
func loadSeccomp(s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	policy, err := seccompPolicy(s)
	if err != nil {
		return err
	}
	if err := gsb.LoadFilter(gsb.Filter{Flag: gsb.FilterFlagTSync, Policy: policy}); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}

// seccompPolicy turns a runtime-spec filter into go-seccomp-bpf's policy
// for this machine's architecture: one group per rule, in order; a rule's
// argument conditions must all hold. Syscalls the architecture's table
// does not know are left to the default action.
func seccompPolicy(s *specs.LinuxSeccomp) (gsb.Policy, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return gsb.Policy{}, err
	}
	def, err := seccompAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return gsb.Policy{}, err
	}
	if def != gsb.ActionErrno && def&^0xffff == gsb.ActionErrno {
		return gsb.Policy{}, fmt.Errorf("seccomp default action: only EPERM is supported as its errno")
	}
	p := gsb.Policy{DefaultAction: def}
	for _, rule := range s.Syscalls {
		g, err := seccompGroup(rule, info)
		if err != nil {
			return gsb.Policy{}, err
		}
		if len(g.Names)+len(g.NamesWithCondtions) > 0 {
			p.Syscalls = append(p.Syscalls, g)
		}
	}
	return p, nil
}

func seccompGroup(rule specs.LinuxSyscall, info *arch.Info) (gsb.SyscallGroup, error) {
	action, err := seccompAction(rule.Action, rule.ErrnoRet)
	if err != nil {
		return gsb.SyscallGroup{}, err
	}
	g := gsb.SyscallGroup{Action: action}
	var conds gsb.ArgumentConditions
	for _, a := range rule.Args {
		c, err := seccompCondition(a)
		if err != nil {
			return gsb.SyscallGroup{}, fmt.Errorf("seccomp rule for %v: %w", rule.Names, err)
		}
		conds = append(conds, c)
	}
	for _, name := range rule.Names {
		if _, known := info.SyscallNames[name]; !known {
			continue
		}
		if len(conds) == 0 {
			g.Names = append(g.Names, name)
		} else {
			g.NamesWithCondtions = append(g.NamesWithCondtions, gsb.NameWithConditions{Name: name, Conditions: conds})
		}
	}
	return g, nil
}

func seccompAction(a specs.LinuxSeccompAction, errno *uint) (gsb.Action, error) {
	switch a {
	case specs.ActAllow:
		return gsb.ActionAllow, nil
	case specs.ActKill, specs.ActKillThread:
		return gsb.ActionKillThread, nil
	case specs.ActKillProcess:
		return gsb.ActionKillProcess, nil
	case specs.ActTrap:
		return gsb.ActionTrap, nil
	case specs.ActLog:
		return gsb.ActionLog, nil
	case specs.ActErrno, specs.ActTrace:
		base := gsb.ActionErrno
		if a == specs.ActTrace {
			base = gsb.ActionTrace
		}
		if errno == nil || (a == specs.ActErrno && *errno == uint(unix.EPERM)) {
			return base, nil
		}
		return base | gsb.Action(*errno&0xffff), nil
	}
	return 0, fmt.Errorf("seccomp action %q is not supported", a)
}

func seccompCondition(a specs.LinuxSeccompArg) (gsb.Condition, error) {
	c := gsb.Condition{Argument: uint32(a.Index), Value: a.Value}
	switch a.Op {
	case specs.OpEqualTo:
		c.Operation = gsb.Equal
	case specs.OpNotEqual:
		c.Operation = gsb.NotEqual
	case specs.OpLessThan:
		c.Operation = gsb.LessThan
	case specs.OpLessEqual:
		c.Operation = gsb.LessOrEqual
	case specs.OpGreaterThan:
		c.Operation = gsb.GreaterThan
	case specs.OpGreaterEqual:
		c.Operation = gsb.GreaterOrEqual
	case specs.OpMaskedEqual:
		// (arg & Value) == ValueTwo: only "no bit of the mask set" and
		// "a single bit set" have an equivalent.
		switch {
		case a.ValueTwo == 0:
			c.Operation = gsb.BitsNotSet
		case a.ValueTwo == a.Value && a.Value&(a.Value-1) == 0:
			c.Operation = gsb.BitsSet
		default:
			return c, fmt.Errorf("SCMP_CMP_MASKED_EQ %#x == %#x is not supported", a.Value, a.ValueTwo)
		}
	default:
		return c, fmt.Errorf("seccomp operator %q is not supported", a.Op)
	}
	return c, nil
}
