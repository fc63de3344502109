package images

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// runConnect is agnhost connect HOST:PORT: it tries a TCP or UDP
// connection and, on failure, prints a line starting with UNKNOWN,
// TIMEOUT, DNS, REFUSED or OTHER on stderr and exits 1.
func runConnect(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "connect")
	timeout := fs.Duration("timeout", 0, "Maximum time before returning an error")
	protocol := fs.String("protocol", "tcp", "The protocol to use to perform the connection, can be tcp, udp or sctp")
	udpData := fs.String("udp-data", "hostname", "The UDP payload send to the server")
	fs.String("sctp-data", "hostname", "The SCTP payload send to the server")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(s.errOut, "Error: accepts 1 arg(s), received %d\n", fs.NArg())
		return exitCode(1)
	}
	var msg string
	switch *protocol {
	case "", "tcp":
		msg = connectTCP(fs.Arg(0), *timeout)
	case "udp":
		msg = connectUDP(fs.Arg(0), *timeout, *udpData)
	case "sctp":
		msg = "OTHER: SCTP is not supported by svcplane's agnhost"
	default:
		msg = "Unsupported protocol\n" + *protocol
	}
	if msg == "" {
		return nil
	}
	fmt.Fprintln(s.errOut, msg)
	return exitCode(1)
}

// connectTCP returns "" when dest accepts a connection, else the line
// naming the failure.
func connectTCP(dest string, timeout time.Duration) string {
	if _, _, err := net.SplitHostPort(dest); err != nil {
		return fmt.Sprintf("UNKNOWN: %v", err)
	}
	if _, err := net.ResolveTCPAddr("tcp", dest); err != nil {
		return fmt.Sprintf("DNS: %v", err)
	}
	conn, err := net.DialTimeout("tcp", dest, timeout)
	if err == nil {
		conn.Close()
		return ""
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Timeout() {
		return "TIMEOUT"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "REFUSED"
	}
	return fmt.Sprintf("OTHER: %v", err)
}

// connectUDP sends data and a newline and waits for any answer.
func connectUDP(dest string, timeout time.Duration, data string) string {
	if _, err := net.ResolveUDPAddr("udp", dest); err != nil {
		return fmt.Sprintf("DNS: %v", err)
	}
	conn, err := net.Dial("udp", dest)
	if err != nil {
		return fmt.Sprintf("OTHER: %v", err)
	}
	defer conn.Close()
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	if _, err := conn.Write([]byte(data + "\n")); err != nil {
		return udpFailure(err)
	}
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if err != nil {
		return udpFailure(err)
	}
	if n == 0 {
		return "OTHER: No data received from the server. Cannot guarantee the server received the request."
	}
	return ""
}

func udpFailure(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("TIMEOUT: %v", err)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Sprintf("REFUSED: %v", err)
	}
	return fmt.Sprintf("UNKNOWN: %v", err)
}

// mounttestFlags are mounttest's flags, in the order it acts on them.
type mounttestFlags struct {
	fsType, new0644, new0666, new0660, new0777, mode, perm, owner, content, contentInLoop string
	retry                                                                                 int
	breakOnExpected                                                                       bool
}

const mounttestContent = "mount-tester new file\n"

// runMounttest is agnhost mounttest: it prints the filesystem type,
// writes new files with given permissions, prints files' mode, perms,
// owner and content; the volume tests read its output.
func runMounttest(_ context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "mounttest")
	var f mounttestFlags
	for _, v := range []struct {
		p          *string
		name, help string
	}{{&f.fsType, "fs_type", "Path to print the fs type for"}, {&f.mode, "file_mode", "Path to print the mode bits of"},
		{&f.perm, "file_perm", "Path to print the perms of"}, {&f.owner, "file_owner", "Path to print the owning UID and GID of"},
		{&f.new0644, "new_file_0644", "Path to write to and read from with perm 0644"},
		{&f.new0666, "new_file_0666", "Path to write to and read from with perm 0666"},
		{&f.new0660, "new_file_0660", "Path to write to and read from with perm 0660"},
		{&f.new0777, "new_file_0777", "Path to write to and read from with perm 0777"},
		{&f.content, "file_content", "Path to read the file content from"},
		{&f.contentInLoop, "file_content_in_loop", "Path to read the file content in loop from"}} {
		fs.StringVar(v.p, v.name, "", v.help)
	}
	fs.IntVar(&f.retry, "retry_time", 180, "Retry time during the loop")
	fs.BoolVar(&f.breakOnExpected, "break_on_expected_content", true, "Break out of loop on expected content, (use with --file_content_in_loop flag only)")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	if mounttest(s, f) {
		return exitCode(1)
	}
	return nil
}

// mounttest runs the checks in upstream's order and reports whether any
// failed.
func mounttest(s stdio, f mounttestFlags) (failed bool) {
	steps := []func() error{
		func() error { return mtFSType(s, f.fsType) },
		func() error { return mtNewFile(s, f.new0644, 0o644) },
		func() error { return mtNewFile(s, f.new0666, 0o666) },
		func() error { return mtNewFile(s, f.new0660, 0o660) },
		func() error { return mtNewFile(s, f.new0777, 0o777) },
		func() error {
			return mtStat(s, f.mode, "mode of file %q: %v\n", func(fi os.FileInfo) any { return fi.Mode() })
		},
		func() error {
			return mtStat(s, f.perm, "perms of file %q: %v\n", func(fi os.FileInfo) any { return fi.Mode().Perm() })
		},
		func() error { return mtOwner(s, f.owner) },
		func() error { return mtContent(s, f.content) },
		func() error { return mtContentInLoop(s, f.contentInLoop, f.retry, f.breakOnExpected) },
	}
	for _, step := range steps {
		if step() != nil {
			failed = true
		}
	}
	return failed
}

func mtFSType(s stdio, path string) error {
	if path == "" {
		return nil
	}
	var buf syscall.Statfs_t
	if err := syscall.Statfs(path, &buf); err != nil {
		fmt.Fprintf(s.out, "error from statfs(%q): %v\n", path, err)
		return err
	}
	fmt.Fprintf(s.out, "mount type of %q: %v\n", path, buf.Type)
	return nil
}

func mtNewFile(s stdio, path string, perm os.FileMode) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(mounttestContent), perm); err != nil {
		fmt.Fprintf(s.out, "error writing new file %q: %v\n", path, err)
		return err
	}
	return mtContent(s, path)
}

func mtStat(s stdio, path, format string, field func(os.FileInfo) any) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(s.out, "error from Stat(%q): %v\n", path, err)
		return err
	}
	fmt.Fprintf(s.out, format, path, field(fi))
	return nil
}

func mtOwner(s stdio, path string) error {
	if path == "" {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		fmt.Fprintf(s.out, "error from stat(%q): %v\n", path, err)
		return err
	}
	fmt.Fprintf(s.out, "owner UID of %q: %v\nowner GID of %q: %v\n", path, st.Uid, path, st.Gid)
	return nil
}

func mtContent(s stdio, path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(s.out, "error reading file content for %q: %v\n", path, err)
		return err
	}
	fmt.Fprintf(s.out, "content of file %q: %v\n", path, string(b))
	return nil
}

func mtContentInLoop(s stdio, path string, retry int, breakOnExpected bool) error {
	if path == "" {
		return nil
	}
	var err error
	for start := time.Now(); time.Since(start) < time.Duration(retry)*time.Second; time.Sleep(2 * time.Second) {
		var b []byte
		if b, err = os.ReadFile(path); err != nil {
			fmt.Fprintf(s.out, "Error reading file %s: %v, retrying\n", path, err)
			continue
		}
		fmt.Fprintf(s.out, "content of file %q: %v\n", path, string(b))
		if !breakOnExpected {
			continue
		}
		if string(b) != mounttestContent {
			fmt.Fprintf(s.out, "Unexpected content. Expected: %s. Retrying", mounttestContent)
			continue
		}
		break
	}
	return err
}

// runLogsGenerator is agnhost logs-generator: --log-lines-total lines
// spread over --run-duration, written as klog Info lines on stderr
// ("I1207 16:50:00.123456       1 logs_generator.go:76] 0 GET
// /api/v1/namespaces/ns/pods/abc 302").
func runLogsGenerator(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "logs-generator")
	total := fs.IntP("log-lines-total", "t", 0, "Total lines that should be generated by the end of the run")
	duration := fs.DurationP("run-duration", "d", 0, "Total duration of the run")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	if *total <= 0 {
		return fmt.Errorf("Invalid total number of lines: %d", *total) //nolint:staticcheck // upstream's text
	}
	if *duration <= 0 {
		return fmt.Errorf("Invalid duration: %v", *duration) //nolint:staticcheck // upstream's text
	}
	tick := time.NewTicker(*duration / time.Duration(*total))
	defer tick.Stop()
	for id := range *total {
		fmt.Fprintln(s.errOut, klogLine(time.Now(), os.Getpid(), logLine(id)))
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// klogLine is a klog Info line from logs_generator.go.
func klogLine(t time.Time, pid int, msg string) string {
	return fmt.Sprintf("I%s %7d logs_generator.go:76] %s", t.Format("0102 15:04:05.000000"), pid, msg)
}

// logLine is an API-server-like line of about 100 characters.
func logLine(id int) string {
	methods := []string{"GET", "POST", "PUT"}
	namespaces := []string{"kube-system", "default", "ns"}
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	name := make([]byte, 3+rand.IntN(2))
	for i := range name {
		name[i] = letters[rand.IntN(len(letters))]
	}
	return fmt.Sprintf("%d %s /api/v1/namespaces/%s/pods/%s %d", id, methods[rand.IntN(len(methods))],
		namespaces[rand.IntN(len(namespaces))], name, 200+rand.IntN(400))
}
