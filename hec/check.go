// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/endpoint"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Checking an action against the real HEC before going live (`omsplunkgo
// check`): what each server answers to requests that index nothing — an
// empty body tells a valid token from another, a request without a
// channel whether the token has acknowledgement on, a body of white space
// just over batch.maxbytes whether HEC takes requests that large — and,
// only when asked, one marked test event per index.

// Check levels.
const (
	CheckOK      = "ok"
	CheckWarning = "warning"
	CheckError   = "error"
)

// Finding is one check's result for one server.
type Finding struct {
	Server string `json:"server"`
	Check  string `json:"check"`
	Level  string `json:"level"`
	Text   string `json:"text"`
}

// CheckOptions tune Check.
type CheckOptions struct {
	Timeout time.Duration // per request
	// SendTestEvents indexes one marked event per index the action can
	// name statically (its index, index.allowed without wildcards,
	// index.fallback, index.onrefused).
	SendTestEvents bool
	Marker         string // text of the test events
	// Indexes are the values the action's index.template can render, as
	// far as they are known (IndexesFrom says from where): with
	// SendTestEvents each index they route to gets a test event too.
	Indexes     []string
	IndexesFrom string
}

// stickyProbes is how many test requests go on one channel when acks are
// on: behind a balancer that spreads a channel over indexers, ackIds
// repeat within a few (each indexer counts the channel from 0).
const stickyProbes = 4

// Check runs the checks of one action's configuration against each of its
// servers.
func Check(cfg Config, o CheckOptions) []Finding {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	cfg.Timeout = o.Timeout
	var out []Finding
	for _, u := range cfg.Endpoints {
		c := &checker{cfg: &cfg, o: o, server: u.String()}
		c.run()
		out = append(out, c.found...)
	}
	return out
}

type checker struct {
	cfg    *Config
	o      CheckOptions
	server string
	ep     *endpoint.Endpoint
	cookie bool // a cookie came with an answer
	found  []Finding
}

func (c *checker) add(check, level, format string, a ...any) {
	c.found = append(c.found, Finding{Server: c.server, Check: check, Level: level, Text: fmt.Sprintf(format, a...)})
}

func (c *checker) run() {
	u := c.cfg.Endpoints[0]
	for _, e := range c.cfg.Endpoints {
		if e.String() == c.server {
			u = e
		}
	}
	t, err := newTarget(u, c.cfg, func() bool { return false })
	if err != nil {
		c.add("tls", CheckError, "%v", err)
		return
	}
	c.ep = t.Endpoint
	if t.proxy != nil {
		c.add("proxy", CheckOK, "through %s (%s); the proxy resolves the name", t.proxy.Shown, t.proxy.From)
	} else if !c.resolves(u.Hostname()) {
		return
	}
	health := c.ep.Health()
	c.cookie = health.SetCookie
	if !c.reached(health) {
		return
	}
	c.healthAnswer(health)
	c.clock(health)
	if !c.token() {
		return
	}
	c.acks()
	c.bodyCap()
	if c.o.SendTestEvents {
		c.testEvents()
	} else {
		c.add("index", CheckOK, "not checked: Splunk checks an index only when it indexes an event (run with --send-test-events)")
	}
}

// resolves checks the name.
func (c *checker) resolves(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		c.add("dns", CheckError, "%s does not resolve: %v - check the server URL and the host's DNS", host, err)
		return false
	}
	c.add("dns", CheckOK, "%s is %s", host, strings.Join(addrs, ", "))
	return true
}

// reached sorts out a health answer that is no answer: connection, TLS,
// proxy.
func (c *checker) reached(r endpoint.Result) bool {
	if r.Err == nil {
		if strings.HasPrefix(c.server, "https") {
			c.add("tls", CheckOK, "certificate verified for the name asked%s", c.clientCert())
		}
		c.add("connect", CheckOK, "connected")
		return true
	}
	msg := r.Err.Error()
	var hostErr, authErr bool
	if strings.Contains(msg, "x509: certificate is valid for") {
		hostErr = true
	}
	if strings.Contains(msg, "x509: certificate signed by unknown authority") || strings.Contains(msg, "certificate verify") {
		authErr = true
	}
	switch {
	case r.Proxy:
		c.add("proxy", CheckError, "%v", r.Err)
	case hostErr:
		c.add("tls", CheckError, "%v", r.Err)
	case authErr:
		c.add("tls", CheckError, "%v - name the CA that signed HEC's certificate in tls.cacert", r.Err)
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		c.add("tls", CheckError, "%v - check tls.cacert, tls.cert/tls.key and that the server speaks TLS (https://)", r.Err)
	default:
		c.add("connect", CheckError, "%v - check the server URL and port, and that the network lets this host reach it", r.Err)
	}
	return false
}

func (c *checker) clientCert() string {
	if c.cfg.TLSCert != "" {
		return " (client certificate " + c.cfg.TLSCert + " offered)"
	}
	return ""
}

// healthAnswer reads HEC's health answer.
func (c *checker) healthAnswer(r endpoint.Result) {
	switch {
	case r.Status == 200 && r.Reply.Code == endpoint.CodeHealthy:
		c.add("health", CheckOK, "HEC is healthy (code 17)")
	case r.Status == 503 && r.Reply.Code >= 18 && r.Reply.Code <= 20:
		c.add("health", CheckWarning, "HEC answers it cannot take data now: %s (code %d) - the module waits and retries", r.Reply.Text, r.Reply.Code)
	case r.Reply.Code < 0:
		c.add("health", CheckError, "%s - not an answer of HEC's: is this the HEC port (default 8088), not Splunk Web or the management port?", r.Error())
	default:
		c.add("health", CheckWarning, "%s", r.Error())
	}
}

// clock compares HEC's Date with this host's.
func (c *checker) clock(r endpoint.Result) {
	if r.Date.IsZero() {
		return
	}
	d := time.Since(r.Date).Round(time.Second)
	if d < 0 {
		d = -d
	}
	if d > time.Minute {
		c.add("clock", CheckWarning, "this host's clock and HEC's differ by %s: events stamped here land that far off in Splunk's time - sync the clocks (NTP)", d)
		return
	}
	c.add("clock", CheckOK, "clocks agree within %s", max(d, time.Second))
}

// token posts an empty body: HEC answers "No data" (code 5) to a valid
// token and 401/403 to any other, indexing nothing.
func (c *checker) token() bool {
	r := c.ep.Probe(endpoint.PathEvent, nil, endpoint.NewChannel())
	c.cookie = c.cookie || r.SetCookie
	switch {
	case r.Reply.Code == endpoint.CodeNoData:
		c.add("token", CheckOK, "HEC takes the token")
		return true
	case r.Reply.Code == endpoint.CodeTokenDisabled:
		c.add("token", CheckError, "the token is disabled in Splunk (code 1) - enable it under Settings > Data inputs > HTTP Event Collector")
	case r.Status == 401 || r.Status == 403:
		c.add("token", CheckError, "HEC refuses the token: %s - check token or token.file", r.Error())
	default:
		c.add("token", CheckError, "unexpected answer to an empty request: %s", r.Error())
	}
	return false
}

// acks posts an empty body without a channel: a token with indexer
// acknowledgement on wants a channel (code 10, or 28 on Splunk Cloud)
// before it reads the body.
func (c *checker) acks() {
	r := c.ep.Probe(endpoint.PathEvent, nil, "")
	c.cookie = c.cookie || r.SetCookie
	on := r.Reply.Code == endpoint.CodeChannelMissing || r.Reply.Code == endpoint.CodeChannelMissingLB
	switch {
	case on && c.cfg.UseAck:
		c.add("acks", CheckOK, "indexer acknowledgement is on for the token")
		if !c.cookie && !c.o.SendTestEvents { // else the test events tell
			c.add("cookies", CheckWarning, "no cookie seen from this server: if it is a load balancer in front of several indexers, it must keep each channel on one indexer (sticky sessions), or acks are lost and events sent twice; --send-test-events tells (%d requests on one channel)", stickyProbes)
		}
	case on:
		c.add("acks", CheckWarning, "the token has indexer acknowledgement on, the action has useack=\"off\": HTTP 200 is all the proof of delivery it uses (set useack=\"on\")")
	case c.cfg.UseAck:
		c.add("acks", CheckError, "useack=\"on\", but the token has indexer acknowledgement off: every request would wait for an ack that never comes - enable it on the token in Splunk, or set useack=\"off\"")
	default:
		c.add("acks", CheckOK, "indexer acknowledgement off, as the action (useack=\"off\")")
	}
}

// bodyCap posts white space just over batch.maxbytes: HEC reads it as no
// data when it takes bodies that large, and refuses it (413, or code 6
// naming object 0 on Splunk Cloud) when not.
func (c *checker) bodyCap() {
	body := bytes.Repeat([]byte{' '}, c.cfg.BatchMaxBytes+1)
	r := c.ep.Probe(endpoint.PathEvent, body, endpoint.NewChannel())
	switch {
	case r.Reply.Code == endpoint.CodeNoData:
		c.add("body", CheckOK, "HEC takes requests of batch.maxbytes=%d", c.cfg.BatchMaxBytes)
	case r.Status == 413 || r.Reply.Code == endpoint.CodeInvalidFormat:
		c.add("body", CheckError, "HEC refuses a request of %d bytes (%s): lower batch.maxbytes (Splunk Cloud caps a request near 5 MB, Enterprise at max_content_length)", c.cfg.BatchMaxBytes+1, r.Error())
	default:
		c.add("body", CheckWarning, "could not tell whether HEC takes requests of batch.maxbytes=%d: %s", c.cfg.BatchMaxBytes, r.Error())
	}
}

// testEvents indexes one marked event per index the action can name
// (statically, or as a known value of its index.template), and says how
// to find them. With acks on they go on one channel, at least
// stickyProbes requests: an ackId that does not rise shows a balancer
// that spreads the channel over indexers.
func (c *checker) testEvents() {
	type target struct{ index, origin string }
	var targets []target
	seen := map[string]bool{}
	add := func(ix, origin string) {
		if !seen[ix] && !strings.HasSuffix(ix, "*") {
			seen[ix] = true
			targets = append(targets, target{ix, origin})
		}
	}
	add(c.cfg.Index, "")
	for _, ix := range append(append([]string{}, c.cfg.IndexAllowed...), c.cfg.IndexFallback, c.cfg.IndexOnRefused) {
		if ix != "" {
			add(ix, "")
		}
	}
	for _, v := range c.o.Indexes {
		if ix, _ := c.cfg.RoutedIndex(v); ix != "" {
			add(ix, " (a value of index.template: "+c.o.IndexesFrom+")")
		}
	}
	channel := endpoint.NewChannel()
	moved := false
	for i := 0; i < len(targets) || c.cfg.UseAck && i < stickyProbes; i++ {
		t := targets[0]
		if i < len(targets) {
			t = targets[i]
		}
		enc := event.NewEncoder(event.Shape{Index: t.index, Sourcetype: c.cfg.Sourcetype, Source: "omsplunkgo-check"})
		body := enc.AppendEvent(nil, []byte(fmt.Sprintf("%d", time.Now().Unix())), []byte("omsplunkgo-check"), []byte(c.o.Marker))
		var r endpoint.Result
		if c.cfg.UseAck {
			r = c.ep.Post(endpoint.PathEvent, "", body, false, channel)
			moved = moved || r.Moved
			c.cookie = c.cookie || r.SetCookie
		} else {
			r = c.ep.Probe(endpoint.PathEvent, body, endpoint.NewChannel())
		}
		if i >= len(targets) {
			continue // a further request for the stickiness check
		}
		name := t.index
		if name == "" {
			name = "(the token's default index)"
		}
		switch {
		case r.Outcome == endpoint.Delivered:
			c.add("index", CheckOK, "test event indexed in %s%s: search index=%s source=omsplunkgo-check %q", name, t.origin, orStar(t.index), c.o.Marker)
		case r.Reply.Code == endpoint.CodeIncorrectIndex:
			c.add("index", CheckError, "HEC refuses index %s%s for this token (code 7): create the index, or allow it on the token", name, t.origin)
		default:
			c.add("index", CheckError, "test event for %s%s: %s", name, t.origin, r.Error())
		}
	}
	if c.cfg.UseAck && len(targets) > 0 {
		if moved {
			c.add("cookies", CheckError, "ackIds on one channel did not rise: its requests reached different indexers, so acks "+
				"are lost and events sent twice - make the load balancer keep a channel on one indexer (sticky sessions by its "+
				"cookie, or routing by the X-Splunk-Request-Channel header)")
		} else {
			c.add("cookies", CheckOK, "%d requests on one channel reached one indexer (ackIds rose)", max(len(targets), stickyProbes))
		}
	}
}

func orStar(ix string) string {
	if ix == "" {
		return "*"
	}
	return ix
}

// Worst is the worst level among findings.
func Worst(fs []Finding) string {
	w := CheckOK
	for _, f := range fs {
		switch {
		case f.Level == CheckError:
			return CheckError
		case f.Level == CheckWarning:
			w = CheckWarning
		}
	}
	return w
}
