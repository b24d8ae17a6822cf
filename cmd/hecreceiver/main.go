// SPDX-License-Identifier: Apache-2.0

// Command hecreceiver runs the project's HEC-compatible receiver: the
// default target of the demo and the benchmark. It prints each event as it
// arrives while they come at most -show per second, and beyond that how
// many arrived each second; it can write every event to a JSON-lines file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	jsoniter "github.com/json-iterator/go"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8088", "listen address (keep it on loopback)")
	token := flag.String("token", "", "HEC token to require (empty: accept any)")
	ack := flag.Bool("ack", false, "require indexer acknowledgement (channel header, ackId replies)")
	out := flag.String("out", "", "append every accepted event to this JSON-lines file")
	show := flag.Int("show", 20, "print each event as it arrives, up to this many per second; count the rest")
	failRate := flag.Float64("fail-rate", 0, "answer this share of event requests 503 (HEC busy)")
	delay := flag.Duration("delay", 0, "delay every event request by this much")
	dropRate := flag.Float64("drop-rate", 0, "close this share of event requests' connections without an answer")
	rejectMatch := flag.String("reject-match", "", "answer 400 (code 6, invalid-event-number) to requests with an event containing this text")
	exitAfter := flag.Int64("exit-after", 0, "exit once this many events arrived (0: run until SIGINT/SIGTERM)")
	flag.Parse()

	var mu sync.Mutex
	var w *bufio.Writer
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hecreceiver:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = bufio.NewWriterSize(f, 1<<20)
		defer w.Flush()
	}
	// shownThisSecond counts the events printed in the current second;
	// unshown those arrived beyond -show, which the ticker reports.
	shownThisSecond, unshown := 0, int64(0)
	onEvent := func(ev *hecreceiver.Event) {
		mu.Lock()
		defer mu.Unlock()
		if shownThisSecond < *show {
			shownThisSecond++
			fmt.Printf("event: time=%s host=%q sourcetype=%q event=%q\n", ev.Time, ev.Host, ev.Sourcetype, ev.Event)
		} else {
			unshown++
		}
		if w != nil {
			b, _ := jsoniter.Marshal(ev)
			w.Write(b)
			w.WriteByte('\n')
		}
	}
	r, err := hecreceiver.Start(hecreceiver.Config{Addr: *addr, Token: *token, RequireAck: *ack, OnEvent: onEvent})
	if err != nil {
		fmt.Fprintln(os.Stderr, "hecreceiver:", err)
		os.Exit(1)
	}
	r.SetFaults(hecreceiver.Faults{FailRate: *failRate, Delay: *delay, DropRate: *dropRate, RejectMatch: *rejectMatch})
	fmt.Printf("hecreceiver: listening on %s (token %q, ack %v)\n", r.URL(), *token, *ack)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := int64(0)
	for {
		select {
		case <-stop:
			fmt.Printf("hecreceiver: %d events in total\n", r.Count())
			r.Close()
			return
		case <-tick.C:
			n := r.Count()
			mu.Lock()
			more := unshown
			shownThisSecond, unshown = 0, 0
			mu.Unlock()
			if more > 0 {
				fmt.Printf("hecreceiver: %d events in total (+%d/s, %d of them not shown)\n", n, n-last, more)
			}
			last = n
			if *exitAfter > 0 && n >= *exitAfter {
				fmt.Printf("hecreceiver: %d events in total\n", n)
				r.Close()
				return
			}
		}
	}
}
