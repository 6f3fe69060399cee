package encode

import (
	"fmt"
	"time"
)

// AppendFallback appends the line written when encoding a line panicked (a
// bug in pipelog, or user code that escaped every guard): the time, level,
// message, event name and service it is known by, and a note with the
// panic, so the event is never lost silently. It calls no user code.
func (e *Encoder) AppendFallback(dst []byte, t time.Time, rec *Record, name string, panicked any) []byte {
	return e.appendBase(dst, t, rec, name, fmt.Sprintf("pipelog: encoding this line panicked (%s); only the fields above were written", PanicText(panicked)))
}

// appendBase writes a line of the base fields only, and note.
func (e *Encoder) appendBase(dst []byte, t time.Time, rec *Record, name, note string) []byte {
	dst = append(dst, `{"@timestamp":`...)
	dst = appendTimestamp(dst, t)
	dst = appendLevelKeys(dst, rec.Base.Level, rec.LevelName)
	msg := rec.Base.Message
	if msg == "" {
		msg = name
	}
	dst = appendString(dst, msg, e.max)
	dst = append(dst, `,"ecs.version":"`+Version+`"`...)
	dst = append(dst, `,"event":{`...)
	if name != "" {
		dst = append(dst, `"action":`...)
		dst = appendString(dst, name, e.max)
		dst = append(dst, ',')
	}
	dst = append(dst, `"dataset":`...)
	dst = appendString(dst, e.cfg.Dataset, e.max)
	if len(rec.EventID) > 0 {
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, string(rec.EventID), 0)
	}
	dst = append(dst, `},"service":{"name":`...)
	dst = appendString(dst, e.cfg.ServiceName, e.max)
	dst = append(dst, `},"Pipelog":{"encode_errors":[`...)
	dst = appendString(dst, note, e.max)
	return append(dst, "]}}\n"...)
}

// PanicText formats a recovered value without calling its methods: a value
// that made encoding panic may make its String panic too.
func PanicText(r any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("a %T", r)
		}
	}()
	switch v := r.(type) {
	case string:
		return v
	case error:
		return v.Error()
	}
	return fmt.Sprintf("%T", r)
}
