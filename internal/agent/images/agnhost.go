package images

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// agnhostVersion is the agnhost release whose subcommands these follow
// (Kubernetes 1.32's e2e tests use 2.53).
const agnhostVersion = "2.53"

// agnhostCommand is one agnhost subcommand.
type agnhostCommand struct {
	name, short string
	run         func(ctx context.Context, s stdio, args []string) error
}

// agnhostCommands are the subcommands of upstream's agnhost that the
// conformance tests of sig-network, sig-apps, sig-node and sig-cli use.
func agnhostCommands() []agnhostCommand {
	return []agnhostCommand{
		{"connect", "Attempts a TCP, UDP or SCTP connection and returns useful errors", runConnect},
		{"dns-server-list", "Prints the host's DNS Server list", runDNSServerList},
		{"dns-suffix", "Prints the host's DNS suffix list", runDNSSuffix},
		{"entrypoint-tester", "Prints the args it's passed and exits", runEntrypointTester},
		{"etc-hosts", "Prints the host's /etc/hosts file", runEtcHosts},
		{"liveness", "Starts a server that is alive for 10 seconds", runLiveness},
		{"logs-generator", "Outputs lines of logs to stdout uniformly", runLogsGenerator},
		{"mounttest", "Creates files with given permissions and outputs FS type, owner, mode, permissions, contents of files", runMounttest},
		{"netexec", "Creates HTTP(S), UDP, and (optionally) SCTP servers with various endpoints", runNetexec},
		{"nettest", "Starts a tiny web server for checking networking connectivity", runNettest},
		{"pause", "Pauses the execution", runPause},
		{"porter", "Serves requested data on ports specified in ENV variables", runPorter},
		{"serve-hostname", "Serves the hostname", runServeHostname},
		{"test-webserver", "Starts a simple HTTP fileserver", runTestWebserver},
	}
}

// runAgnhost runs `agnhost SUBCOMMAND [flags]`.
func runAgnhost(ctx context.Context, s stdio, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		agnhostUsage(s.out)
		return nil
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintf(s.out, "app version %s\n", agnhostVersion)
		return nil
	}
	for _, c := range agnhostCommands() {
		if c.name == args[0] {
			return c.run(ctx, s, args[1:])
		}
	}
	fmt.Fprintf(s.errOut, "Error: unknown command %q for \"app\"\nRun 'app --help' for usage.\n", args[0])
	return exitCode(1)
}

func agnhostUsage(w io.Writer) {
	fmt.Fprint(w, "Usage:\n  app [command]\n\nAvailable Commands:\n")
	for _, c := range agnhostCommands() {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, "\nUse \"app [command] --help\" for more information about a command.\n")
}

// agnhostFlags is a subcommand's flag set. It also takes klog's flags,
// which agnhost accepts everywhere (tests pass --v).
func agnhostFlags(s stdio, name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(s.errOut)
	fs.Int("v", 0, "number for the log level verbosity")
	for _, b := range []string{"logtostderr", "alsologtostderr", "add_dir_header", "skip_headers", "skip_log_headers", "one_output"} {
		fs.Bool(b, false, "klog flag (ignored)")
	}
	for _, f := range []string{"log_dir", "log_file", "vmodule", "stderrthreshold", "log_backtrace_at"} {
		fs.String(f, "", "klog flag (ignored)")
	}
	fs.Uint64("log_file_max_size", 1800, "klog flag (ignored)")
	return fs
}

// parseFlags parses args; bad flags end the program with status 1, as
// cobra does.
func parseFlags(s stdio, fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitCode(0)
		}
		fmt.Fprintf(s.errOut, "Error: %v\n", err)
		return exitCode(1)
	}
	return nil
}

// logger prints like Go's standard log package, as agnhost does.
func logger(s stdio) *log.Logger { return log.New(s.errOut, "", log.LstdFlags) }

// runPause prints "Paused" and waits for a signal: SIGINT exits 1 and
// SIGTERM 2, as upstream's pause does.
func runPause(ctx context.Context, s stdio, args []string) error {
	if err := parseFlags(s, agnhostFlags(s, "pause"), args); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "Paused")
	<-ctx.Done()
	switch signalOf(ctx) {
	case syscall.SIGINT:
		return exitCode(1)
	case syscall.SIGTERM:
		return exitCode(2)
	}
	return nil
}

// runEntrypointTester prints the whole command line (os.Args).
func runEntrypointTester(_ context.Context, s stdio, _ []string) error {
	fmt.Fprintf(s.out, "%v\n", s.args)
	return nil
}

// runDNSSuffix prints resolv.conf's search list, comma-separated.
func runDNSSuffix(_ context.Context, s stdio, args []string) error {
	return printResolvConfLine(s, args, "dns-suffix", "search", "/etc/resolv.conf")
}

// runDNSServerList prints resolv.conf's first nameserver line's servers.
func runDNSServerList(_ context.Context, s stdio, args []string) error {
	return printResolvConfLine(s, args, "dns-server-list", "nameserver", "/etc/resolv.conf")
}

// printResolvConfLine prints the words after the first line starting
// with prefix, joined with commas, as upstream does (a space-separated
// split of the line).
func printResolvConfLine(s stdio, args []string, name, prefix, file string) error {
	if err := parseFlags(s, agnhostFlags(s, name), args); err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, prefix) {
			fmt.Fprintln(s.out, strings.Join(strings.Split(line, " ")[1:], ","))
			return nil
		}
	}
	return fmt.Errorf("could not find DNS %s list in %s", prefix, file)
}

// runEtcHosts prints /etc/hosts followed by a newline.
func runEtcHosts(_ context.Context, s stdio, args []string) error {
	if err := parseFlags(s, agnhostFlags(s, "etc-hosts"), args); err != nil {
		return err
	}
	data, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, string(data))
	return nil
}

// hostname is the container's hostname.
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
