// SPDX-License-Identifier: Apache-2.0

// Command loadgen sends numbered syslog lines to rsyslog over TCP: as fast
// as the socket takes them, or at a fixed rate. Bounded by -count and -timeout.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5514", "rsyslog imptcp address (loopback)")
	count := flag.Int("count", 10000, "messages to send")
	first := flag.Int("first", 0, "sequence number of the first message")
	rate := flag.Int("rate", 0, "messages per second (0: as fast as possible)")
	format := flag.String("format", "rfc3164", "rfc3164 or rfc5424")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	conns := flag.Int("conns", 1, "connections to spread a full-speed run over")
	flag.Parse()

	f := loadgen.RFC3164
	switch *format {
	case "rfc3164":
	case "rfc5424":
		f = loadgen.RFC5424
	default:
		fmt.Fprintf(os.Stderr, "loadgen: -format must be rfc3164 or rfc5424, not %q\n", *format)
		os.Exit(2)
	}
	res, err := loadgen.Send(loadgen.Options{Addr: *addr, Format: f, First: *first, Count: *count, Rate: *rate, Timeout: *timeout, Conns: *conns})
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: after %d messages: %v\n", res.Sent, err)
		os.Exit(1)
	}
	// Elapsed is the time to hand the bytes to the kernel, not delivery.
	fmt.Printf("loadgen: wrote %d messages to %s in %v\n", res.Sent, *addr, res.Elapsed.Round(time.Microsecond))
}
