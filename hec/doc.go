// SPDX-License-Identifier: Apache-2.0

// Package hec is a Splunk HTTP Event Collector client: it encodes syslog
// messages as HEC events, keeps them in a durable window, cuts them into
// requests and posts them to one or more HEC endpoints until HEC has
// taken them. It has no rsyslog dependency. deliver.go lists the stages
// of the data path, a file each.
//
// # Goroutines
//
// A Sender (one per rsyslog action) runs:
//   - the callers of Deliver (rsyslog's worker threads): shape, encode
//     (encodeParallel spreads a large batch over goroutines of its own),
//     write to the window's files and queue; they wait only for room;
//   - one dispatcher (senders.go): it starts a request when one can start
//     and an endpoint has a place;
//   - one goroutine per request on the wire (deliver): it ends with the
//     try; a request HEC cannot take now, or one awaiting its ack, waits
//     in the window as data, not on a goroutine;
//   - with useack, the acker's poller (internal/endpoint), while ackIds
//     are pending, with up to 16 goroutines per round, one per channel
//     polled; it calls back for each request (ackwait.go);
//   - a prober per endpoint set aside, and one per endpoint at the start
//     (endpoints.go); the gauges publisher (counters.go);
//   - timers: a waiting request's due time (window.wait), the window
//     files' done-mark flush (internal/segment), the unclaimed-files
//     report (winfiles.go), the refusals' summary (refused.go).
//
// Every goroutine recovers from a panic (panics.go). Close ends them:
// the window closes, requests on the wire get stopGrace, then the halt
// stops every post and wait (stop.go).
//
// # Locks
//
// Each guards its own state and none is held while another is taken,
// except where noted:
//   - window.mu: the queue, the waiting requests, what the window holds
//     (events, bytes, the part only in the files) and its cond; window.pmu
//     the scratch of a commit's write, taken before segment.Log's lock;
//   - segment.Log's mu (internal/segment): the current file, each file's
//     pending count and done offsets, the marks not yet written;
//   - pool.mu: the endpoints' free connection slots and the taking and
//     giving back of places; under it each endpoint's limiter lock
//     (internal/aimd) and standing lock are taken; its cond wakes acquire;
//   - each endpoint's standing lock (endpoints.go), taken alone or under
//     pool.mu; the acker's lock
//     (its pending ackIds and channels); diskState, healthLog, failing,
//     tokenMu, locksMu: their own fields;
//   - refusals.mu: whether a summary is due and what was last logged;
//     under it the error file's lock (the file open, or failed) is taken
//     to say where the events are; the error file's lock alone guards
//     each line's write;
//   - postMu (read: a post begins; write: the halt), so that no post
//     starts after the halt.
//
// # The window's files
//
// In spool.dir, per action, files named <prefix>.<time>-<n>.seg, where
// winfile.Name gives the prefix; <prefix>.lock is held with flock by
// the process that owns them. What holds on disk:
//   - a commit's requests are written as records (CRC-32C, event count) in
//     one write(2) to the current file before Deliver returns; a record is
//     never changed afterwards;
//   - a file is removed only once every record in it is done (HEC took it,
//     or it was set aside); the current file is emptied in place instead
//     once it holds 4 MiB (less on a small filesystem) and all of it is
//     done;
//   - a done record is marked so (a marks record: file key and offset)
//     after it is done, never before, in whichever file is current; a
//     fresh current file carries the marks of every file that still has
//     records, and a file's marks are dropped when it goes or is emptied,
//     so that a mark never names a record written later at its offset;
//   - a start reads every file of its prefix, gathers the marks first,
//     skips the records marked done, and removes a file with nothing left
//     only after the marks it held are written again; every record is
//     checked before use, and what does not hold goes to a .bad file.
package hec
