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
	clean := true
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= utf8.RuneSelf || c == '.' || c == '*' || c == '\\' {
			clean = false
			break
		}
	}
	if clean { // the common case, in one pass
		return k
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
//
// A key is sanitised as it is written, straight into the line, and the
// keys already written are compared where they are in the line: sanitising
// a key into a string of its own would allocate on every line for a key
// with a '.' in it.
type labelWriter struct {
	seen  [16]span
	n     int
	extra []span
}

// span is a written key's place in the line: offsets, which stay valid when
// the line's buffer grows.
type span struct{ start, end int32 }

func (w *labelWriter) add(dst []byte, key, value string, max int) []byte {
	mark := len(dst)
	dst = comma(dst)
	ks := len(dst)
	dst = appendLabelKey(dst, key)
	k := dst[ks:]
	for _, sp := range w.seen[:w.n] {
		if string(dst[sp.start:sp.end]) == string(k) {
			return dst[:mark]
		}
	}
	for _, sp := range w.extra {
		if string(dst[sp.start:sp.end]) == string(k) {
			return dst[:mark]
		}
	}
	sp := span{int32(ks), int32(len(dst))}
	if w.n < len(w.seen) {
		w.seen[w.n] = sp
		w.n++
	} else {
		w.extra = append(w.extra, sp)
	}
	return appendString(dst, value, max)
}

// appendLabelKey writes `"key":` with key sanitised as sanitizeLabelKey
// does, in one canonical encoding (invalid UTF-8 as the bytes of U+FFFD, not
// an escape), so that two keys are the same JSON key exactly when their
// written bytes are equal.
func appendLabelKey(dst []byte, key string) []byte {
	if key == "" {
		return append(dst, `"_":`...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '.' || c == '*' || c == '\\':
				dst = append(dst, '_')
			case safeASCII[c]:
				dst = append(dst, c)
			case c == '"':
				dst = append(dst, '\\', '"')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(key[i:])
		if r == utf8.RuneError && size == 1 {
			// A run of invalid bytes is one U+FFFD, as strings.ToValidUTF8
			// (and so sanitizeLabelKey) makes it.
			dst = append(dst, "\uFFFD"...)
			for i < len(key) {
				if r, size := utf8.DecodeRuneInString(key[i:]); r != utf8.RuneError || size != 1 {
					break
				}
				i++
			}
			continue
		}
		dst = append(dst, key[i:i+size]...)
		i += size
	}
	return append(dst, '"', ':')
}
