// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/omsplunkgo/omsplunkgo/internal/proxytest"
)

// The proxy row: omsplunkgo to the HTTPS receiver through Debian's
// tinyproxy (scripts/setup-debian.sh installs it), every connection a
// CONNECT tunnel with Basic authentication, against the direct HTTPS row
// of the same run. The proxy's CPU is not the shipper's (as the
// receiver's is not): the rsyslogd column compares like for like.

var proxyShipper = shipper{
	name: "omsplunkgo, HTTPS through a proxy", short: "omsplunkgo-https-proxy",
	start: func(e *env) (*proc, error) {
		px, err := proxytest.Start(e.dir, 0, proxytest.Options{User: "bench", Password: "bench-pw"})
		if err != nil {
			return nil, err
		}
		p, err := omsplunkgoAction(e, true, fmt.Sprintf(`proxy="%s"`, px.URL("bench", "bench-pw")))
		if err != nil {
			px.Stop()
			return nil, err
		}
		stop := p.stop
		p.stop = func() error {
			defer px.Stop()
			return stop()
		}
		return p, nil
	},
}
