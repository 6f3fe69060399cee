package logctx

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"
)

// Carrier is a minimal text-map carrier for propagation headers: HTTP
// headers, message-broker headers, anything keyed by string. It has the same
// shape as OpenTelemetry's propagation.TextMapCarrier, so a value can serve
// both.
type Carrier interface {
	// Get returns the value for key, or "" when absent.
	Get(key string) string
	// Set stores key=value, replacing any previous value.
	Set(key, value string)
	// Keys lists the keys present.
	Keys() []string
}

// ValuesGetter is an optional Carrier extension that returns every value of
// a repeated key (HTTP headers may repeat). When a carrier implements it,
// Extract rejects conflicting duplicates exactly as the middleware does.
type ValuesGetter interface {
	Values(key string) []string
}

// MapCarrier adapts a map[string]string (message headers, metadata). Get
// matches keys exactly first, then case-insensitively.
type MapCarrier map[string]string

// Get implements Carrier.
func (m MapCarrier) Get(key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// Set implements Carrier.
func (m MapCarrier) Set(key, value string) { m[key] = value }

// Keys implements Carrier.
func (m MapCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// HeaderCarrier adapts an http.Header (keys are canonicalised as usual).
type HeaderCarrier http.Header

// Get implements Carrier.
func (h HeaderCarrier) Get(key string) string { return http.Header(h).Get(key) }

// Set implements Carrier.
func (h HeaderCarrier) Set(key, value string) { http.Header(h).Set(key, value) }

// Keys implements Carrier.
func (h HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// Values implements ValuesGetter.
func (h HeaderCarrier) Values(key string) []string { return http.Header(h).Values(key) }

// Inject writes the propagation values of ctx into c:
//
//   - traceparent: the trace ID and current span ID of ctx (an active OTel
//     span wins, see From) as parent-id; when ctx has no trace, one is
//     minted (its trace-id is the correlation ID when that is a valid
//     trace-id, so a run ID carries over);
//   - tracestate, when there is one;
//   - X-Correlation-ID: the correlation ID of ctx, or the trace ID.
//
// Unlike Transport, Inject does not mint a new span ID when ctx has one: a
// message is stamped with the span of the code that sends it, and the
// consumer's Extract starts a new span under it.
func Inject(ctx context.Context, c Carrier) {
	o := outgoingValues(ctx, false)
	c.Set(HeaderTraceparent, o.traceparent)
	if o.tracestate != "" {
		c.Set(HeaderTracestate, o.tracestate)
	}
	c.Set(HeaderCorrelationID, o.correlationID)
}

// Extract reads propagation values from c and returns a copy of ctx carrying
// them, validated exactly as Middleware validates HTTP headers: a valid
// traceparent is continued with a new span ID for this hop (its parent-id
// becomes ParentSpanID), an invalid one starts a fresh trace; a missing
// correlation ID becomes the trace ID, a malformed one (too long, bad
// characters, CR/LF, conflicting duplicates) is replaced by the trace ID too
// and never copied. The worker name and labels already in ctx are kept.
func Extract(ctx context.Context, c Carrier) context.Context {
	ctx = orBackground(ctx)
	h := &hop{v: stored(ctx)}
	extract(carrierSource{c}, h)
	return h.attach(ctx)
}

// ParentSpanID returns the span ID of the remote parent of the current hop,
// as received by Middleware or Extract in traceparent, or "".
func ParentSpanID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if p, ok := ctx.Value(parentKey{}).(*string); ok {
		return *p
	}
	return ""
}

type parentKey struct{}

// hop is what Middleware and Extract store for one incoming unit of work:
// the Values (under valuesKey) and the remote parent span (under parentKey),
// in one allocation.
type hop struct {
	v        Values
	parent   string
	rejected rejected
}

func (h *hop) attach(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, valuesKey{}, &h.v)
	if h.parent != "" {
		ctx = context.WithValue(ctx, parentKey{}, &h.parent)
	}
	return ctx
}

// rejected is a bit set of the incoming headers that failed validation.
type rejected uint8

const (
	rejectedTraceparent rejected = 1 << iota
	rejectedTracestate
	rejectedCorrelationID
	rejectedRequestID
)

func (r rejected) names() []string {
	if r == 0 {
		return nil
	}
	var out []string
	for _, x := range []struct {
		bit  rejected
		name string
	}{
		{rejectedTraceparent, HeaderTraceparent},
		{rejectedTracestate, HeaderTracestate},
		{rejectedCorrelationID, HeaderCorrelationID},
		{rejectedRequestID, HeaderRequestID},
	} {
		if r&x.bit != 0 {
			out = append(out, x.name)
		}
	}
	return out
}

// source abstracts where incoming values are read from.
type source interface {
	// single returns the one value of key; conflict is true when the key is
	// repeated with different values.
	single(key string) (v string, conflict bool)
	// list returns the values of a list-valued key joined with ",".
	list(key string) string
}

// headerSource reads an http.Header; keys must be canonical.
type headerSource http.Header

func (h headerSource) single(key string) (string, bool) { return singleOf(h[key]) }

func (h headerSource) list(key string) string {
	vals := h[key]
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return strings.Join(vals, ",")
}

type carrierSource struct{ c Carrier }

func (s carrierSource) single(key string) (string, bool) {
	if vg, ok := s.c.(ValuesGetter); ok {
		return singleOf(vg.Values(key))
	}
	return s.c.Get(key), false
}

func (s carrierSource) list(key string) string {
	if vg, ok := s.c.(ValuesGetter); ok {
		return strings.Join(vg.Values(key), ",")
	}
	return s.c.Get(key)
}

func singleOf(vals []string) (string, bool) {
	if len(vals) == 0 {
		return "", false
	}
	for _, v := range vals[1:] {
		if v != vals[0] {
			return "", true
		}
	}
	return vals[0], false
}

var (
	canonTraceparent   = textproto.CanonicalMIMEHeaderKey(HeaderTraceparent)
	canonTracestate    = textproto.CanonicalMIMEHeaderKey(HeaderTracestate)
	canonTraceresponse = textproto.CanonicalMIMEHeaderKey(HeaderTraceresponse)
	canonCorrelationID = textproto.CanonicalMIMEHeaderKey(HeaderCorrelationID)
	canonRequestID     = textproto.CanonicalMIMEHeaderKey(HeaderRequestID)
)

// keys names the four keys in the form src expects.
type keys struct{ traceparent, tracestate, correlationID, requestID string }

var (
	httpKeys    = keys{canonTraceparent, canonTracestate, canonCorrelationID, canonRequestID}
	carrierKeys = keys{HeaderTraceparent, HeaderTracestate, HeaderCorrelationID, HeaderRequestID}
)

// extract fills h from src (h.v starts as the values already in the
// context; its worker and labels are kept).
func extract(src source, h *hop) {
	k := carrierKeys
	if _, ok := src.(headerSource); ok {
		k = httpKeys
	}
	v := &h.v
	v.TraceState, v.RequestID, v.TransactionID = "", "", ""

	// traceparent, then tracestate (only parsed when traceparent is valid).
	tpOK := false
	if raw, conflict := src.single(k.traceparent); conflict {
		h.rejected |= rejectedTraceparent
	} else if raw != "" {
		if tp, err := ParseTraceparent(raw); err != nil {
			h.rejected |= rejectedTraceparent
		} else {
			tpOK = true
			v.TraceID, h.parent, v.TraceFlags = tp.TraceID, tp.ParentID, tp.Flags&knownFlags
			v.SpanID = NewSpanID()
			if ts := src.list(k.tracestate); ts != "" {
				if clean, ok := SanitizeTracestate(ts); ok {
					v.TraceState = clean
				} else {
					h.rejected |= rejectedTracestate
				}
			}
		}
	}
	if !tpOK {
		h.parent = ""
		v.TraceID, v.SpanID = newTraceAndSpan()
		v.TraceFlags = FlagSampled
	}
	// This service's part of the trace is one transaction (Elastic APM
	// terms): its ID is the hop's span ID.
	v.TransactionID = v.SpanID

	// X-Request-ID: kept as http.request.id when valid.
	reqRaw, reqConflict := src.single(k.requestID)
	reqPresent := reqRaw != "" || reqConflict
	if reqPresent {
		if !reqConflict && ValidID(reqRaw) {
			v.RequestID = reqRaw
		} else {
			h.rejected |= rejectedRequestID
		}
	}

	// X-Correlation-ID, else a valid X-Request-ID, else the trace ID. A
	// malformed header is replaced by the trace ID too, so that the ID the
	// response returns is the trace.id every event of the request carries,
	// whichever headers came.
	corRaw, corConflict := src.single(k.correlationID)
	switch {
	case corRaw != "" || corConflict:
		if !corConflict && ValidID(corRaw) {
			v.CorrelationID = corRaw
		} else {
			h.rejected |= rejectedCorrelationID
			v.CorrelationID = v.TraceID
		}
	case v.RequestID != "":
		v.CorrelationID = v.RequestID
	default:
		v.CorrelationID = v.TraceID
	}
}

// outgoing is what Inject and Transport write.
type outgoing struct {
	traceparent, tracestate, correlationID string
}

// outgoingValues computes the propagation values for a request or message
// sent under ctx. newSpan: mint a new span ID for the child hop (Transport)
// rather than use the current one (Inject).
func outgoingValues(ctx context.Context, newSpan bool) outgoing {
	v := From(ctx)
	traceID, spanID := v.TraceID, v.SpanID
	flags := v.TraceFlags & knownFlags
	state := ""
	if ValidTraceID(traceID) {
		state = v.TraceState
		if state == "" {
			state = otelTraceState(ctx)
		}
		if state != "" {
			state, _ = SanitizeTracestate(state)
		}
		if newSpan || !ValidSpanID(spanID) {
			spanID = NewSpanID()
		}
	} else {
		// No trace in ctx: start one. A correlation ID that is a valid
		// trace-id (NewCorrelationID's form, e.g. a batch run ID) becomes
		// the trace ID so the two line up.
		if ValidTraceID(v.CorrelationID) {
			traceID, spanID = v.CorrelationID, NewSpanID()
		} else {
			traceID, spanID = newTraceAndSpan()
		}
		flags = FlagSampled
	}
	corr := v.CorrelationID
	if !ValidID(corr) {
		corr = traceID
	}
	return outgoing{
		traceparent:   FormatTraceparent(traceID, spanID, flags),
		tracestate:    state,
		correlationID: corr,
	}
}
