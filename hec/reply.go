package hec

import (
	"fmt"

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
	it := jsoniter.ConfigFastest.BorrowIterator(body)
	defer jsoniter.ConfigFastest.ReturnIterator(it)
	if it.WhatIsNext() != jsoniter.ObjectValue {
		return r, fmt.Errorf("reply is not a JSON object")
	}
	for field := it.ReadObject(); field != ""; field = it.ReadObject() {
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
		if it.Error != nil {
			break
		}
	}
	if it.Error != nil {
		return Reply{Code: -1, InvalidEvent: -1, AckID: -1}, fmt.Errorf("reply is not valid JSON: %v", it.Error)
	}
	return r, nil
}

// readInt takes a number, or a number in a string ("invalid-event-number"
// has been seen both ways), and -1 for anything else.
func readInt(it *jsoniter.Iterator) int {
	switch it.WhatIsNext() {
	case jsoniter.NumberValue:
		return it.ReadInt()
	case jsoniter.StringValue:
		var n int
		s := it.ReadString()
		if _, err := fmt.Sscanf(s, "%d", &n); err == nil {
			return n
		}
	default:
		it.Skip()
	}
	return -1
}
