// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"errors"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// The words every stage shares: a message as rsyslog hands it over, the
// log the client writes to, and the errors a commit can return.

// Message is one rendered syslog message: the event time ("unix.fraction"),
// the hostname, the event body and metadata of its own. The slices are
// only read during Deliver.
type Message struct {
	Time, Host, Body []byte
	// Received is when rsyslog received it ("unix.fraction"), given only
	// where the time guard needs it (Config.TimeGuard).
	Received []byte
	Meta     Meta
	skip     bool   // set aside by event.oversize="reject"
	query    string // raw endpoint: the request query its metadata makes
}

// Meta is a message's own HEC metadata, rendered by rsyslog templates the
// action names (index.template, ...). An empty value means the action's
// fixed value, and when that is unset too, HEC's default for the token
// (host: the message's hostname).
type Meta = event.Meta

// Logger receives the client's diagnostics; severity uses syslog's numbers.
type Logger func(severity int, msg string)

// Syslog severities used by the client.
const (
	SevErr     = 3
	SevWarning = 4
	SevInfo    = 6
)

// ErrSuspend wraps failures after which the batch must go back to rsyslog to
// be retried later: the window full for window.maxwait (HEC down or slower
// than the input), or the window's files not writable.
var ErrSuspend = errors.New("HEC cannot take data now")

// ErrStopping is returned (wrapped in ErrSuspend) when a batch could not
// be kept because rsyslog is stopping.
var ErrStopping = errors.New("rsyslog is stopping")
