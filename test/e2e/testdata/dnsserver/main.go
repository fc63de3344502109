// Command dnsserver is the e2e tests' DNS server: it answers from the
// records given as arguments (zone-file syntax), NXDOMAIN for other
// names, on the UDP address of -addr, and prints "ready" once it listens.
// The tests run it in a sandbox's node namespace while the cluster has no
// DNS of its own.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:53", "UDP address to listen on")
	flag.Parse()
	records := map[string][]dns.RR{}
	for _, line := range flag.Args() {
		rr, err := dns.NewRR(line)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dnsserver: record %q: %v\n", line, err)
			os.Exit(2)
		}
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	srv := &dns.Server{Addr: *addr, Net: "udp", Handler: zone(records), NotifyStartedFunc: func() { fmt.Println("ready") }}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		<-stop
		srv.Shutdown()
	}()
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintf(os.Stderr, "dnsserver: %v\n", err)
		os.Exit(1)
	}
}

// zone answers from its records, authoritatively.
type zone map[string][]dns.RR

func (z zone) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg).SetReply(q)
	m.Authoritative = true
	rrs, ok := z[strings.ToLower(q.Question[0].Name)]
	if !ok {
		m.Rcode = dns.RcodeNameError
	}
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Question[0].Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}
