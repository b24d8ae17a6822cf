// SPDX-License-Identifier: Apache-2.0

package endpoint

import (
	"encoding/json"
	"fmt"
	"strconv"

	jsoniter "github.com/json-iterator/go"
)

// HEC reply codes (Splunk docs, "Troubleshoot HTTP Event Collector").
const (
	CodeSuccess         = 0
	CodeTokenDisabled   = 1
	CodeTokenRequired   = 2
	CodeInvalidAuth     = 3
	CodeInvalidToken    = 4
	CodeNoData          = 5
	CodeInvalidFormat   = 6
	CodeIncorrectIndex  = 7
	CodeInternalError   = 8
	CodeServerBusy      = 9
	CodeChannelMissing  = 10
	CodeChannelInvalid  = 11
	CodeEventMissing    = 12
	CodeEventBlank      = 13
	CodeAckDisabled     = 14
	CodeBadIndexedField = 15
	CodeQueryInvalid    = 16
	CodeHealthy         = 17
	// /services/collector/health when HEC is not: its queues are full, its
	// ack service is unavailable, or both (HTTP 503).
	CodeQueuesFull       = 18
	CodeAckUnavailable   = 19
	CodeQueuesAndAckDown = 20
	CodeShuttingDown     = 23
	// Splunk 10: a 200 that warns that HEC's queue (24) or ack channels
	// (25) are near capacity: the events were taken, slow down.
	CodeQueueNearCapacity = 24
	CodeAckNearCapacity   = 25
	// Splunk 10 back-pressure (backpressureState): 429 instead of 503.
	CodeQueueAtCapacity  = 26
	CodePerformanceLimit = 27
	// Splunk Cloud's "data channel is missing" behind a load balancer.
	CodeChannelMissingLB = 28
)

// Reply is a parsed HEC response body.
type Reply struct {
	Text string `json:"text"`
	Code int    `json:"code"`
	// InvalidEvent is the 0-based index of the event HEC rejected, or -1.
	InvalidEvent int   `json:"invalid-event-number"`
	AckID        int64 `json:"ackId"`
}

// ParseReply decodes a HEC response body. HEC and the proxies in front of it
// do not always answer JSON (an HTML 502 page, an empty 503); those give an
// error and a Reply with Code -1, so callers fall back to the HTTP status.
func ParseReply(body []byte) (Reply, error) {
	r := Reply{Code: -1, InvalidEvent: -1, AckID: -1}
	if len(body) == 0 {
		return r, fmt.Errorf("empty reply")
	}
	// jsoniter's fastest config accepts trailing bytes and malformed
	// numbers; a reply that decides which events were indexed must be
	// JSON by the book. Replies are a few dozen bytes.
	if !json.Valid(body) {
		return r, fmt.Errorf("reply is not valid JSON")
	}
	it := jsoniter.ConfigFastest.BorrowIterator(body)
	defer jsoniter.ConfigFastest.ReturnIterator(it)
	if it.WhatIsNext() != jsoniter.ObjectValue {
		return r, fmt.Errorf("reply is not a JSON object")
	}
	// ReadObjectCB, not a ReadObject loop: ReadObject returns "" both at
	// the end and for an empty key, and {"":"","code":6} would end early.
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		switch field {
		case "text":
			if it.WhatIsNext() == jsoniter.StringValue {
				r.Text = it.ReadString()
			} else {
				it.Skip()
			}
		case "code":
			r.Code = readInt(it)
		case "invalid-event-number":
			r.InvalidEvent = readInt(it)
		case "ackId":
			r.AckID = int64(readInt(it))
		default:
			it.Skip()
		}
		return it.Error == nil
	})
	if it.Error != nil {
		return Reply{Code: -1, InvalidEvent: -1, AckID: -1}, fmt.Errorf("reply is not valid JSON: %v", it.Error)
	}
	return r, nil
}

// readInt takes a non-negative integer, written as a number or as a string
// of digits ("invalid-event-number" has been seen both ways), and -1 for
// anything else: a fraction, a sign, trailing letters or an overflow must
// not name an event.
func readInt(it *jsoniter.Iterator) int {
	var text string
	switch it.WhatIsNext() {
	case jsoniter.NumberValue:
		text = string(it.ReadNumber())
	case jsoniter.StringValue:
		text = it.ReadString()
	default:
		it.Skip()
		return -1
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return int(n)
}
