// SPDX-License-Identifier: Apache-2.0

// Command hecpipe is the benchmark's omprog helper built on the project's
// own hec package: it isolates what the pipe and the extra process cost
// compared with the in-process module. rsyslog's omprog writes one message
// per line, rendered as "<unixtime.fraction> <hostname> <event text>".
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

func main() {
	server := flag.String("server", "", "HEC base URL")
	token := flag.String("token", "", "HEC token")
	batch := flag.Int("batch", 500, "lines per Deliver call")
	flush := flag.Duration("flush", 100*time.Millisecond, "deliver a partial batch after this long")
	flag.Parse()

	cfg, err := hec.ParseOptions(map[string]string{hec.OptServer: *server, hec.OptToken: *token})
	if err != nil {
		fmt.Fprintln(os.Stderr, "hecpipe:", err)
		os.Exit(2)
	}
	s, err := hec.NewSender(cfg, func(_ int, msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "hecpipe:", err)
		os.Exit(2)
	}

	// The reader fills batches; up to `connections` of them are delivered
	// at once while the next one fills.
	batches := make(chan []hec.Message, cfg.Connections)
	var wg sync.WaitGroup
	for range cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				for s.Deliver(b, nil) != nil {
					time.Sleep(time.Second) // HEC down: keep the batch, try again
				}
			}
		}()
	}

	lines := make(chan []byte, 4096)
	go func() {
		r := bufio.NewReaderSize(os.Stdin, 1<<16)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				lines <- line
			}
			if err != nil { // EOF: rsyslog closed the pipe
				close(lines)
				return
			}
		}
	}()

	var cur []hec.Message
	timer := time.NewTimer(*flush)
	send := func() {
		if len(cur) > 0 {
			batches <- cur
			cur = nil
		}
	}
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				send()
				close(batches)
				wg.Wait()
				return
			}
			if len(cur) == 0 {
				timer.Reset(*flush)
			}
			cur = append(cur, parse(line))
			if len(cur) >= *batch {
				send()
			}
		case <-timer.C:
			send()
		}
	}
}

// parse splits "<time> <host> <text>\n"; the line is the message's own
// buffer (ReadBytes allocates a fresh one), so no copy is needed.
func parse(line []byte) hec.Message {
	line = bytes.TrimSuffix(line, []byte("\n"))
	ts, rest, _ := bytes.Cut(line, []byte(" "))
	host, text, _ := bytes.Cut(rest, []byte(" "))
	return hec.Message{Time: ts, Host: host, Body: text}
}
