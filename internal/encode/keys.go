package encode

import (
	"strings"
	"unicode/utf8"
)

// The key rule, one for every place a key comes from: a typed event's
// field names and json tags, map keys, the objects a MarshalJSON method
// returns, and the slog and zap adapters' keys.
//
//   - A key is a path: it is split on '.', and each segment nests one
//     object further ("a.b" is {"a":{"b":…}}), which is also how
//     Elasticsearch reads a dotted name.
//   - An empty segment becomes "_": "" is "_", ".y" is "_.y", "x." is
//     "x._", ".." is "_._._".
//   - Invalid UTF-8 in a segment becomes U+FFFD, one per invalid byte
//     sequence, as the strings are.
//   - No path is written twice. In a typed event, two fields that would
//     write the same path, or one that would nest below another, make the
//     type invalid (see ecs.Check). In a map or a MarshalJSON object, the
//     later member in key order replaces the earlier one and
//     Pipelog.encode_errors says so; in the adapters a later attribute
//     replaces an earlier one with the same key (slog's With semantics).

// normKey returns k with every segment normalised (see above); the result
// is still dotted. A key that needs nothing is returned as it is, without
// allocating.
func normKey(k string) string {
	if plainKey(k) {
		return k
	}
	var b strings.Builder
	b.Grow(len(k) + 2)
	for i, seg := range strings.Split(k, ".") {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(normSegment(seg))
	}
	return b.String()
}

// normSegment normalises one segment: "_" for an empty one, U+FFFD for
// invalid UTF-8.
func normSegment(seg string) string {
	if seg == "" {
		return "_"
	}
	if utf8.ValidString(seg) {
		return seg
	}
	return strings.ToValidUTF8(seg, "\uFFFD")
}

// plainKey reports whether k needs no normalising: valid UTF-8, no empty
// segment.
func plainKey(k string) bool {
	if k == "" || k[0] == '.' || k[len(k)-1] == '.' || strings.Contains(k, "..") {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] >= utf8.RuneSelf {
			return utf8.ValidString(k)
		}
	}
	return true
}
