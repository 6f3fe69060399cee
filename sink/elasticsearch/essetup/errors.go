package essetup

import (
	"fmt"
	"net/http"
	"strings"
)

// PrivilegeError says which privileges the user lacks; nothing was written.
type PrivilegeError struct {
	User    string
	Missing []string // "cluster:manage_ilm", "index:create_index on logs-x-default"
	Detail  string   // Elasticsearch's reason, when a request was refused
}

func (e *PrivilegeError) Error() string {
	s := "essetup: "
	if e.User != "" {
		s += "user " + e.User + " "
	} else {
		s += "the user "
	}
	s += "lacks the privilege"
	if len(e.Missing) > 1 {
		s += "s"
	}
	s += " " + strings.Join(e.Missing, ", ") + "; nothing was changed"
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *PrivilegeError) Unwrap() error { return ErrForbidden }

// StepError is a write that failed after others succeeded: it says what is
// installed and what is not, so nothing is half-installed silently. Run
// Setup again once the cause is fixed: it sends only what is missing.
type StepError struct {
	Done    []Request
	Failed  Request
	Pending []Request
	Err     error
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "essetup: %s failed: %v", e.Failed, e.Err)
	names := func(rs []Request) string {
		s := make([]string, len(rs))
		for i, r := range rs {
			s[i] = r.String()
		}
		return strings.Join(s, ", ")
	}
	if len(e.Done) > 0 {
		fmt.Fprintf(&b, "; done before it: %s", names(e.Done))
	}
	if len(e.Pending) > 0 {
		fmt.Fprintf(&b, "; not sent: %s", names(e.Pending))
	}
	b.WriteString("; run setup again once fixed")
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// ResponseError is a request Elasticsearch refused.
type ResponseError struct {
	Method, Path string
	Status       int
	Type, Reason string
}

func (e *ResponseError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, show(e.Path), e.Status, http.StatusText(e.Status))
	if e.Type != "" || e.Reason != "" {
		s += ": " + strings.TrimPrefix(e.Type+": "+e.Reason, ": ")
	}
	return s
}
