// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"unsafe"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

// Status codes of omsplunkgo_plugin.h's enum omsg_status.
const (
	statusOK      = 0
	statusSuspend = 1
)

// Template positions of enum omsg_template.
const (
	tplMeta  = 0
	tplEvent = 1
	tplFixed = 2 // metadata templates start here
	tplMax   = 5
)

// Options the shim adds: the template slot of each metadata template
// (see enum omsg_template); absent when the action names none.
var slotOptions = [...]string{"slot.index", "slot.source", "slot.sourcetype", "slot.host", "slot.fields"}

// action is one action(type="omsplunkgo") statement.
type action struct {
	sender *hec.Sender
	// slots[k] is the template position of slotOptions[k], or -1.
	slots [len(slotOptions)]int
	// received: the meta template is "<reported> <received> <hostname>"
	// (the time guard compares them; cshim/params.c picks the template).
	received bool
	msgs     sync.Pool // *[]hec.Message, reused across batches
}

func newAction(opts map[string]string, counters *hec.Counters) (*action, error) {
	a := &action{}
	for k, name := range slotOptions {
		a.slots[k] = -1
		v, ok := opts[name]
		if !ok {
			continue
		}
		delete(opts, name)
		n, err := strconv.Atoi(v)
		if err != nil || n < tplFixed || n >= tplMax {
			return nil, fmt.Errorf("internal error: %s=%q", name, v)
		}
		a.slots[k] = n
	}
	cfg, err := hec.ParseOptions(opts)
	if err != nil {
		return nil, err
	}
	cfg.PerMessageIndex = a.slots[0] >= 0
	a.received = cfg.TimeGuard()
	s, err := hec.NewSender(cfg, func(sev int, msg string) { logf(sev, "%s", msg) })
	if err != nil {
		return nil, err
	}
	if counters != nil {
		s.AttachCounters(counters)
		// One block of EndpointCounters per server follows the action's
		// counters, in the order of the server parameter (the shim
		// allocated them so).
		eps := make([]*hec.EndpointCounters, len(cfg.Endpoints))
		base := unsafe.Add(unsafe.Pointer(counters), unsafe.Sizeof(*counters))
		for i := range eps {
			eps[i] = (*hec.EndpointCounters)(unsafe.Add(base, uintptr(i)*unsafe.Sizeof(hec.EndpointCounters{})))
		}
		s.AttachEndpointCounters(eps)
	}
	a.sender = s
	return a, nil
}

// needTemplates is how many templates a commit must bring.
func (a *action) needTemplates() int {
	n := tplFixed
	for _, s := range a.slots {
		n = max(n, s+1)
	}
	return n
}

// worker is one rsyslog worker instance of an action.
type worker struct {
	a *action
	w *hec.Worker
}

// commit delivers one rsyslog batch; str(i, tpl) gives message i rendered
// with template tpl, valid only during this call (Deliver copies what it
// keeps before returning).
func (wk *worker) commit(n int, stopping func() bool, str func(i, tpl int) []byte) int {
	a := wk.a
	p, _ := a.msgs.Get().(*[]hec.Message)
	if p == nil {
		p = new([]hec.Message)
	}
	msgs := (*p)[:0]
	for i := 0; i < n; i++ {
		t, h := splitMeta(str(i, tplMeta))
		var rcvd []byte
		if a.received {
			rcvd, h = splitMeta(h)
		}
		msgs = append(msgs, hec.Message{Time: t, Host: h, Body: str(i, tplEvent), Received: rcvd})
	}
	if a.slots != noSlots {
		for i := range msgs {
			a.readMeta(&msgs[i].Meta, i, str)
		}
	}
	a.sender.Count(hec.CtrSubmitted, int64(n))
	err := wk.w.Deliver(msgs, stopping)
	clear(msgs) // drop references to rsyslog's buffers
	*p = msgs[:0]
	a.msgs.Put(p)
	switch {
	case err == nil:
		return statusOK
	default: // hec errors all mean "keep the batch"
		return statusSuspend
	}
}

var noSlots = [len(slotOptions)]int{-1, -1, -1, -1, -1}

// readMeta fills m from message i's metadata templates.
func (a *action) readMeta(m *hec.Meta, i int, str func(i, tpl int) []byte) {
	dst := [len(slotOptions)]*[]byte{&m.Index, &m.Source, &m.Sourcetype, &m.Host, &m.Fields}
	for k, slot := range a.slots {
		if slot >= 0 {
			*dst[k] = bytes.TrimSpace(str(i, slot))
		}
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

// registry maps the handles C holds to Go objects. Handles are never
// reused within a process, so a stale handle finds nothing instead of the
// wrong object.
type registry[T any] struct {
	mu   sync.RWMutex
	last uint64
	m    map[uint64]T
}

var (
	actions = registry[*action]{m: map[uint64]*action{}}
	workers = registry[*worker]{m: map[uint64]*worker{}}
)

func (r *registry[T]) add(a T) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	r.m[r.last] = a
	return r.last
}

func (r *registry[T]) get(h uint64) T {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[h]
}

func (r *registry[T]) remove(h uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, h)
}
