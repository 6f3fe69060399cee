package sink

import (
	"context"

	"github.com/pipelog/pipelog/event"
)

// MinLevel wraps s so that only lines at level or above reach it: how one
// Logger sends everything to a file but only errors to Elasticsearch. It
// composes at any depth (inside Multi, around a Multi, around another
// MinLevel). Entries carry their level; a foreign line given to Write is
// filtered by its top-level "log.level" string, and passed on when it has
// none that ParseLevel understands (MinLevel never drops what it cannot
// judge).
func MinLevel(s Sink, level event.Level) Sink {
	if s == nil {
		return nil
	}
	return &levelSink{s: s, min: level}
}

type levelSink struct {
	s   Sink
	min event.Level
}

// Level is the least severe level the sink takes: the wrapper's, or the
// wrapped sink's own when that is higher.
func (l *levelSink) Level() event.Level { return max(l.min, LevelOf(l.s)) }

func (l *levelSink) WriteEntry(e *Entry) error {
	if e.Level < l.min {
		return nil
	}
	return WriteTo(l.s, e)
}

func (l *levelSink) Write(p []byte) error {
	if lv, ok := LineLevel(p); ok && lv < l.min {
		return nil
	}
	return l.s.Write(p)
}

func (l *levelSink) Flush(ctx context.Context) error { return l.s.Flush(ctx) }
func (l *levelSink) Close(ctx context.Context) error { return l.s.Close(ctx) }

// Unwrap returns the wrapped sink.
func (l *levelSink) Unwrap() Sink { return l.s }

// LineLevel reads the top-level "log.level" string of an NDJSON line (the
// ecs-logging spec puts it second, so this is usually a few bytes in). ok
// is false when the line has none, or one ParseLevel does not understand.
func LineLevel(line []byte) (level event.Level, ok bool) {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return 0, false
	}
	i++
	for {
		i = skipSpace(line, i)
		if i >= len(line) || line[i] != '"' {
			return 0, false
		}
		kEnd, ok := skipString(line, i)
		if !ok {
			return 0, false
		}
		key := line[i+1 : kEnd-1]
		i = skipSpace(line, kEnd)
		if i >= len(line) || line[i] != ':' {
			return 0, false
		}
		i = skipSpace(line, i+1)
		vEnd, ok := skipValue(line, i)
		if !ok {
			return 0, false
		}
		if string(key) == "log.level" {
			if line[i] != '"' {
				return 0, false
			}
			lv, err := event.ParseLevel(string(line[i+1 : vEnd-1]))
			return lv, err == nil
		}
		i = skipSpace(line, vEnd)
		if i >= len(line) || line[i] != ',' {
			return 0, false
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index past the JSON value starting at b[i]. It
// balances brackets and honours strings; it does not validate literals.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' {
		j++
	}
	return j, j > i
}
