package logctx

import "net/http"

// Transport returns an http.RoundTripper that stamps every outgoing request
// with the propagation headers of its context, then sends it with base
// (http.DefaultTransport when nil):
//
//   - traceparent: the context's trace ID (an active OTel span wins) with a
//     NEW span ID for this hop as parent-id, and the context's flags
//     (reserved bits cleared); when the context has no trace, a new one is
//     started (its trace-id is the correlation ID when that is a valid
//     trace-id), flagged sampled;
//   - tracestate: passed on when there is one, removed otherwise;
//   - X-Correlation-ID: the context's correlation ID, else the trace ID.
//
// These headers replace any the caller set on the request. The request is
// cloned before its headers are changed, as the RoundTripper contract
// requires; the caller's request is left untouched.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct{ base http.RoundTripper }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	o := outgoingValues(req.Context(), true)
	r2 := req.Clone(req.Context())
	if r2.Header == nil {
		r2.Header = make(http.Header, 3)
	}
	r2.Header[canonTraceparent] = []string{o.traceparent}
	if o.tracestate != "" {
		r2.Header[canonTracestate] = []string{o.tracestate}
	} else {
		delete(r2.Header, canonTracestate)
	}
	r2.Header[canonCorrelationID] = []string{o.correlationID}
	return t.base.RoundTrip(r2)
}

// Unwrap returns the base RoundTripper.
func (t *transport) Unwrap() http.RoundTripper { return t.base }
