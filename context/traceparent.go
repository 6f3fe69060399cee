package logctx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"strings"
	"sync"
)

// Header and carrier keys used by the middleware, the client Transport and
// Inject/Extract.
const (
	HeaderTraceparent   = "traceparent"
	HeaderTracestate    = "tracestate"
	HeaderTraceresponse = "traceresponse"
	HeaderCorrelationID = "X-Correlation-ID"
	HeaderRequestID     = "X-Request-ID"
)

// Trace flag bits defined by W3C Trace Context (level 1: sampled; level 2:
// random). Other bits are reserved and cleared on everything pipelog sends.
const (
	FlagSampled byte = 0x01
	FlagRandom  byte = 0x02

	knownFlags = FlagSampled | FlagRandom
)

// Limits applied to untrusted propagation values.
const (
	// MaxTracestateLen is the longest combined tracestate value kept; the
	// W3C spec asks vendors to propagate at least 512 characters. Longer
	// values are truncated by whole list members.
	MaxTracestateLen = 512
	// maxTracestateMembers is the W3C limit on list members.
	maxTracestateMembers = 32
	// maxTracestateMemberLen: members longer than this are dropped first
	// when truncating (W3C recommendation).
	maxTracestateMemberLen = 128
)

// TraceparentError reports why a traceparent value was rejected. Every
// *TraceparentError matches ErrInvalidTraceparent with errors.Is. It never
// contains the rejected value itself (untrusted input is never echoed).
type TraceparentError struct{ Reason string }

func (e *TraceparentError) Error() string { return "logctx: invalid traceparent: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidTraceparent) true for every reason.
func (e *TraceparentError) Is(target error) bool { return target == ErrInvalidTraceparent }

// ErrInvalidTraceparent matches every error returned by ParseTraceparent.
var ErrInvalidTraceparent error = &TraceparentError{Reason: "malformed"}

var (
	errTPLength   = &TraceparentError{Reason: "wrong length"}
	errTPVersion  = &TraceparentError{Reason: "invalid version"}
	errTPFormat   = &TraceparentError{Reason: "missing or misplaced '-'"}
	errTPHex      = &TraceparentError{Reason: "not lowercase hex"}
	errTPZeroTID  = &TraceparentError{Reason: "all-zero trace-id"}
	errTPZeroSpan = &TraceparentError{Reason: "all-zero parent-id"}
)

// Traceparent is a parsed W3C traceparent header:
//
//	version "-" trace-id "-" parent-id "-" trace-flags
//	00-4bf92f3577b34da6a3b4ce0ff5e1ff2e-00f067aa0ba902b7-01
type Traceparent struct {
	Version  byte   // 0 for the current spec; higher versions are parsed per the spec's forward-compatibility rules
	TraceID  string // 32 lowercase hex digits, not all zero
	ParentID string // 16 lowercase hex digits, not all zero
	Flags    byte   // trace-flags as received
}

// Sampled reports whether the sampled flag is set.
func (t Traceparent) Sampled() bool { return t.Flags&FlagSampled != 0 }

// String formats t as a version-00 traceparent (the only version this
// package writes, as the spec requires of a version-00 implementation).
// For a Traceparent parsed from a version-00 header it returns the header
// unchanged.
func (t Traceparent) String() string {
	return FormatTraceparent(t.TraceID, t.ParentID, t.Flags)
}

// FormatTraceparent returns "00-<traceID>-<parentID>-<flags>". It does not
// validate its arguments; pass IDs from ParseTraceparent, NewTraceID or
// NewSpanID.
func FormatTraceparent(traceID, parentID string, flags byte) string {
	var b [55]byte
	n := formatTraceparent(b[:0], traceID, parentID, flags)
	return string(n)
}

func formatTraceparent(dst []byte, traceID, parentID string, flags byte) []byte {
	const digits = "0123456789abcdef"
	dst = append(dst, '0', '0', '-')
	dst = append(dst, traceID...)
	dst = append(dst, '-')
	dst = append(dst, parentID...)
	dst = append(dst, '-', digits[flags>>4], digits[flags&0x0f])
	return dst
}

// ParseTraceparent parses a W3C traceparent header value exactly as the
// Trace Context spec prescribes:
//
//   - version is two lowercase hex digits; "ff" is invalid;
//   - version 00 is exactly 55 characters;
//   - a higher version is at least 55 characters, its first four fields are
//     parsed as for 00, and character 56 (if any) must be '-'; the rest is
//     ignored;
//   - trace-id (32) and parent-id (16) are lowercase hex and not all zeros;
//   - trace-flags are two lowercase hex digits.
//
// The returned IDs are substrings of s. The error never quotes s.
func ParseTraceparent(s string) (Traceparent, error) {
	if len(s) < 55 {
		return Traceparent{}, errTPLength
	}
	v0, ok0 := unhex(s[0])
	v1, ok1 := unhex(s[1])
	if !ok0 || !ok1 {
		return Traceparent{}, errTPVersion
	}
	version := v0<<4 | v1
	if version == 0xff {
		return Traceparent{}, errTPVersion
	}
	if version == 0 && len(s) != 55 {
		return Traceparent{}, errTPLength
	}
	if len(s) > 55 && s[55] != '-' {
		return Traceparent{}, errTPFormat
	}
	if s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return Traceparent{}, errTPFormat
	}
	traceID, parentID := s[3:35], s[36:52]
	if !isLowerHex(traceID) || !isLowerHex(parentID) {
		return Traceparent{}, errTPHex
	}
	f0, okf0 := unhex(s[53])
	f1, okf1 := unhex(s[54])
	if !okf0 || !okf1 {
		return Traceparent{}, errTPHex
	}
	if isZeroHex(traceID) {
		return Traceparent{}, errTPZeroTID
	}
	if isZeroHex(parentID) {
		return Traceparent{}, errTPZeroSpan
	}
	return Traceparent{Version: version, TraceID: traceID, ParentID: parentID, Flags: f0<<4 | f1}, nil
}

// ValidTraceID reports whether s is a valid W3C trace-id: 32 lowercase hex
// digits, not all zero.
func ValidTraceID(s string) bool { return len(s) == 32 && isLowerHex(s) && !isZeroHex(s) }

// ValidSpanID reports whether s is a valid W3C parent-id/span-id: 16
// lowercase hex digits, not all zero.
func ValidSpanID(s string) bool { return len(s) == 16 && isLowerHex(s) && !isZeroHex(s) }

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isZeroHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// SanitizeTracestate validates a tracestate value for pass-through and
// returns the value to propagate, or ("", false) when it must be dropped.
// The content is opaque to pipelog; it is only checked so that a hostile
// value cannot smuggle anything through: printable ASCII only (no CR, LF or
// other control characters; tabs only as the spec's optional whitespace),
// every non-empty list member "key=value" with a lowercase key, at most 32
// members (more are truncated; more than 128 drop the whole value). A value longer than MaxTracestateLen is truncated by
// whole members (those over 128 characters dropped first, then from the
// end), as the W3C spec allows.
func SanitizeTracestate(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	members := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' || c > 0x7e { // HTAB is allowed as optional whitespace around members
			return "", false
		}
		if c == ',' {
			members++
		}
	}
	members++
	if members > maxTracestateMembers*4 {
		return "", false // absurd: refuse before splitting
	}
	// Every non-empty member must be well-formed, else the whole value is
	// dropped (the spec allows discarding a tracestate that fails to parse).
	n := 0
	for m := range strings.SplitSeq(s, ",") {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		if !validTracestateMember(m) {
			return "", false
		}
		n++
	}
	if n == 0 {
		return "", false
	}
	if len(s) <= MaxTracestateLen && members <= maxTracestateMembers {
		return s, true // the common case: passed through as is, no allocation
	}
	// Too long or too many members: truncate by whole members.
	var kept []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.Trim(m, " \t")
		if m != "" {
			kept = append(kept, m)
		}
	}
	if len(kept) > maxTracestateMembers {
		kept = kept[:maxTracestateMembers]
	}
	total := func() int {
		n := 0
		for i, m := range kept {
			if i > 0 {
				n++
			}
			n += len(m)
		}
		return n
	}
	if total() > MaxTracestateLen {
		short := kept[:0]
		for _, m := range kept {
			if len(m) <= maxTracestateMemberLen {
				short = append(short, m)
			}
		}
		kept = short
		for len(kept) > 0 && total() > MaxTracestateLen {
			kept = kept[:len(kept)-1]
		}
	}
	if len(kept) == 0 {
		return "", false
	}
	return strings.Join(kept, ","), true
}

func validTracestateMember(m string) bool {
	eq := strings.IndexByte(m, '=')
	if eq <= 0 || eq == len(m)-1 || eq > 256 {
		return false
	}
	for i := 0; i < eq; i++ { // key: lcalpha / digit / "_-*/" and one "@" for tenant@vendor
		c := m[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '*' || c == '/' || c == '@') {
			return false
		}
	}
	val := m[eq+1:]
	if len(val) > 256 {
		return false
	}
	return strings.IndexByte(val, '=') < 0 && strings.IndexByte(val, '\t') < 0
}

// ---- ID minting ----------------------------------------------------------

// Random IDs come from ChaCha8 generators (math/rand/v2), each seeded with
// 32 bytes from crypto/rand and kept in a sync.Pool so concurrent callers
// never share one. ChaCha8 is a cryptographically strong generator as long
// as its seed is secret, so the IDs are unpredictable, while minting costs
// a few tens of nanoseconds instead of a getrandom call per ID.
var rngPool = sync.Pool{New: func() any {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		panic("logctx: crypto/rand: " + err.Error()) // crypto/rand.Read does not fail on supported platforms
	}
	return mrand.NewChaCha8(seed)
}}

func randomFill(b []byte) {
	for {
		r := rngPool.Get().(*mrand.ChaCha8)
		_, _ = r.Read(b)
		rngPool.Put(r)
		for _, c := range b {
			if c != 0 {
				return
			}
		}
		// all zero (probability 2^-64 or less): invalid per W3C, draw again
	}
}

// NewTraceID returns a fresh random W3C trace-id: 32 lowercase hex digits,
// never all zero.
func NewTraceID() string {
	var raw [16]byte
	var out [32]byte
	randomFill(raw[:])
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// NewSpanID returns a fresh random W3C span-id (parent-id): 16 lowercase hex
// digits, never all zero.
func NewSpanID() string {
	var raw [8]byte
	var out [16]byte
	randomFill(raw[:])
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// NewCorrelationID returns a fresh correlation ID. It has the form of a W3C
// trace-id (32 lowercase hex digits, 128 random bits), so one minted ID can
// serve as both the correlation ID and the trace ID of a unit of work (a
// batch-job run, a request that arrived without one).
func NewCorrelationID() string { return NewTraceID() }

// newTraceAndSpan mints a trace-id and a span-id with one allocation.
func newTraceAndSpan() (traceID, spanID string) {
	var raw [24]byte
	var out [48]byte
	for {
		randomFill(raw[:])
		if !allZero(raw[:16]) && !allZero(raw[16:]) {
			break
		}
	}
	hex.Encode(out[:], raw[:])
	s := string(out[:])
	return s[:32], s[32:]
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ---- validation of correlation/request IDs ---------------------------------

// MaxIDLen is the longest correlation or request ID accepted from outside.
const MaxIDLen = 128

// ValidID reports whether s is acceptable as a correlation or request ID
// received from outside: 1 to MaxIDLen characters from [A-Za-z0-9._:-].
// Anything else (empty, too long, spaces, CR/LF, commas from merged
// headers, non-ASCII) is rejected.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// StartTrace returns a copy of ctx that starts a new trace: fresh trace and
// span IDs (the span is also the transaction), flagged sampled, tracestate
// cleared, and — unless ctx already has one — the trace ID as correlation
// ID. Use it at the root of a unit of work that did not arrive over a
// wire, such as a batch-job run: the returned trace ID is the run ID.
func StartTrace(ctx context.Context) context.Context {
	return update(ctx, func(v *Values) {
		v.TraceID, v.SpanID = newTraceAndSpan()
		v.TransactionID = v.SpanID
		v.TraceFlags, v.TraceState = FlagSampled, ""
		if v.CorrelationID == "" {
			v.CorrelationID = v.TraceID
		}
	})
}
