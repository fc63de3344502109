package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// printMachine writes what the figures depend on.
func printMachine(w io.Writer) {
	fmt.Fprintf(w, "## bench/proxy, %s\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintln(w, "| machine | |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| cores (nproc) | %d |\n", runtime.NumCPU())
	fmt.Fprintf(w, "| memory | %s |\n", memTotal())
	fmt.Fprintf(w, "| kernel | %s |\n", firstLine(os.ReadFile("/proc/sys/kernel/osrelease")))
	fmt.Fprintf(w, "| nft | %s |\n", firstLine(exec.Command("nft", "--version").Output()))
	fmt.Fprintf(w, "| iptables | %s; %s |\n",
		firstLine(exec.Command("iptables-legacy", "--version").Output()),
		firstLine(exec.Command("iptables-nft", "--version").Output()))
	fmt.Fprintf(w, "| Go | %s |\n", runtime.Version())
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

// memTotal is MemTotal of /proc/meminfo.
func memTotal() string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int
		if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}
