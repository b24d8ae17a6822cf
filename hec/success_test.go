// SPDX-License-Identifier: Apache-2.0

package hec_test

import (
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// A success is a success: answers that are valid HTTP but unusual (a
// chunked answer with a trailer, line ends without CR, HEC's success
// object followed by megabytes of padding) take the events once, not
// again and again.
func TestUnusualSuccessAnswers(t *testing.T) {
	for _, how := range []string{"trailer", "barelf", "padded"} {
		t.Run(how, func(t *testing.T) {
			r := receiver(t, hecreceiver.Config{})
			r.SetFaults(hecreceiver.Faults{Answer: how})
			s := newSender(t, r.URL(), func(c *hec.Config) { c.BatchMaxEvents = 50; c.RetryMaxTime = 2 * time.Second })
			if err := deliver(s, messages(500), nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // a resend would land by now
			checkArrivals(t, r.Events(), messages(500), nil)
		})
	}
}
