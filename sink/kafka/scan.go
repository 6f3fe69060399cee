package kafka

import "bytes"

// The fields the sink reads from a line, by index into fields.
const (
	fTraceID = iota
	fSpanID
	fCorrelation
	fKey
	numFields
)

// fieldSet is the dotted paths the sink looks for in each line.
type fieldSet [numFields]string

func newFieldSet(keyField string) fieldSet {
	return fieldSet{fTraceID: "trace.id", fSpanID: "span.id", fCorrelation: "labels.correlation_id", fKey: keyField}
}

// found holds the raw JSON value of each field of a fieldSet in one line
// (nil: absent).
type found [numFields][]byte

// find walks line, a valid JSON object (WriteEntry trusts the Logger, Write
// checks first), and records the raw value of every path of fs, whether the
// line spells it as nested objects ({"trace":{"id":..}}) or as a dotted key
// ({"trace.id":..}). A malformed line stops the walk; what was found so far
// is kept.
func find(line []byte, fs *fieldSet, out *found) {
	*out = found{}
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return
	}
	var scratch [128]byte // the path walked; longer paths spill to the heap
	walkObject(line, i, fs, out, scratch[:0])
	// match names the first field of a path: the key may be another's.
	for f := range numFields {
		for g := range f {
			if out[f] == nil && fs[f] == fs[g] {
				out[f] = out[g]
			}
		}
	}
}

// walkObject walks the object at line[i] ('{') whose path is path, and
// returns the index after it.
func walkObject(line []byte, i int, fs *fieldSet, out *found, path []byte) (int, []byte) {
	base := len(path)
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return i + 1, path
	}
	for i < len(line) {
		if line[i] != '"' {
			return len(line), path
		}
		end := skipString(line, i)
		key := line[i+1 : end-1]
		i = skipWS(line, end)
		if i >= len(line) || line[i] != ':' {
			return len(line), path
		}
		i = skipWS(line, i+1)
		path = path[:base]
		if base > 0 {
			path = append(path, '.')
		}
		path = append(path, key...)
		matched, prefix := match(fs, path)
		switch {
		case matched >= 0:
			end := skipValue(line, i)
			out[matched] = line[i:end]
			i = end
		case prefix && i < len(line) && line[i] == '{':
			i, path = walkObject(line, i, fs, out, path)
		default:
			i = skipValue(line, i)
		}
		i = skipWS(line, i)
		if i >= len(line) {
			break
		}
		if line[i] == '}' {
			return i + 1, path[:base]
		}
		if line[i] != ',' {
			return len(line), path
		}
		i = skipWS(line, i+1)
	}
	return len(line), path
}

// match reports which path of fs equals p (-1: none) and whether some path
// continues p ("trace" for "trace.id").
func match(fs *fieldSet, p []byte) (int, bool) {
	prefix := false
	for f, want := range fs {
		if len(want) == len(p) && string(p) == want {
			return f, false
		}
		if len(want) > len(p) && want[len(p)] == '.' && want[:len(p)] == string(p) {
			prefix = true
		}
	}
	return -1, prefix
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		bs := 0 // backslashes before the quote: an odd count escapes it
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return i + 1
		}
		i++
	}
	return len(b)
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// plainString returns the contents of raw when it is a JSON string without
// escapes, else nil: the sink takes only such values for IDs and keys
// (event and trace IDs are hex; a key with escapes is decoded by keyBytes).
func plainString(raw []byte) []byte {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil
	}
	return s
}
