// SPDX-License-Identifier: Apache-2.0

package event

import (
	"encoding/json"
	"testing"
)

func TestAddField(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, `{"k":"v\"1"}`},
		{`{}`, `{"k":"v\"1"}`},
		{` {"a":"b"} `, `{"a":"b","k":"v\"1"}`},
		{`{"a":["x"],"k":"own"}`, `{"a":["x"],"k":"own"}`}, // the rendering's own k wins
		{`{"a":"k"}`, `{"a":"k","k":"v\"1"}`},              // "k" as a value is no member
	} {
		got := string(AddField([]byte(c.in), "k", []byte(`v"1`)))
		if got != c.want {
			t.Errorf("AddField(%s) = %s, want %s", c.in, got, c.want)
		}
		if ok, _ := ValidFields([]byte(got)); !ok {
			t.Errorf("AddField(%s) = %s is no valid fields object", c.in, got)
		}
	}
}

func TestReindex(t *testing.T) {
	out, ok := Reindex([]byte(`{"time":1.5,"index":"bad","fields":{"a":"b"},"event":"x"}`), "safe", "refused_index")
	var ev struct {
		Time   float64
		Index  string
		Fields map[string]string
		Event  string
	}
	if !ok || json.Unmarshal(out, &ev) != nil || ev.Index != "safe" || ev.Fields["refused_index"] != "bad" ||
		ev.Fields["a"] != "b" || ev.Event != "x" || ev.Time != 1.5 {
		t.Fatalf("Reindex: %s, %v", out, ok)
	}
	if _, ok := Reindex(out, "safe", "refused_index"); ok {
		t.Fatal("an event sent to the fallback once went round again")
	}
	if _, ok := Reindex([]byte(`not json`), "safe", "refused_index"); ok {
		t.Fatal("Reindex took a broken event")
	}
}
