// SPDX-License-Identifier: Apache-2.0

/* Every parameter of the module, declared once. The shim's parameter
 * tables are made from these lists (params.c, omsplunkgo.c); the README's
 * configuration reference is generated from them and `make lint` checks
 * that it, and the option names the Go side knows (hec/config.go), agree
 * (internal/optionsdoc).
 *
 * X(name, rsyslog type, flags, min, max, where, default, meaning)
 *   min..max: the range of a number (min > max: no range);
 *   where: GO, handed to Go under its own name; SHIM, taken by the shim
 *   (templates, token.file); RSYSLOG, rsyslog's own, read by the shim too;
 *   RSYSLOG_GO, rsyslog's own, handed to Go as well;
 *   default and meaning: the README's text (markdown, one line each). */
#ifndef OMSPLUNKGO_OPTIONS_H
#define OMSPLUNKGO_OPTIONS_H

/* module(load="omsplunkgo" ...) */
#define OMSG_MODULE_PARAMS(X) \
	X("library", eCmdHdlrString, 0, 1, 0, SHIM, "next to the module", \
	  "path of `libomsplunkgo.so`") \
	X("gomaxprocs", eCmdHdlrNonNegInt, 0, 1, 0, SHIM, "0 (all CPUs)", \
	  "CPUs the Go side may use (encoding, gzip, TLS, the senders)") \
	X("gomemlimit", eCmdHdlrSize, 0, 1, 0, SHIM, "none", \
	  "soft limit of the Go heap (`256m`, `1g`)") \
	X("debug.pprof", eCmdHdlrString, 0, 1, 0, SHIM, "off", \
	  "`host:port` on which the Go side serves its profiling endpoints, e.g. `127.0.0.1:6060`; then `go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10`. Unauthenticated: keep it on loopback. A bad address is logged and shipping goes on")

/* action(type="omsplunkgo" ...) */
#define OMSG_ACTION_PARAMS(X) \
	X("server", eCmdHdlrArray, CNFPARAM_REQUIRED, 1, 0, GO, "required", \
	  "HEC base URL `http[s]://host[:port]` (port 8088 if omitted), or an array of them: requests are spread round-robin, and a failed request is retried on the next") \
	X("token", eCmdHdlrString, 0, 1, 0, GO, "one of `token`, `token.file`", \
	  "HEC token") \
	X("token.file", eCmdHdlrString, 0, 1, 0, SHIM, "", \
	  "file holding the HEC token (one line; surrounding white space ignored; a regular file, no control characters), read as root when rsyslogd loads its config, so it can be `root:root 0600`, and read again on rsyslogd's HUP (`kill -HUP`): a rotated token applies from the next request on, retries included. The token never appears in a log line, `-N1` output, error file or spool file") \
	X("endpoint", eCmdHdlrGetWord, 0, 1, 0, GO, "`event`", \
	  "`event`: JSON events to `/services/collector/event`; `raw`: lines to `/services/collector/raw` (see \"The raw endpoint\")") \
	X("index", eCmdHdlrString, 0, 1, 0, GO, "token's default", "`index` of every event") \
	X("source", eCmdHdlrString, 0, 1, 0, GO, "token's default", "`source` of every event") \
	X("sourcetype", eCmdHdlrString, 0, 1, 0, GO, "`syslog`", "`sourcetype` of every event") \
	X("host", eCmdHdlrString, 0, 1, 0, GO, "message's hostname", "fixed `host` for every event") \
	X("template", eCmdHdlrGetWord, 0, 1, 0, SHIM, "built-in (see \"Events\")", "rsyslog template for the event body") \
	X("index.template", eCmdHdlrGetWord, 0, 1, 0, SHIM, "none", \
	  "rsyslog template rendered per message for the event's `index`; empty rendering: `index` applies (see \"Metadata per message\")") \
	X("source.template", eCmdHdlrGetWord, 0, 1, 0, SHIM, "none", \
	  "the same for `source`") \
	X("sourcetype.template", eCmdHdlrGetWord, 0, 1, 0, SHIM, "none", \
	  "the same for `sourcetype`") \
	X("host.template", eCmdHdlrGetWord, 0, 1, 0, SHIM, "none", \
	  "the same for `host`") \
	X("fields.template", eCmdHdlrGetWord, 0, 1, 0, SHIM, "none", \
	  "rsyslog template rendering the event's indexed `fields`: a JSON object of strings or arrays of strings") \
	X("template.json", eCmdHdlrBinary, 0, 1, 0, GO, "`off`", "embed a body that is valid JSON as a JSON value") \
	X("batch.maxevents", eCmdHdlrInt, 0, 1, 1000000, GO, "500", "events per HEC request") \
	X("batch.maxbytes", eCmdHdlrSize, 0, 1024, 1073741824, GO, "1000000", \
	  "bytes per request before compression; an event larger than this goes alone") \
	X("batch.maxdelay", eCmdHdlrInt, 0, 0, 60000, GO, "0 ms", \
	  "how long a sender lets a request that is not full wait for more batches before posting it; 0 posts at once (batches that queued meanwhile are joined anyway)") \
	X("compress", eCmdHdlrBinary, 0, 1, 0, GO, "`off`", "gzip request bodies") \
	X("compress.level", eCmdHdlrInt, 0, 1, 9, GO, "1", "gzip level") \
	X("timeout", eCmdHdlrInt, 0, 100, 600000, GO, "10000 ms", "per HTTP request") \
	X("connections", eCmdHdlrInt, 0, 1, 256, GO, "64", \
	  "most requests in flight per endpoint (and connections to it); under it each endpoint's limit adapts to its answers (see \"Delivery\")") \
	X("retry.maxtime", eCmdHdlrInt, 0, 0, 3600000, GO, "30000 ms", \
	  "how long HEC may fail a request before the outage is logged as such; the request stays in the window and is tried again until HEC takes it, and the action suspends only once the window is full (see \"Delivery\")") \
	X("window.maxevents", eCmdHdlrInt, 0, 1, 100000000, GO, "100000", \
	  "most events the action holds in memory that HEC has not taken yet (queued, on the wire, retried; awaiting an ack without files)") \
	X("window.maxbytes", eCmdHdlrSize, 0, 65536, 17179869184, GO, "64m", \
	  "the same in bytes (before compression)") \
	X("window.disk.maxevents", eCmdHdlrInt, 0, 1, 100000000, GO, "2000000", \
	  "most events the action holds only in its window files: requests awaiting their ack (`useack`), and what an earlier run left; size it to throughput x (ack delay + `ack.interval` + round trip) (see \"Delivery\")") \
	X("window.maxwait", eCmdHdlrInt, 0, 0, 600000, GO, "1000 ms", \
	  "how long a commit waits for room in a full window before the action suspends and rsyslog's queue holds the batch") \
	X("window.fsync", eCmdHdlrBinary, 0, 1, 0, GO, "`off`", \
	  "`on`: a commit returns only once its batch is on the disk (fdatasync), which survives a power cut, not just a crash of rsyslogd; costs a disk flush per commit") \
	X("tls.verify", eCmdHdlrBinary, 0, 1, 0, GO, "`on`", "verify the HEC certificate and name") \
	X("tls.cacert", eCmdHdlrString, 0, 1, 0, GO, "system CAs", "PEM file of CAs to trust") \
	X("tls.cert", eCmdHdlrString, 0, 1, 0, GO, "none", "client certificate (PEM)") \
	X("tls.key", eCmdHdlrString, 0, 1, 0, GO, "none", "key of the client certificate (PEM)") \
	X("tls.servername", eCmdHdlrString, 0, 1, 0, GO, "the URL's host", \
	  "name sent in SNI and verified against HEC's certificate, for a URL by IP address or a load balancer whose certificate carries another name") \
	X("proxy", eCmdHdlrString, 0, 1, 0, GO, "rsyslogd's `https_proxy`/`http_proxy`/`no_proxy`", \
	  "HTTP proxy `http://[user:password@]host[:port]` (port 3128 if omitted) every connection tunnels through (`CONNECT`; TLS to HEC end to end); `none`: connect directly whatever the environment says. The password never appears in a log line or `-N1` output (see [\"Through a proxy\"](rsyslog-conf/README.md#through-a-proxy))") \
	X("time.source", eCmdHdlrGetWord, 0, 1, 0, GO, "`reported`", \
	  "event time: `reported` (the message's), `received` (when rsyslog received it), `none` (Splunk stamps the arrival), `extract` (Splunk finds it in the text: `auto_extract_timestamp`, documented from Splunk 8.0 on); see [\"Event time\"](rsyslog-conf/README.md#event-time)") \
	X("time.maxpast", eCmdHdlrInt, 0, 0, 3153600000, GO, "0 (off)", \
	  "seconds a reported time may lie before the receive time; beyond, the event gets the receive time and keeps the reported one as indexed field `orig_time` (counted `time.replaced`)") \
	X("time.maxfuture", eCmdHdlrInt, 0, 0, 3153600000, GO, "0 (off)", \
	  "the same after the receive time") \
	X("index.allowed", eCmdHdlrArray, 0, 1, 0, GO, "none (any)", \
	  "indexes `index.template` may render (an entry may end in `*`); another value is replaced by `index.fallback`, marked with indexed field `orig_index`, counted `route.fallback` (see [\"Routing safety\"](rsyslog-conf/README.md#routing-safety))") \
	X("index.fallback", eCmdHdlrString, 0, 1, 0, GO, "`index` (else the token's default)", \
	  "index of an event whose rendered index is not in `index.allowed`") \
	X("sourcetype.allowed", eCmdHdlrArray, 0, 1, 0, GO, "none (any)", \
	  "sourcetypes `sourcetype.template` may render; another value is replaced by `sourcetype`, marked with `orig_sourcetype`, counted `route.fallback`") \
	X("index.onrefused", eCmdHdlrString, 0, 1, 0, GO, "none", \
	  "index that receives, once, an event HEC refuses for its index (code 7), marked with indexed field `refused_index`; refused there too, it goes to `errorfile`. With it, code 7 is always the event's fault, never the action's") \
	X("spool.dir", eCmdHdlrString, 0, 1, 0, GO, "rsyslog's `workDirectory`", \
	  "where the action's window files live: what it accepted and HEC has not taken, sent at the next start after a stop or crash (see \"Delivery\"); none: the window is memory only") \
	X("errorfile", eCmdHdlrString, 0, 1, 0, GO, "`<workDirectory>/omsplunkgo-rejected.json`", \
	  "file that receives events HEC refuses for good, one JSON line each: `{\"time\":…,\"reason\":…,\"http_status\":400,\"hec_code\":6,\"event\":{…the event as sent…}}`; only when rsyslog has no `workDirectory` and no `errorfile` is set are such events just logged (first 512 bytes); reopened on rsyslogd's HUP, so it follows logrotate (`rsyslog-conf/omsplunkgo.logrotate`)") \
	X("event.maxbytes", eCmdHdlrSize, 0, 1, 1073741824, GO, "1048576", \
	  "longest event text sent; `64k`, `1m` work") \
	X("event.oversize", eCmdHdlrGetWord, 0, 1, 0, GO, "`truncate`", \
	  "what happens to a longer text: `truncate` (cut on a UTF-8 boundary, sent, counted, first one logged) or `reject` (not sent; written to `errorfile`, counted)") \
	X("useack", eCmdHdlrBinary, 0, 1, 0, GO, "`off`", \
	  "indexer acknowledgement: a request counts as delivered only when `/services/collector/ack` says so (the token must have acknowledgement enabled)") \
	X("ack.interval", eCmdHdlrInt, 0, 10, 60000, GO, "500 ms", \
	  "how often outstanding ackIds are polled, one request per channel") \
	X("ack.timeout", eCmdHdlrInt, 0, 1000, 3600000, GO, "30000 ms", \
	  "a request not acknowledged by then is sent again") \
	X("name", eCmdHdlrGetWord, 0, 1, 0, RSYSLOG, "", \
	  "rsyslog's action name; also names the action's impstats object (`omsplunkgo-<name>`)") \
	X("action.resumeretrycount", eCmdHdlrInt, 0, 1, 0, RSYSLOG_GO, "", \
	  "rsyslog's own, read so that the log can say what rsyslog will do with a batch handed back (-1: keep retrying; 0, the default: drop)")

/* How many parameters each list holds. */
#define OMSG_COUNT_PARAM(...) +1
enum { N_MODPARAMS = 0 OMSG_MODULE_PARAMS(OMSG_COUNT_PARAM), N_ACTPARAMS = 0 OMSG_ACTION_PARAMS(OMSG_COUNT_PARAM) };

#endif
