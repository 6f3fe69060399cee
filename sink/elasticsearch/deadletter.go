package elasticsearch

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Dead-letter error types the sink itself assigns (per-item rejections keep
// the type Elasticsearch reported, e.g. mapper_parsing_exception).
const (
	dlInvalidLine      = "pipelog_invalid_line"
	dlRetriesExhausted = "pipelog_retries_exhausted"
	dlCloseDeadline    = "pipelog_close_deadline"
	dlRequestRejected  = "pipelog_request_rejected"
	dlTooLarge         = "pipelog_request_too_large"
)

// deadLetterBatch writes items idx of b to the dead letter and resolves them.
func (s *Sink) deadLetterBatch(b *esBatch, idx []int, status int, typ, reason string) {
	ensureRaw(b)
	reason = s.redact(errors.New(reason)).Error()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var line []byte
	failed := 0
	var firstErr error
	for _, i := range idx {
		it := &b.items[i]
		line = appendDeadLetter(line[:0], now, status, typ, reason, s.index,
			b.buf[it.idStart:it.idEnd], int(it.retries)+1, b.buf[it.doc:it.end-1], true)
		if err := s.dl.Write(line); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	s.st.dead.Add(int64(len(idx) - failed))
	if failed > 0 {
		s.st.deadFailed.Add(int64(failed))
		s.report(fmt.Errorf("sink: elasticsearch: %d event(s) LOST: the dead letter refused them: %w (reason they were dead-lettered: %s)", failed, firstErr, reason))
	}
	s.resolveIdx(b, idx)
}

// deadLetterRaw dead-letters a line Write refused (never queued).
func (s *Sink) deadLetterRaw(line []byte, reason string) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	out := appendDeadLetter(nil, now, 0, dlInvalidLine, reason, s.index, nil, 0, line, false)
	if err := s.dl.Write(out); err != nil {
		s.st.deadFailed.Add(1)
		s.report(fmt.Errorf("sink: elasticsearch: invalid line LOST: the dead letter refused it: %w", err))
		return
	}
	s.st.dead.Add(1)
	s.report(fmt.Errorf("%w: %s (dead-lettered)", ErrInvalidLine, reason))
}

func appendDeadLetter(dst []byte, now string, status int, typ, reason, index string, id []byte, attempts int, doc []byte, docIsJSON bool) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = append(dst, now...)
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"error":{"type":`...)
	dst = appendJSONString(dst, typ)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, reason)
	dst = append(dst, `},"_index":`...)
	dst = appendJSONString(dst, index)
	if id != nil {
		dst = append(dst, `,"_id":"`...)
		dst = append(dst, id...) // already JSON-escaped
		dst = append(dst, '"')
	}
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(attempts), 10)
	if docIsJSON {
		dst = append(dst, `,"document":`...)
		dst = append(dst, doc...)
	} else {
		dst = append(dst, `,"document_raw":`...)
		dst = appendJSONString(dst, string(doc))
	}
	return append(dst, "}\n"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, []byte(s))
	return append(dst, '"')
}

// needsEscape reports whether s must be escaped in a JSON string: it has a
// quote, a backslash, a control byte or (to be checked as UTF-8) a byte
// above 0x7f.
func needsEscape(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return true
		}
	}
	return false
}

// appendEscaped appends s escaped for the inside of a JSON string; invalid
// UTF-8 becomes U+FFFD.
func appendEscaped(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				dst = append(dst, c)
			}
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\\ufffd"...)
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}
