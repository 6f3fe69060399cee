package pipelog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/pipelog/pipelog/event"
)

// LevelHandler returns an http.Handler that reads and changes l's level at
// run time (the level of l and of every Logger derived from it), the way
// zap's AtomicLevel serves:
//
//	GET  → 200 {"level":"info"}
//	PUT  {"level":"debug"}  (or the form level=debug) → 200 {"level":"debug"}
//
// A body that is not such JSON or form, or a name event.ParseLevel does not
// know, is a 400 with {"error":"…"} saying what is wrong; the level is left
// as it was. Other methods get 405. Changing the level is an atomic store,
// safe while other goroutines emit; the level check of Emit stays one atomic
// load. Mount it where only operators reach it (an admin listener), since
// anyone who can PUT can turn on debug logging.
func (l *Logger) LevelHandler() http.Handler { return levelHandler{l} }

type levelHandler struct{ l *Logger }

type levelBody struct {
	Level *event.Level `json:"level"`
}

type levelError struct {
	Error string `json:"error"`
}

func (h levelHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		level, err := decodeLevel(w, r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, levelError{Error: err.Error()})
			return
		}
		h.l.SetLevel(level)
	default:
		w.Header().Set("Allow", "GET, PUT")
		writeJSON(w, http.StatusMethodNotAllowed, levelError{Error: "method " + r.Method + " not allowed: GET reads the level, PUT sets it"})
		return
	}
	level := h.l.Level()
	writeJSON(w, http.StatusOK, levelBody{Level: &level})
}

// decodeLevel reads a PUT body: JSON {"level":"…"} or, for a form content
// type, level=….
func decodeLevel(w http.ResponseWriter, r *http.Request) (event.Level, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return 0, fmt.Errorf("reading the form: %w", err)
		}
		s := r.PostForm.Get("level")
		if s == "" {
			return 0, errors.New(`the form has no level (want level=debug, info, warn or error)`)
		}
		return event.ParseLevel(strings.TrimSpace(s))
	}
	var body struct {
		Level *string `json:"level"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, errors.New(`empty body (want {"level":"debug"}, "info", "warn" or "error")`)
		}
		return 0, fmt.Errorf(`the body is not {"level":"…"}: %w`, err)
	}
	if body.Level == nil {
		return 0, errors.New(`the body has no "level" (want {"level":"debug"}, "info", "warn" or "error")`)
	}
	if dec.More() {
		return 0, errors.New(`more than one JSON value in the body`)
	}
	return event.ParseLevel(strings.TrimSpace(*body.Level))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
