package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"time"
)

// latencyResult is what the load generator prints, as JSON.
type latencyResult struct {
	Sent, Received int
	P50, P99, Max  time.Duration
}

// latencyMain sends the queries of a file at a fixed rate (open loop) over
// one UDP socket and prints the latency percentiles. The sender never
// waits for answers, so a slow server cannot slow it down (no coordinated
// omission); each latency counts from when its query was written, so the
// generator's own timer jitter is left out. An answer after the timeout
// is a lost query.
func latencyMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	server := fs.String("server", "", "ip:port of the DNS server")
	file := fs.String("queries", "", "dnsperf query file")
	rate := fs.Int("rate", 10000, "queries per second")
	d := fs.Duration("duration", 10*time.Second, "how long to send")
	timeout := fs.Duration("timeout", time.Second, "after this an answer counts as lost")
	if err := fs.Parse(args); err != nil {
		return err
	}
	msgs, err := readQueries(*file)
	if err != nil {
		return err
	}
	var packed [][]byte
	for _, m := range msgs {
		b, err := m.Pack()
		if err != nil {
			return err
		}
		packed = append(packed, b)
	}
	res, err := measureLatency(ctx, *server, packed, *rate, *d, *timeout)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func measureLatency(ctx context.Context, server string, queries [][]byte, rate int, d, timeout time.Duration) (latencyResult, error) {
	conn, err := net.Dial("udp", server)
	if err != nil {
		return latencyResult{}, err
	}
	defer conn.Close()
	n := int(int64(rate) * int64(d) / int64(time.Second))
	interval := time.Second / time.Duration(rate)
	sentAt := make([]atomic.Int64, n) // since start, written by the sender
	lat := make([]time.Duration, n)   // written by the receiver; 0: no answer
	var sent atomic.Int64
	start := time.Now()
	recvDone := make(chan error, 1)
	go func() { recvDone <- receive(conn, start, sentAt, &sent, lat) }()
	err = send(ctx, conn, queries, start, interval, sentAt, &sent)
	time.Sleep(timeout)
	conn.Close()
	if rerr := <-recvDone; err == nil {
		err = rerr
	}
	return summarize(lat[:sent.Load()], timeout), err
}

// send writes query i (IDs count up, wrapping) when it is due.
func send(ctx context.Context, conn net.Conn, queries [][]byte, start time.Time, interval time.Duration, sentAt []atomic.Int64, sent *atomic.Int64) error {
	buf := make([]byte, 512)
	for i := range sentAt {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 50*time.Microsecond {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		q := append(buf[:0], queries[i%len(queries)]...)
		binary.BigEndian.PutUint16(q, uint16(i))
		sentAt[i].Store(int64(time.Since(start)))
		sent.Store(int64(i + 1))
		if _, err := conn.Write(q); err != nil {
			return err
		}
	}
	return nil
}

// receive records each answer's latency. An ID names the latest query
// sent with it.
func receive(conn net.Conn, start time.Time, sentAt []atomic.Int64, sent *atomic.Int64, lat []time.Duration) error {
	buf := make([]byte, 65536)
	for {
		k, err := conn.Read(buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Since(start)
		if k < 12 {
			continue
		}
		last := sent.Load() - 1
		i := last - int64(uint16(last)-binary.BigEndian.Uint16(buf))
		if i >= 0 && lat[i] == 0 {
			lat[i] = max(now-time.Duration(sentAt[i].Load()), 1)
		}
	}
}

func summarize(lat []time.Duration, timeout time.Duration) latencyResult {
	var ok []time.Duration
	for _, l := range lat {
		if l > 0 && l <= timeout {
			ok = append(ok, l)
		}
	}
	slices.Sort(ok)
	res := latencyResult{Sent: len(lat), Received: len(ok)}
	if len(ok) > 0 {
		res.P50, res.P99, res.Max = ok[len(ok)/2], ok[len(ok)*99/100], ok[len(ok)-1]
	}
	return res
}

func (r latencyResult) String() string {
	return fmt.Sprintf("%d sent, %d answered, p50 %s, p99 %s, max %s", r.Sent, r.Received, r.P50, r.P99, r.Max)
}
