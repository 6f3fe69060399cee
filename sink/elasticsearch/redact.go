package elasticsearch

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/pipelog/pipelog/sink"
)

func urlPassword(u *url.URL) string { pw, _ := u.User.Password(); return pw }

// collectSecrets lists every credential string that must never be printed.
func collectSecrets(cfg Config) []string {
	var out []string
	add := func(v string) {
		if len(v) >= 3 {
			out = append(out, v)
		}
	}
	add(cfg.Password)
	add(cfg.APIKey)
	add(cfg.ServiceToken)
	if cfg.Username != "" || cfg.Password != "" {
		add(base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)))
	}
	for _, a := range cfg.Addresses {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
				add(url.QueryEscape(p))
				add(url.PathEscape(p))
			}
			add(u.User.String())
			add(base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + urlPassword(u))))
		}
	}
	for k, vs := range cfg.Header {
		switch strings.ToLower(k) {
		case "authorization", "x-api-key", "cookie":
			for _, v := range vs {
				add(v)
				if _, rest, ok := strings.Cut(v, " "); ok {
					add(rest)
				}
			}
		}
	}
	return out
}

type redactedError struct {
	msg  string
	kind error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.kind }

// redact returns err with every credential of the sink's Config replaced
// by "[REDACTED]" (see Redact).
func (s *Sink) redact(err error) error { return redactWith(err, s.secrets) }

// Redact returns err with every credential cfg holds (passwords, keys,
// tokens, the user:password of an address, in plain, escaped and base64
// forms, and credential headers) replaced by "[REDACTED]", for programs
// that print errors about a connection, such as pipelog setup and replay.
// The result still matches ErrQueueFull, ErrInvalidLine, sink.ErrClosed and
// context errors with errors.Is.
func Redact(err error, cfg Config) error { return redactWith(err, collectSecrets(cfg)) }

func redactWith(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, sec := range secrets {
		if strings.Contains(msg, sec) {
			msg = strings.ReplaceAll(msg, sec, "[REDACTED]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	var kind error
	for _, k := range []error{ErrQueueFull, ErrInvalidLine, sink.ErrClosed, context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	return &redactedError{msg: msg, kind: kind}
}

func (s *Sink) report(err error) {
	s.onError(s.redact(err))
}
