package main

import (
	"bytes"
	"errors"
	"sync"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

// Status codes of omsplunkgo_plugin.h's enum omsg_status.
const (
	statusOK       = 0
	statusSuspend  = 1
	statusDataFail = 2
)

// Template positions of enum omsg_template.
const (
	tplMeta  = 0
	tplEvent = 1
)

// action is one action(type="omsplunkgo") statement.
type action struct {
	sender *hec.Sender
	msgs   sync.Pool // *[]hec.Message, reused across batches
}

func newAction(opts map[string]string) (*action, error) {
	cfg, err := hec.ParseOptions(opts)
	if err != nil {
		return nil, err
	}
	s, err := hec.NewSender(cfg, func(sev int, msg string) { logf(sev, "%s", msg) })
	if err != nil {
		return nil, err
	}
	return &action{sender: s}, nil
}

// commit delivers one rsyslog batch; str(i, tpl) gives message i rendered
// with template tpl, valid only during this call (Deliver copies what it
// keeps into request bodies before returning).
func (a *action) commit(n int, str func(i, tpl int) []byte) int {
	p, _ := a.msgs.Get().(*[]hec.Message)
	if p == nil {
		p = new([]hec.Message)
	}
	msgs := (*p)[:0]
	for i := 0; i < n; i++ {
		t, h := splitMeta(str(i, tplMeta))
		msgs = append(msgs, hec.Message{Time: t, Host: h, Body: str(i, tplEvent)})
	}
	err := a.sender.Deliver(msgs)
	clear(msgs) // drop references to rsyslog's buffers
	*p = msgs[:0]
	a.msgs.Put(p)
	switch {
	case err == nil:
		return statusOK
	case errors.Is(err, hec.ErrSuspend):
		return statusSuspend
	default:
		return statusDataFail
	}
}

// splitMeta cuts the metadata template's "<time> <hostname>".
func splitMeta(meta []byte) (ts, host []byte) {
	i := bytes.IndexByte(meta, ' ')
	if i < 0 {
		return meta, nil
	}
	return meta[:i], meta[i+1:]
}

func (a *action) probe() int {
	if err := a.sender.Probe(); err != nil {
		return statusSuspend
	}
	return statusOK
}

// registry maps the handles C holds to actions. Handles are never reused
// within a process, so a stale handle finds nothing instead of the wrong
// action.
type registry struct {
	mu   sync.RWMutex
	last uint64
	m    map[uint64]*action
}

var actions = registry{m: map[uint64]*action{}}

func (r *registry) add(a *action) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	r.m[r.last] = a
	return r.last
}

func (r *registry) get(h uint64) *action {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[h]
}

func (r *registry) remove(h uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, h)
}
