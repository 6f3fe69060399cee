package event

import "fmt"

// sprint formats a panic value; a value whose String or Error method panics
// itself is reported rather than propagated.
func sprint(v any) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%T (formatting it panicked: %v)", v, r)
		}
	}()
	return fmt.Sprint(v)
}
