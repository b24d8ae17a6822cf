// SPDX-License-Identifier: Apache-2.0

package event

import (
	"encoding/json"
)

// Reindex returns the event object ev (as sent to /event) with its index
// set to index and the index it had kept as indexed field mark; ok false
// when ev is no event object, or already carries mark (it was sent to
// index before: it must not go round again).
func Reindex(ev []byte, index, mark string) (out []byte, ok bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev, &obj); err != nil {
		return nil, false
	}
	var was string
	if raw, has := obj["index"]; has {
		if json.Unmarshal(raw, &was) != nil {
			return nil, false
		}
	}
	fields := []byte(obj["fields"])
	if len(fields) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(fields, &m) != nil {
			return nil, false
		}
		if _, has := m[mark]; has {
			return nil, false
		}
	}
	obj["fields"] = AddField(fields, mark, []byte(was))
	obj["index"] = AppendJSONString(nil, []byte(index))
	out, err := json.Marshal(obj)
	return out, err == nil
}

// SetIndex returns the event object ev with its index set to index; the
// index it had is kept as indexed field mark unless ev carries mark
// already (the first index it was sent to is the one worth keeping).
func SetIndex(ev []byte, index, mark string) ([]byte, error) {
	if out, ok := Reindex(ev, index, mark); ok {
		return out, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev, &obj); err != nil {
		return nil, err
	}
	obj["index"] = AppendJSONString(nil, []byte(index))
	return json.Marshal(obj)
}
