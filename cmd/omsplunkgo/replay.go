// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec"
	"github.com/omsplunkgo/omsplunkgo/internal/errorlog"
)

// replay sends again what was set aside, to a destination the admin names
// (an action of the configuration, or a server and token): lines of error
// files, chosen by reason, code, index and time, and window files no
// action claims. A line counts as done once HEC took it (acknowledged,
// with useack="on"), recorded beside the error file one request at a
// time; window files carry their own done marks. Either way a replay
// stopped at any point, kill -9 included, goes on where it stopped when
// run again and sends again at most what was on its way.
func replay(args []string) {
	fs := flag.NewFlagSet("replay", flag.ExitOnError)
	conf := fs.String("f", "/etc/rsyslog.conf", "rsyslog configuration that names the action (with -action)")
	rsyslogd := fs.String("rsyslogd", "/usr/sbin/rsyslogd", "the rsyslogd that reads the configuration")
	actionName := fs.String("action", "", "send to this omsplunkgo action of the configuration (its name=)")
	server := fs.String("server", "", "send to this HEC instead of an action (URL; several comma-separated)")
	token := fs.String("token", "", "HEC token, with -server")
	tokenFile := fs.String("token-file", "", "file holding the HEC token, with -server")
	var opts, errFiles, windows listFlag
	fs.Var(&opts, "opt", "an action parameter for -server, as name=value (tls.cacert=..., useack=on, ...); repeatable")
	fs.Var(&errFiles, "errorfile", "error file to replay (default with -action: the action's errorfile); repeatable")
	fs.Var(&windows, "window", "window files no action claims, by path prefix (dir/omsplunkgo-spool-x) or one of the files; repeatable")
	rotated := fs.Bool("rotated", true, "read the error file's rotated copies too (name.1, name.2.gz, name-20261205)")
	reason := fs.String("reason", "", "only lines whose reason contains this text")
	code := fs.Int("code", 0, "only lines HEC refused with this code (7: incorrect index, 6: invalid data format, ...)")
	indexWas := fs.String("index-was", "", `only events that named this index ("-": events without one)`)
	since := fs.String("since", "", "only lines set aside at or after this time (RFC 3339, or a duration ago: 24h)")
	until := fs.String("until", "", "only lines set aside before this time (RFC 3339, or a duration ago)")
	index := fs.String("index", "", "send the chosen events to this index (the one they had is kept as indexed field orig_index)")
	state := fs.String("state", "", "where the replay records what HEC took (default: <first error file>"+errorlog.DoneSuffix+")")
	refused := fs.String("refused", "", "where events HEC refuses again go (default: the action's errorfile; with -server "+
		"omsplunkgo-replay-refused.json beside the first input)")
	dry := fs.Bool("dry-run", false, "say what would be sent, send nothing")
	wait := fs.Duration("wait", 10*time.Minute, "give up when HEC takes nothing for this long (what it took stays done)")
	fs.Parse(args)

	fail := func(code int, format string, a ...any) {
		fmt.Fprintf(os.Stderr, "omsplunkgo replay: "+format+"\n", a...)
		os.Exit(code)
	}
	if fs.NArg() > 0 {
		fail(2, "unexpected %q: every input is named by a flag (-errorfile, -window)", fs.Arg(0))
	}
	if (*actionName == "") == (*server == "") {
		fail(2, "name the destination: -action NAME (an omsplunkgo action of -f), or -server URL with -token or -token-file; "+
			"nothing is sent anywhere not named")
	}
	filter := errorlog.Filter{Reason: *reason, Code: *code, Index: *indexWas}
	var err error
	if filter.Since, err = whenFlag(*since); err != nil {
		fail(2, "-since: %v", err)
	}
	if filter.Until, err = whenFlag(*until); err != nil {
		fail(2, "-until: %v", err)
	}

	var cfg hec.Config
	if *actionName != "" {
		if len(opts) > 0 || *token != "" || *tokenFile != "" {
			fail(2, "-opt, -token and -token-file go with -server; an action brings its own")
		}
		cfg, err = actionConfig(*rsyslogd, *conf, *actionName)
	} else {
		cfg, err = serverConfig(*server, *token, *tokenFile, opts)
	}
	if err != nil {
		fail(2, "%v", err)
	}
	if len(errFiles) == 0 && len(windows) == 0 {
		if *actionName == "" || cfg.ErrorFile == "" {
			fail(2, "nothing to replay: name -errorfile or -window")
		}
		errFiles = append(errFiles, cfg.ErrorFile)
	}
	if *refused != "" {
		cfg.ErrorFile = *refused
	} else if *server != "" {
		first := ""
		if len(errFiles) > 0 {
			first = filepath.Dir(errFiles[0])
		} else {
			first = filepath.Dir(windows[0])
		}
		cfg.ErrorFile = filepath.Join(first, "omsplunkgo-replay-refused.json")
	}
	cfg.Standalone = true
	cfg.PerMessageIndex = true // a refused index is the event's, never the replay's

	var stopped atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		stopped.Store(true)
	}()
	r := &replayer{cfg: cfg, filter: filter, index: *index, dry: *dry, wait: *wait, stopped: &stopped,
		fromServer: *server != "", endpointSet: opts.has(hec.OptEndpoint)}
	status := 0
	if len(errFiles) > 0 {
		path := *state
		if path == "" {
			path = errFiles[0] + errorlog.DoneSuffix
		}
		if err := r.errorFiles(errFiles, *rotated, path); err != nil {
			fmt.Fprintln(os.Stderr, "omsplunkgo replay: "+err.Error())
			status = 1
		}
	}
	for _, w := range windows {
		if status != 0 || stopped.Load() {
			break
		}
		if err := r.windowFiles(w); err != nil {
			fmt.Fprintln(os.Stderr, "omsplunkgo replay: "+err.Error())
			status = 1
		}
	}
	if stopped.Load() {
		fmt.Fprintln(os.Stderr, "omsplunkgo replay: stopped; what HEC took is recorded: run the same command again to go on")
		status = 130
	}
	os.Exit(status)
}

// replayer sends one replay's inputs.
type replayer struct {
	cfg    hec.Config
	filter errorlog.Filter
	index  string
	dry    bool
	wait   time.Duration
	// fromServer: the destination is -server, whose endpoint follows the
	// window files' unless -opt endpoint= set it.
	fromServer, endpointSet bool
	stopped                 *atomic.Bool
}

// errorFiles replays the chosen lines of files (and their rotated copies),
// one request at a time, each recorded in the done record once HEC took it.
func (r *replayer) errorFiles(files []string, rotated bool, donePath string) error {
	done, err := errorlog.OpenDone(donePath)
	if err != nil {
		return err
	}
	defer done.Close()
	cfg := r.cfg
	cfg.WindowDir = "" // what is on its way is in the error file already
	var s *hec.Sender
	if !r.dry {
		if s, err = hec.NewSender(cfg, logTo(os.Stderr)); err != nil {
			return err
		}
		defer s.Close()
	}
	var chunk []*errorlog.Line
	var evs [][]byte
	bytes := 0
	var sent, skipped, other, bad int
	var sendErr error // sending failed: the replay stops there
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if !r.dry {
			if err := r.deliver(s, func() error { return s.Resend(evs, r.stopped.Load) }); err != nil {
				return err
			}
			if err := done.Mark(chunk); err != nil {
				return err
			}
		}
		sent += len(chunk)
		chunk, evs, bytes = chunk[:0], evs[:0], 0
		return nil
	}
	for _, name := range files {
		paths := []string{name}
		if rotated {
			paths = errorlog.Rotated(name)
		}
		for _, p := range paths {
			n, err := errorlog.Scan(p, func(l *errorlog.Line) error {
				switch {
				case done.Has(l.Key, l.Off):
					skipped++
					return nil
				case !r.filter.Match(l):
					other++
					return nil
				}
				ev := l.Event
				if r.index != "" {
					var err error
					if ev, err = hec.WithIndex(ev, r.index); err != nil {
						bad++
						return nil
					}
				}
				if len(chunk) > 0 && (len(chunk) >= cfg.BatchMaxEvents || bytes+len(ev) > cfg.BatchMaxBytes) {
					if sendErr = flush(); sendErr != nil {
						return sendErr
					}
				}
				chunk, evs, bytes = append(chunk, l), append(evs, ev), bytes+len(ev)
				return nil
			})
			bad += n
			if sendErr != nil || err != nil && p == name {
				r.report(s, name, sent, skipped, other, bad)
				return err
			}
			if err != nil {
				// A rotated copy that went meanwhile, or is no regular
				// file (a symbolic link is never followed): the others go on.
				if !os.IsNotExist(err) {
					fmt.Fprintf(os.Stderr, "omsplunkgo replay: skipping %s: %v\n", p, err)
				}
			}
		}
	}
	err = flush()
	r.report(s, strings.Join(files, ", "), sent, skipped, other, bad)
	return err
}

// report prints what an error-file replay did.
func (r *replayer) report(s *hec.Sender, from string, sent, skipped, other, bad int) {
	verb := "sent"
	if r.dry {
		verb = "would send"
	}
	line := fmt.Sprintf("%s: %s %d events", from, verb, sent)
	if s != nil {
		if st := s.Stats(); st.Rejected > 0 {
			line += fmt.Sprintf(" (%d refused again by HEC: in %s)", st.Rejected, r.cfg.ErrorFile)
		}
	}
	line += fmt.Sprintf("; %d sent by an earlier replay, %d not chosen, %d unreadable lines", skipped, other, bad)
	fmt.Println(line)
}

// deliver puts a request in the sender's window and waits until HEC took
// it; it gives up once HEC has taken nothing for r.wait.
func (r *replayer) deliver(s *hec.Sender, put func() error) error {
	start := time.Now()
	for {
		err := put()
		if err == nil {
			break
		}
		if r.stopped.Load() {
			return errStopped
		}
		if time.Since(start) > r.wait {
			return fmt.Errorf("HEC takes nothing (for -wait=%s): %v", r.wait, err)
		}
		time.Sleep(time.Second)
	}
	said := false
	for {
		err := s.Drain(r.stopped.Load)
		if err == nil {
			return nil
		}
		if r.stopped.Load() {
			return errStopped
		}
		if time.Since(start) > r.wait {
			return fmt.Errorf("HEC has not taken the request for -wait=%s: %v; nothing of it is recorded as done", r.wait, err)
		}
		if !said {
			fmt.Fprintf(os.Stderr, "omsplunkgo replay: waiting for HEC: %v\n", err)
			said = true
		}
		time.Sleep(time.Second)
	}
}

var errStopped = errors.New("stopped")

// windowFiles sends the window files of one prefix, by a sender that takes
// them as its own; they are removed as HEC takes their requests.
func (r *replayer) windowFiles(path string) error {
	w, err := hec.FindWindowFiles(path)
	if err != nil {
		return err
	}
	cfg := r.cfg
	want := map[bool]string{true: hec.EndpointRaw, false: hec.EndpointEvent}[w.Raw]
	switch {
	case cfg.Endpoint == want:
	case r.fromServer && !r.endpointSet:
		cfg.Endpoint = want // a bare server takes them where they were written for
	default:
		return fmt.Errorf("%s.* in %s hold requests of the %s endpoint; the destination posts to the %s endpoint: "+
			"name an action (or -opt endpoint=%s) that posts where they were written for", w.Prefix, w.Dir, want, cfg.Endpoint, want)
	}
	if r.index != "" || r.filter != (errorlog.Filter{}) {
		return fmt.Errorf("-index, -reason, -code, -index-was, -since and -until choose error-file lines; window files are "+
			"sent whole (%s)", path)
	}
	if r.dry {
		fmt.Printf("%s.* in %s: would send up to %d events from %d files\n", w.Prefix, w.Dir, w.Events, len(w.Files))
		return nil
	}
	cfg.WindowDir, cfg.WindowPrefix = w.Dir, w.Prefix
	s, err := hec.NewSender(cfg, logTo(os.Stderr))
	if err != nil {
		return err
	}
	err = r.deliver(s, func() error { return nil })
	st := s.Stats()
	s.Close()
	left, lerr := hec.Leftover(w)
	line := fmt.Sprintf("%s.* in %s: sent %d events", w.Prefix, w.Dir, st.Delivered+st.Rejected)
	if st.Rejected > 0 {
		line += fmt.Sprintf(" (%d refused by HEC: in %s)", st.Rejected, cfg.ErrorFile)
	}
	if len(left) > 0 {
		line += fmt.Sprintf("; %d files stay (run again to send the rest)", len(left))
	} else if lerr == nil {
		line += "; its files are gone"
	}
	fmt.Println(line)
	if err == nil {
		err = lerr
	}
	return err
}

// actionConfig is the configuration of the action named name in conf.
func actionConfig(rsyslogd, conf, name string) (hec.Config, error) {
	actions, _, err := readConfig(rsyslogd, conf)
	if err != nil {
		return hec.Config{}, err
	}
	var names []string
	for _, a := range actions {
		if a.name == name || a.name == "omsplunkgo-"+name {
			opts, _ := a.hecOptions()
			return hec.ParseOptions(opts)
		}
		if a.name != "" {
			names = append(names, strings.TrimPrefix(a.name, "omsplunkgo-"))
		}
	}
	return hec.Config{}, fmt.Errorf("%s has no omsplunkgo action named %q (named ones: %s; or use -server)", conf, name,
		strings.Join(names, ", "))
}

// serverConfig is a destination given by URL and token.
func serverConfig(server, token, tokenFile string, extra []string) (hec.Config, error) {
	opts := map[string]string{hec.OptServer: server}
	for _, kv := range extra {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return hec.Config{}, fmt.Errorf("-opt %q: want name=value", kv)
		}
		opts[k] = v
	}
	switch {
	case token != "" && tokenFile != "":
		return hec.Config{}, errors.New("-token or -token-file, not both")
	case tokenFile != "":
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return hec.Config{}, err
		}
		token = strings.TrimSpace(string(b))
	case token == "":
		return hec.Config{}, errors.New("-server needs -token or -token-file")
	}
	opts[hec.OptToken] = token
	return hec.ParseOptions(opts)
}

// whenFlag reads a time: RFC 3339, or a duration ago.
func whenFlag(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Parse(time.RFC3339, v)
}

// logTo prints the sender's diagnostics.
func logTo(f *os.File) hec.Logger {
	return func(sev int, msg string) {
		if sev <= hec.SevInfo {
			fmt.Fprintln(f, msg)
		}
	}
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// has reports whether a name=value entry names name.
func (l listFlag) has(name string) bool {
	for _, kv := range l {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}
