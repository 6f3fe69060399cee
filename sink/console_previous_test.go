package sink

// The console's previous implementation, which decoded every line with
// encoding/json into maps: kept here as the reference the hand-written
// scanner is checked against (TestConsoleMatchesPrevious,
// FuzzConsoleMatchesPrevious) and measured against (BenchmarkConsole).

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

func prevLevelColor(level string) string {
	switch {
	case strings.HasPrefix(level, "debug"):
		return "\x1b[90m" // grey
	case strings.HasPrefix(level, "info"):
		return "\x1b[36m" // cyan
	case strings.HasPrefix(level, "warn"):
		return "\x1b[33m" // yellow
	case strings.HasPrefix(level, "error"), strings.HasPrefix(level, "fatal"), strings.HasPrefix(level, "panic"):
		return "\x1b[31m" // red
	}
	return ""
}

func previousConsoleFormat(dst, line []byte, color bool, format string) []byte {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		dst = append(dst, bytes.TrimRight(line, "\n")...)
		return append(dst, '\n')
	}
	str := func(raw json.RawMessage) string {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return string(raw)
		}
		return s
	}
	var obj map[string]json.RawMessage
	sub := func(path ...string) json.RawMessage {
		raw := top[path[0]]
		for _, p := range path[1:] {
			obj = nil
			if raw == nil || json.Unmarshal(raw, &obj) != nil {
				return nil
			}
			raw = obj[p]
		}
		return raw
	}

	// Time.
	if ts := str(top["@timestamp"]); ts != "" {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			dst = t.Local().AppendFormat(dst, format)
		} else {
			dst = append(dst, ts...)
		}
		dst = append(dst, ' ')
	}
	// Level, padded to 5.
	level := str(top["log.level"])
	if color {
		dst = append(dst, prevLevelColor(level)...)
	}
	up := strings.ToUpper(level)
	dst = prevText(dst, up)
	if color {
		dst = append(dst, ansiReset...)
	}
	for n := utf8.RuneCountInString(up); n < 5; n++ {
		dst = append(dst, ' ')
	}
	// Event name and message.
	if name := sub("event", "action"); name != nil {
		dst = append(dst, ' ')
		dst = prevText(dst, str(name))
	}
	if msg := str(top["message"]); msg != "" {
		dst = append(dst, ' ')
		dst = prevText(dst, msg)
	}
	// Key fields.
	kv := func(k string, raw json.RawMessage) {
		dst = append(dst, ' ')
		if color {
			dst = append(dst, ansiDim...)
		}
		dst = prevText(dst, k)
		dst = append(dst, '=')
		if color {
			dst = append(dst, ansiReset...)
		}
		dst = prevValue(dst, raw)
	}
	if v := sub("trace", "id"); v != nil {
		kv("trace.id", v)
	}
	if v := sub("error", "message"); v != nil {
		kv("error.message", v)
	}
	if pl := top["Pipelog"]; pl != nil {
		eventKey := ""
		if name := str(sub("event", "action")); name != "" {
			r, size := utf8.DecodeRuneInString(name)
			eventKey = strings.ToUpper(string(r)) + name[size:]
		}
		prevFlatten(pl, "", func(k string, v json.RawMessage) {
			// Strip the event's own object and the adapters' Attrs level.
			for _, p := range []string{eventKey, "Attrs"} {
				if p != "" && strings.HasPrefix(k, p+".") {
					k = k[len(p)+1:]
					break
				}
			}
			kv(k, v)
		})
	}
	dst = append(dst, '\n')
	if st := str(sub("error", "stack_trace")); st != "" {
		for l := range strings.Lines(st) {
			dst = append(dst, "    "...)
			dst = append(dst, strings.Map(func(r rune) rune {
				if r == '\t' || !prevHasControl(string(r)) {
					return r
				}
				return '?'
			}, strings.TrimRight(l, "\n"))...)
			dst = append(dst, '\n')
		}
	}
	return dst
}

// prevFlatten calls fn for each leaf of the JSON object raw, in order,
// with its dotted path below prefix. Arrays are leaves.
func prevFlatten(raw json.RawMessage, prefix string, fn func(string, json.RawMessage)) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		if prefix != "" {
			fn(prefix, raw)
		}
		return
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if d.Decode(&v) != nil {
			return
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if len(v) > 0 && v[0] == '{' {
			prevFlatten(v, path, fn)
			continue
		}
		fn(path, v)
	}
}

// prevValue writes a JSON value for people: strings bare unless
// they need quotes, everything else as compact JSON.
func prevValue(dst []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 || raw[0] != '"' {
		return append(dst, raw...)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return append(dst, raw...)
	}
	if s == "" || strings.ContainsAny(s, " \"=\\") || prevHasControl(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}

// prevHasControl reports control characters (newlines, escape sequences),
// which must not reach a terminal raw.
func prevHasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 {
			return true
		}
	}
	return false
}

// prevText writes s as is, or quoted when it holds control characters.
func prevText(dst []byte, s string) []byte {
	if prevHasControl(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}
