package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// result is one mode's figures: the throughput of each bulk transfer,
// the CPU time it took per byte, and the p50 and p99 of the round trips.
type result struct {
	mode    string
	runs    []float64 // MB/s
	cpu     []float64 // CPU seconds per GB: client, server and proxy
	rr, crr [2]time.Duration
}

// mbps is the median throughput.
func (r *result) mbps() float64 { return median(r.runs) }

// cpuPerGB is the median CPU time per GB.
func (r *result) cpuPerGB() float64 { return median(r.cpu) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Sorted(slices.Values(xs))
	return xs[len(xs)/2]
}

// startServers listens on the server pod's address (called in its
// namespace; the accepted connections live there too).
func startServers() error {
	bulk, err := net.Listen("tcp4", net.JoinHostPort(serverIP, strconv.Itoa(bulkPort)))
	if err != nil {
		return err
	}
	echo, err := net.Listen("tcp4", net.JoinHostPort(serverIP, strconv.Itoa(echoPort)))
	if err != nil {
		return err
	}
	go serve(bulk, func(c net.Conn) {
		buf := make([]byte, 256<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		c.Write([]byte("ok"))
	})
	go serve(echo, func(c net.Conn) { io.Copy(c, c) })
	return nil
}

func serve(ln net.Listener, fn func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			fn(c)
		}()
	}
}

// bulk and latencies run in the client namespace, on one thread: every
// socket they open is the client pod's. The CPU time of a transfer is
// this process's (client and server, and the proxy in userspace-inproc)
// plus the proxy process's: softirq work done in other processes'
// time (under load, ksoftirqd's) is not counted.
func (r *result) bulk(target string, o options, proxyCPU func() time.Duration) error {
	cpu0, pcpu0 := selfCPU(), proxyCPU()
	mb, took, err := bulk(net.JoinHostPort(target, strconv.Itoa(port(target, bulkPort))), o.duration, o.streams)
	if err != nil {
		return err
	}
	cpu := selfCPU() - cpu0 + proxyCPU() - pcpu0
	r.runs = append(r.runs, mb/took.Seconds())
	r.cpu = append(r.cpu, cpu.Seconds()/(mb/1e3))
	return nil
}

func (r *result) latencies(target string, o options) error {
	echo := net.JoinHostPort(target, strconv.Itoa(port(target, echoPort)))
	var err error
	if r.rr, err = roundTrips(echo, o.rr); err != nil {
		return err
	}
	r.crr, err = connectRoundTrips(echo, o.crr)
	return err
}

// bulk sends for d on each of streams connections and returns the MB
// (10^6 bytes) sent and the time until the server had read everything.
// The connections are opened on the calling thread (in the client's
// namespace), then written from a goroutine each.
func bulk(addr string, d time.Duration, streams int) (float64, time.Duration, error) {
	conns := make([]net.Conn, 0, streams)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range streams {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			return 0, 0, err
		}
		conns = append(conns, c)
	}
	start := time.Now()
	sent := make([]int64, streams)
	errs := make([]error, streams)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { sent[i], errs[i] = send(c, start.Add(d)) })
	}
	wg.Wait()
	var total int64
	for i := range conns {
		if errs[i] != nil {
			return 0, 0, errs[i]
		}
		total += sent[i]
	}
	return float64(total) / 1e6, time.Since(start), nil
}

// send writes 256 KiB at a time on c until end, half-closes it and
// waits for the server's acknowledgement.
func send(c net.Conn, end time.Time) (int64, error) {
	buf := make([]byte, 256<<10)
	var sent int64
	for time.Now().Before(end) {
		n, err := c.Write(buf)
		sent += int64(n)
		if err != nil {
			return 0, err
		}
	}
	c.(*net.TCPConn).CloseWrite()
	ack := make([]byte, 2)
	if _, err := io.ReadFull(c, ack); err != nil || !bytes.Equal(ack, []byte("ok")) {
		return 0, fmt.Errorf("bulk: no ack: %v", err)
	}
	return sent, nil
}

// roundTrips sends n 64-byte requests on one connection, each after the
// previous answer.
func roundTrips(addr string, n int) ([2]time.Duration, error) {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		return [2]time.Duration{}, err
	}
	defer c.Close()
	req, resp := make([]byte, 64), make([]byte, 64)
	times := make([]time.Duration, 0, n)
	for i := range n + 100 {
		start := time.Now()
		if _, err := c.Write(req); err != nil {
			return [2]time.Duration{}, err
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			return [2]time.Duration{}, err
		}
		if i >= 100 { // warm-up
			times = append(times, time.Since(start))
		}
	}
	return percentiles(times), nil
}

// connectRoundTrips connects, sends a 64-byte request, reads the answer
// and closes, n times.
func connectRoundTrips(addr string, n int) ([2]time.Duration, error) {
	req, resp := make([]byte, 64), make([]byte, 64)
	times := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			return [2]time.Duration{}, err
		}
		_, err = c.Write(req)
		if err == nil {
			_, err = io.ReadFull(c, resp)
		}
		c.Close()
		if err != nil {
			return [2]time.Duration{}, err
		}
		times = append(times, time.Since(start))
	}
	return percentiles(times), nil
}

func percentiles(ts []time.Duration) [2]time.Duration {
	slices.Sort(ts)
	at := func(q float64) time.Duration { return ts[int(q*float64(len(ts)-1))].Round(time.Microsecond) }
	return [2]time.Duration{at(0.50), at(0.99)}
}
