// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/proxy"
)

// Option names, as written in rsyslog's action(...) and passed through the
// plugin boundary. Each validation error names the option it is about.
const (
	OptServer          = "server"
	OptToken           = "token"
	OptIndex           = "index"
	OptSource          = "source"
	OptSourcetype      = "sourcetype"
	OptHost            = "host"
	OptTemplateJSON    = "template.json"
	OptBatchMaxEvents  = "batch.maxevents"
	OptBatchMaxBytes   = "batch.maxbytes"
	OptBatchMaxDelay   = "batch.maxdelay"
	OptCompress        = "compress"
	OptCompressLevel   = "compress.level"
	OptTimeout         = "timeout"
	OptConnections     = "connections"
	OptRetryMaxTime    = "retry.maxtime"
	OptWindowMaxEvents = "window.maxevents"
	OptWindowMaxBytes  = "window.maxbytes"
	OptWindowMaxWait   = "window.maxwait"
	OptWindowDiskMax   = "window.disk.maxevents"
	OptWindowFsync     = "window.fsync"
	OptTLSVerify       = "tls.verify"
	OptTLSCACert       = "tls.cacert"
	OptTLSCert         = "tls.cert"
	OptTLSKey          = "tls.key"
	OptTLSServerName   = "tls.servername"
	OptProxy           = "proxy"
	OptTimeSource      = "time.source"
	OptTimeMaxPast     = "time.maxpast"
	OptTimeMaxFuture   = "time.maxfuture"
	OptIndexAllowed    = "index.allowed"
	OptIndexFallback   = "index.fallback"
	OptIndexOnRefused  = "index.onrefused"
	OptSTAllowed       = "sourcetype.allowed"
	OptEventMaxBytes   = "event.maxbytes"
	OptEventOversize   = "event.oversize"
	OptErrorFile       = "errorfile"
	OptSpoolDir        = "spool.dir"
	OptUseAck          = "useack"
	OptAckInterval     = "ack.interval"
	OptAckTimeout      = "ack.timeout"
	OptEndpoint        = "endpoint"
	// rsyslog's own action parameter, passed on so that the log can say
	// what rsyslog does with a batch handed back.
	OptResumeRetryCount = "action.resumeretrycount"
	// OptActionID is the action's impstats name when it has a name=: its
	// window files are kept under it, across changes of its settings. An
	// unnamed action has none (its place in the config is no identity), and
	// its files are named after its servers, token and index.
	OptActionID = "action.id"
)

// What to do with an event whose text is longer than event.maxbytes.
const (
	OversizeTruncate = "truncate" // cut the text, send the rest, count it
	OversizeReject   = "reject"   // do not send it; write it to errorfile, count it
)

// Where an event's time comes from (time.source).
const (
	TimeReported = "reported" // the message's own time (default)
	TimeReceived = "received" // when rsyslog received it
	TimeNone     = "none"     // no time: Splunk stamps the arrival
	TimeExtract  = "extract"  // no time: Splunk finds it in the text (auto_extract_timestamp)
)

// ProxyNone as proxy= ignores the proxy environment variables.
const ProxyNone = "none"

// Defaults, each with the reason it was chosen.
const (
	// Splunk's own guidance is batches of a few hundred events; with ~300-byte
	// syslog events this keeps a request near 150 KB.
	defaultBatchMaxEvents = 500
	// Splunk's HEC max_content_length defaults to 1,000,000 bytes on older
	// releases; staying under it avoids 413s on any version.
	defaultBatchMaxBytes = 1000000
	// rsyslog hands us whole batches already; waiting only pays when several
	// rsyslog workers commit at the same time.
	defaultBatchMaxDelay = 0
	// gzip level 1 gets most of the size reduction for a fraction of the CPU.
	defaultCompressLevel = 1
	// Long enough for a busy indexer, short enough that a dead peer is noticed
	// well inside rsyslog's default queue.timeoutActionCompletion of 1 s x retries.
	defaultTimeout = 10 * time.Second
	// The ceiling of each endpoint's adaptive limit: at 200 ms a 500-event
	// request in flight per 2,500 events/s, so 64 leave room for 150,000
	// events/s at that distance, and HEC's 400+ connection default is far.
	defaultConnections = 64
	// The window: room for one second at 100,000 events/s, a few times the
	// events in flight at 200 ms; 64 MiB of memory at most.
	defaultWindowMaxEvents = 100000
	defaultWindowMaxBytes  = 64 << 20
	// What the window holds only in its files (requests awaiting their
	// ack): throughput x (ack delay + ack.interval + round trip), so 2 s
	// acks 50 ms away at 320,000 events/s need ~800,000; room for twice
	// that. ~8 bytes of memory per event, the bodies on disk.
	defaultWindowDiskMax = 2000000
	// A commit waits a moment for a full window to drain before the
	// action suspends, so that a short burst does not cost a suspension.
	defaultWindowMaxWait = time.Second
	// How long HEC may fail a request before the outage is logged as such;
	// the request stays in the window and is tried again until HEC takes it.
	defaultRetryMaxTime = 30 * time.Second
	defaultSourcetype   = "syslog"
	// Splunk indexes events of any size, but its default props.conf TRUNCATE
	// cuts lines at 10,000 bytes; 1 MiB keeps real multi-line events whole
	// and still stops a runaway message from becoming one giant request.
	defaultEventMaxBytes = 1 << 20
	// Indexer acknowledgement: how often outstanding ackIds are polled (one
	// request per channel for all of them), and how long a request may stay
	// unacknowledged before it is sent again. Splunk acks after indexing,
	// typically within a few seconds.
	defaultAckInterval = 500 * time.Millisecond
	defaultAckTimeout  = 30 * time.Second
)

// Config is everything one HEC destination needs. The zero value is not
// usable; build it with ParseOptions or fill it and call Validate.
type Config struct {
	Endpoints      []*url.URL
	Token          string
	Index          string
	Source         string
	Sourcetype     string
	Host           string // overrides every event's host when set
	TemplateJSON   bool   // the event body is already JSON: embed it, do not quote it
	BatchMaxEvents int
	BatchMaxBytes  int
	BatchMaxDelay  time.Duration
	Compress       bool
	CompressLevel  int
	Timeout        time.Duration
	Connections    int
	RetryMaxTime   time.Duration
	// The window: what the action holds that HEC has not taken yet; the
	// maxima bound memory, WindowDiskMaxEvents what is only in its files.
	WindowMaxEvents     int
	WindowMaxBytes      int
	WindowDiskMaxEvents int
	WindowMaxWait       time.Duration
	WindowFsync         bool // fdatasync each commit's records
	TLSVerify           bool
	TLSCACert           string
	TLSCert             string
	TLSKey              string
	TLSServerName       string // name sent in SNI and verified; "" = the URL's host
	Proxy               string // proxy=: a URL, ProxyNone, or "" for the environment's
	// Time: its source, and the guard that replaces a reported time
	// further than these from the receive time with the receive time
	// (0 = no bound). The guard needs ReceivedTime on each message.
	TimeSource    string
	TimeMaxPast   time.Duration
	TimeMaxFuture time.Duration
	// Routing safety: a rendered index (sourcetype) outside its allow-list
	// is replaced by IndexFallback (the action's sourcetype); IndexOnRefused
	// receives, once, events Splunk refuses with code 7.
	IndexAllowed      []string
	IndexFallback     string
	IndexOnRefused    string
	SourcetypeAllowed []string
	EventMaxBytes     int    // longest event text sent; see EventOversize
	EventOversize     string // OversizeTruncate or OversizeReject
	ErrorFile         string // where rejected events are written, one JSON line each; "" = log only
	WindowDir         string // where the window's files are kept (spool.dir); "" = memory only
	UseAck            bool   // count a request delivered only once HEC acknowledges it
	AckInterval       time.Duration
	AckTimeout        time.Duration
	Endpoint          string // EndpointEvent or EndpointRaw
	// PerMessageIndex says each message may carry an index of its own
	// (Message.Meta.Index): then HEC refusing an index (code 7) is that
	// event's fault and sets it aside, instead of holding up the action.
	PerMessageIndex bool
	// ResumeRetryCount is the action's action.resumeRetryCount (rsyslog's
	// default 0: a batch handed back is dropped; -1: kept and retried).
	ResumeRetryCount int
	// ActionID names the spool files; "" names them after servers, token
	// and index.
	ActionID string
	// Standalone is a sender of the omsplunkgo tool (replay), not of
	// rsyslogd: no health file, no unclaimed-files report or adoption, no
	// memory-window warning, and files in use by another process are an
	// error, not a reason to go on in memory.
	Standalone bool
	// WindowPrefix, with Standalone, makes the sender take exactly the
	// window files of that prefix in WindowDir (files no action claims,
	// replayed to this destination) instead of the action's own.
	WindowPrefix string
}

// shape is the action's fixed event metadata, for the encoder.
func (c *Config) shape() event.Shape {
	return event.Shape{Index: c.Index, Source: c.Source, Sourcetype: c.Sourcetype, Host: c.Host, TemplateJSON: c.TemplateJSON}
}

// defaultConfig returns a Config with every default set and no endpoint or token.
func defaultConfig() Config {
	return Config{
		Sourcetype:          defaultSourcetype,
		BatchMaxEvents:      defaultBatchMaxEvents,
		BatchMaxBytes:       defaultBatchMaxBytes,
		BatchMaxDelay:       defaultBatchMaxDelay,
		CompressLevel:       defaultCompressLevel,
		Timeout:             defaultTimeout,
		Connections:         defaultConnections,
		RetryMaxTime:        defaultRetryMaxTime,
		WindowMaxEvents:     defaultWindowMaxEvents,
		WindowMaxBytes:      defaultWindowMaxBytes,
		WindowMaxWait:       defaultWindowMaxWait,
		WindowDiskMaxEvents: defaultWindowDiskMax,
		TLSVerify:           true,
		EventMaxBytes:       defaultEventMaxBytes,
		EventOversize:       OversizeTruncate,
		TimeSource:          TimeReported,
		AckInterval:         defaultAckInterval,
		AckTimeout:          defaultAckTimeout,
		Endpoint:            EndpointEvent,
	}
}

// ParseOptions builds a Config from option name/value pairs. Durations are
// whole milliseconds, sizes whole bytes, switches "on"/"off" (rsyslog's
// binary values). Unknown names are errors: a typo must not pass silently.
func ParseOptions(opts map[string]string) (Config, error) {
	c := defaultConfig()
	var err error
	for name, v := range opts {
		switch name {
		case OptServer:
			c.Endpoints = nil
			for _, s := range strings.Split(v, ",") {
				u, perr := parseEndpoint(strings.TrimSpace(s))
				if perr != nil {
					return c, perr
				}
				c.Endpoints = append(c.Endpoints, u)
			}
		case OptToken:
			c.Token = v
		case OptIndex:
			c.Index = v
		case OptSource:
			c.Source = v
		case OptSourcetype:
			c.Sourcetype = v
		case OptHost:
			c.Host = v
		case OptTemplateJSON:
			c.TemplateJSON, err = parseSwitch(name, v)
		case OptBatchMaxEvents:
			c.BatchMaxEvents, err = parseInt(name, v)
		case OptBatchMaxBytes:
			c.BatchMaxBytes, err = parseInt(name, v)
		case OptBatchMaxDelay:
			c.BatchMaxDelay, err = parseMillis(name, v)
		case OptCompress:
			c.Compress, err = parseSwitch(name, v)
		case OptCompressLevel:
			c.CompressLevel, err = parseInt(name, v)
		case OptTimeout:
			c.Timeout, err = parseMillis(name, v)
		case OptConnections:
			c.Connections, err = parseInt(name, v)
		case OptRetryMaxTime:
			c.RetryMaxTime, err = parseMillis(name, v)
		case OptWindowMaxEvents:
			c.WindowMaxEvents, err = parseInt(name, v)
		case OptWindowMaxBytes:
			c.WindowMaxBytes, err = parseInt(name, v)
		case OptWindowMaxWait:
			c.WindowMaxWait, err = parseMillis(name, v)
		case OptWindowDiskMax:
			c.WindowDiskMaxEvents, err = parseInt(name, v)
		case OptWindowFsync:
			c.WindowFsync, err = parseSwitch(name, v)
		case OptTLSVerify:
			c.TLSVerify, err = parseSwitch(name, v)
		case OptTLSCACert:
			c.TLSCACert = v
		case OptTLSCert:
			c.TLSCert = v
		case OptTLSKey:
			c.TLSKey = v
		case OptTLSServerName:
			c.TLSServerName = strings.TrimSpace(v)
		case OptProxy:
			c.Proxy = strings.TrimSpace(v)
		case OptTimeSource:
			c.TimeSource = strings.ToLower(strings.TrimSpace(v))
		case OptTimeMaxPast:
			c.TimeMaxPast, err = parseSeconds(name, v)
		case OptTimeMaxFuture:
			c.TimeMaxFuture, err = parseSeconds(name, v)
		case OptIndexAllowed:
			c.IndexAllowed = splitList(v)
		case OptIndexFallback:
			c.IndexFallback = v
		case OptIndexOnRefused:
			c.IndexOnRefused = v
		case OptSTAllowed:
			c.SourcetypeAllowed = splitList(v)
		case OptEventMaxBytes:
			c.EventMaxBytes, err = parseInt(name, v)
		case OptEventOversize:
			c.EventOversize = strings.ToLower(strings.TrimSpace(v))
		case OptErrorFile:
			c.ErrorFile = v
		case OptSpoolDir:
			c.WindowDir = v
		case OptUseAck:
			c.UseAck, err = parseSwitch(name, v)
		case OptAckInterval:
			c.AckInterval, err = parseMillis(name, v)
		case OptAckTimeout:
			c.AckTimeout, err = parseMillis(name, v)
		case OptEndpoint:
			c.Endpoint = strings.ToLower(strings.TrimSpace(v))
		case OptResumeRetryCount:
			c.ResumeRetryCount, err = parseInt(name, v)
		case OptActionID:
			c.ActionID = v
		default:
			return c, fmt.Errorf("unknown option %q", name)
		}
		if err != nil {
			return c, err
		}
	}
	return c, c.Validate()
}

// parseEndpoint checks one HEC base URL: http or https, a host, an optional
// port (default 8088, HEC's port) and no path beyond "/".
func parseEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a URL: %v", OptServer, s, err)
	}
	if u.User != nil {
		// Not echoed: user:password@ may hold the token.
		return nil, fmt.Errorf("%s: a URL holds user information (user:password@); put the HEC token in %s instead",
			OptServer, OptToken)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: %q must start with http:// or https://", OptServer, s)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%s: %q has no host", OptServer, s)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s: %q has a bad port (1-65535)", OptServer, s)
		}
	} else {
		u.Host = u.Host + ":8088"
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("%s: %q must be scheme://host[:port] only; the module adds the HEC paths", OptServer, s)
	}
	u.Path = ""
	return u, nil
}

// Validate checks ranges and cross-option rules.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, a...)...))
	}
	if len(c.Endpoints) == 0 {
		bad(OptServer, "at least one HEC URL is required, e.g. https://splunk.example:8088")
	}
	if c.Token == "" {
		bad(OptToken, "a HEC token is required")
	} else if strings.ContainsAny(c.Token, " \t\r\n") {
		bad(OptToken, "must not contain white space")
	}
	if c.BatchMaxEvents < 1 || c.BatchMaxEvents > 1000000 {
		bad(OptBatchMaxEvents, "must be 1..1000000, got %d", c.BatchMaxEvents)
	}
	if c.BatchMaxBytes < 1024 || c.BatchMaxBytes > 1<<30 {
		bad(OptBatchMaxBytes, "must be 1024..1073741824, got %d", c.BatchMaxBytes)
	}
	if c.BatchMaxDelay < 0 || c.BatchMaxDelay > time.Minute {
		bad(OptBatchMaxDelay, "must be 0..60000 ms, got %d", c.BatchMaxDelay.Milliseconds())
	}
	if c.CompressLevel < 1 || c.CompressLevel > 9 {
		bad(OptCompressLevel, "must be 1..9, got %d", c.CompressLevel)
	}
	if c.Timeout < 100*time.Millisecond || c.Timeout > 10*time.Minute {
		bad(OptTimeout, "must be 100..600000 ms, got %d", c.Timeout.Milliseconds())
	}
	if c.Connections < 1 || c.Connections > 256 {
		bad(OptConnections, "must be 1..256, got %d", c.Connections)
	}
	if c.RetryMaxTime < 0 || c.RetryMaxTime > time.Hour {
		bad(OptRetryMaxTime, "must be 0..3600000 ms, got %d", c.RetryMaxTime.Milliseconds())
	}
	if c.WindowMaxEvents < 1 || c.WindowMaxEvents > 100000000 {
		bad(OptWindowMaxEvents, "must be 1..100000000, got %d", c.WindowMaxEvents)
	}
	if c.WindowMaxBytes < 65536 || c.WindowMaxBytes > 16<<30 {
		bad(OptWindowMaxBytes, "must be 65536..17179869184, got %d", c.WindowMaxBytes)
	}
	if c.WindowDiskMaxEvents < 1 || c.WindowDiskMaxEvents > 100000000 {
		bad(OptWindowDiskMax, "must be 1..100000000, got %d", c.WindowDiskMaxEvents)
	}
	if c.WindowMaxWait < 0 || c.WindowMaxWait > 10*time.Minute {
		bad(OptWindowMaxWait, "must be 0..600000 ms, got %d", c.WindowMaxWait.Milliseconds())
	}
	if c.EventMaxBytes < 1 || c.EventMaxBytes > 1<<30 {
		bad(OptEventMaxBytes, "must be 1..1073741824, got %d", c.EventMaxBytes)
	}
	if c.EventOversize != OversizeTruncate && c.EventOversize != OversizeReject {
		bad(OptEventOversize, "must be %q or %q, got %q", OversizeTruncate, OversizeReject, c.EventOversize)
	}
	if c.Endpoint != EndpointEvent && c.Endpoint != EndpointRaw {
		bad(OptEndpoint, "must be %q or %q, got %q", EndpointEvent, EndpointRaw, c.Endpoint)
	}
	if c.AckInterval < 10*time.Millisecond || c.AckInterval > time.Minute {
		bad(OptAckInterval, "must be 10..60000 ms, got %d", c.AckInterval.Milliseconds())
	}
	if c.AckTimeout < time.Second || c.AckTimeout > time.Hour {
		bad(OptAckTimeout, "must be 1000..3600000 ms, got %d", c.AckTimeout.Milliseconds())
	}
	if c.WindowDir != "" {
		if st, err := os.Stat(c.WindowDir); err != nil || !st.IsDir() {
			bad(OptSpoolDir, "%q must be an existing directory", c.WindowDir)
		}
	}
	if c.ErrorFile != "" {
		if st, err := os.Stat(filepath.Dir(c.ErrorFile)); err != nil || !st.IsDir() {
			bad(OptErrorFile, "the directory of %q must exist", c.ErrorFile)
		}
	}
	if c.TimeSource != TimeReported && c.TimeSource != TimeReceived && c.TimeSource != TimeNone && c.TimeSource != TimeExtract {
		bad(OptTimeSource, "must be %q, %q, %q or %q, got %q", TimeReported, TimeReceived, TimeNone, TimeExtract, c.TimeSource)
	}
	for _, b := range []struct {
		name string
		d    time.Duration
	}{{OptTimeMaxPast, c.TimeMaxPast}, {OptTimeMaxFuture, c.TimeMaxFuture}} {
		if b.d < 0 || b.d > 100*365*24*time.Hour {
			bad(b.name, "must be 0..3153600000 s, got %d", int64(b.d/time.Second))
		}
	}
	if c.TimeGuard() && c.TimeSource != TimeReported {
		bad(OptTimeSource, "%s and %s guard the reported time: they need %s=%q", OptTimeMaxPast, OptTimeMaxFuture,
			OptTimeSource, TimeReported)
	}
	if c.Endpoint == EndpointRaw && (c.TimeSource == TimeNone || c.TimeSource == TimeExtract || c.TimeGuard()) {
		bad(OptTimeSource, "with %s=%q Splunk takes each event's time from its line: %s may be %q or %q only "+
			"(the built-in line's timestamp), and %s/%s do not apply", OptEndpoint, EndpointRaw, OptTimeSource,
			TimeReported, TimeReceived, OptTimeMaxPast, OptTimeMaxFuture)
	}
	if c.Proxy != "" && c.Proxy != ProxyNone {
		if _, err := proxy.Parse(c.Proxy, OptProxy); err != nil {
			errs = append(errs, err)
		}
	}
	if c.TLSServerName != "" && (strings.ContainsAny(c.TLSServerName, " /:@") || len(c.TLSServerName) > 253) {
		bad(OptTLSServerName, "must be a host name, e.g. splunk.example.com")
	}
	for _, l := range []struct {
		name string
		vals []string
	}{{OptIndexAllowed, c.IndexAllowed}, {OptSTAllowed, c.SourcetypeAllowed}} {
		for _, v := range l.vals {
			if strings.Contains(strings.TrimSuffix(v, "*"), "*") {
				bad(l.name, "%q: a value may end in * (any rest), * elsewhere is not supported", v)
			}
		}
	}
	if c.IndexOnRefused != "" && c.IndexOnRefused == c.Index {
		bad(OptIndexOnRefused, "is the action's own index %q: events refused there cannot go there", c.Index)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad(OptTLSCert, "%s and %s must be given together", OptTLSCert, OptTLSKey)
	}
	for _, f := range []struct{ name, path string }{{OptTLSCACert, c.TLSCACert}, {OptTLSCert, c.TLSCert}, {OptTLSKey, c.TLSKey}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			bad(f.name, "cannot read %q: %v", f.path, err)
		}
	}
	return errors.Join(errs...)
}

func parseInt(name, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", name, v)
	}
	return n, nil
}

// TimeGuard reports whether a bound on the reported time is set.
func (c *Config) TimeGuard() bool { return c.TimeMaxPast > 0 || c.TimeMaxFuture > 0 }

// splitList reads a comma-joined array parameter; empty entries dropped.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseSeconds(name, v string) (time.Duration, error) {
	n, err := parseInt(name, v)
	return time.Duration(n) * time.Second, err
}

func parseMillis(name, v string) (time.Duration, error) {
	n, err := parseInt(name, v)
	return time.Duration(n) * time.Millisecond, err
}

func parseSwitch(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "1", "yes", "true":
		return true, nil
	case "off", "0", "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("%s: %q must be on or off", name, v)
}
