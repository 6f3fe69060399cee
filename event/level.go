package event

import "strconv"

// Level is an event's severity. Its numeric values match log/slog's levels
// (Debug -4, Info 0, Warn 4, Error 8), so slog's custom levels map onto it
// without a table, and higher is more severe.
type Level int8

// The levels pipelog names. Values between them are allowed and are written
// as the lower name plus an offset, the way log/slog does ("info+2").
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// String returns the lowercase ECS log.level value: "debug", "info", "warn",
// "error", or a name with an offset such as "warn+2" for levels in between.
func (l Level) String() string {
	name := func(base string, off Level) string {
		if off == 0 {
			return base
		}
		return base + "+" + strconv.Itoa(int(off))
	}
	switch {
	case l < LevelInfo:
		if l < LevelDebug {
			return "debug" + strconv.Itoa(int(l-LevelDebug))
		}
		return name("debug", l-LevelDebug)
	case l < LevelWarn:
		return name("info", l-LevelInfo)
	case l < LevelError:
		return name("warn", l-LevelWarn)
	default:
		return name("error", l-LevelError)
	}
}

// ParseLevel parses the names String returns, case-insensitively ("WARN",
// "info+2", "debug-1", also "warning"). An unknown name is an error.
func ParseLevel(s string) (Level, error) {
	base, off := s, 0
	if i := indexSign(s); i > 0 {
		n, err := strconv.Atoi(s[i:])
		if err != nil {
			return 0, &levelError{s}
		}
		base, off = s[:i], n
	}
	var l Level
	switch lower(base) {
	case "debug":
		l = LevelDebug
	case "info":
		l = LevelInfo
	case "warn", "warning":
		l = LevelWarn
	case "error":
		l = LevelError
	default:
		return 0, &levelError{s}
	}
	v := int(l) + off
	if v < -128 || v > 127 {
		return 0, &levelError{s}
	}
	return Level(v), nil
}

type levelError struct{ s string }

func (e *levelError) Error() string { return "event: unknown level " + strconv.Quote(e.s) }

func indexSign(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '+' || s[i] == '-' {
			return i
		}
	}
	return -1
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// MarshalText implements encoding.TextMarshaler (config files, flags).
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
