package sink

// PreviousConsoleFormat is the console's previous implementation, for the
// external tests that compare it with lines from a real Logger.
func PreviousConsoleFormat(dst, line []byte, color bool, format string) []byte {
	return previousConsoleFormat(dst, line, color, format)
}
