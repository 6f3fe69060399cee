package encode

import (
	"strings"
	"unicode/utf8"
)

// sanitizeLabelKey applies the ecs-logging spec's label key rule: '.', '*'
// and '\' become '_'. An empty key becomes "_" (Elasticsearch rejects empty
// field names). Other characters, quotes and control characters included,
// are kept and escaped when written.
func sanitizeLabelKey(k string) string {
	if k == "" {
		return "_"
	}
	if !utf8.ValidString(k) {
		// Repair now, not when writing: two keys that differ only in
		// invalid bytes would otherwise be written as the same key.
		k = strings.ToValidUTF8(k, "\uFFFD")
	}
	if !strings.ContainsAny(k, `.*\`) {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		if c == '.' || c == '*' || c == '\\' {
			b[i] = '_'
		}
	}
	return string(b)
}

// SanitizeLabelKey is the spec's label key rule, for adapters that build
// labels themselves.
func SanitizeLabelKey(k string) string { return sanitizeLabelKey(k) }

func setLabel(labels []Label, l Label) []Label {
	for i := range labels {
		if labels[i].Key == l.Key {
			labels[i].Value = l.Value
			return labels
		}
	}
	return append(labels, l)
}

// labelWriter writes the labels object, keeping keys unique after
// sanitising: the first writer of a key wins, and writers go from the most
// specific (the event) to the least (the Logger's fixed fields).
type labelWriter struct {
	seen  [16]string
	n     int
	extra []string
}

func (w *labelWriter) add(dst []byte, key, value string, max int) []byte {
	key = sanitizeLabelKey(key)
	for _, k := range w.seen[:w.n] {
		if k == key {
			return dst
		}
	}
	for _, k := range w.extra {
		if k == key {
			return dst
		}
	}
	if w.n < len(w.seen) {
		w.seen[w.n] = key
		w.n++
	} else {
		w.extra = append(w.extra, key)
	}
	dst = comma(dst)
	dst = appendKey(dst, key)
	return appendString(dst, value, max)
}
